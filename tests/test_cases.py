"""Every case folder: invalid ones print exactly expected.txt and exit 1; valid ones pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from tests.conftest import case_dirs

INVALID = case_dirs("invalid")
VALID = case_dirs("valid")


def test_there_are_enough_invalid_cases() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize("case", INVALID, ids=[path.name for path in INVALID])
def test_invalid_case_reports_exactly_the_expected_problems(
    case: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    result = runner.invoke(main, ["validate", "datacenter.yaml"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (case / "expected.txt").read_text(encoding="utf-8")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", INVALID, ids=[path.name for path in INVALID])
def test_invalid_case_builds_nothing(
    case: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(case)
    out = tmp_path / "out"
    result = runner.invoke(main, ["build", "datacenter.yaml", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (case / "expected.txt").read_text(encoding="utf-8")
    assert not out.exists()


@pytest.mark.parametrize("case", VALID, ids=[path.name for path in VALID])
def test_valid_case_validates(case: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(case / "datacenter.yaml")])
    assert result.exit_code == 0, result.stderr
    for line in result.stderr.splitlines():
        assert ": warning: " in line
