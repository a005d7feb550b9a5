"""What the chart test modules share: the helm they run, the datacenters they load, the
`chartgen build` they call, and the manifests they parse."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.model import Datacenter
from chartgen.validate import validate_file
from tests.conftest import REPO

HELM = os.environ.get("CHARTGEN_HELM") or str(REPO / ".tools" / "bin" / "helm")


def helm(*args: str) -> str:
    done = subprocess.run([HELM, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def documents(manifest: str) -> tuple[dict[str, Any], ...]:
    """The objects of a multi-document manifest, empty documents left out."""
    return tuple(item for item in YAML(typ="safe", pure=True).load_all(manifest) if item)


def load_datacenter(path: Path) -> Datacenter:
    validation = validate_file(str(path))
    assert validation.datacenter is not None, [p.format() for p in validation.problems]
    return validation.datacenter


def build(datacenter: Path, out: Path) -> None:
    """`chartgen build`, the way users make the charts."""
    result = CliRunner().invoke(main, ["build", str(datacenter), "-o", str(out)])
    assert result.exit_code == 0, result.output
