"""Shared test helpers: case discovery and the CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

CASES = Path(__file__).parent / "cases"
REPO = Path(__file__).parent.parent


def case_dirs(kind: str) -> list[Path]:
    return sorted(path for path in (CASES / kind).iterdir() if (path / "datacenter.yaml").is_file())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


class TextFileSnapshot(SingleFileSnapshotExtension):
    """One readable text file per snapshot, so a review shows a plain diff."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def snapshot_text(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TextFileSnapshot)
