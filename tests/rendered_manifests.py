"""`helm template` of every chart of the valid cases, for the scans that need rendered objects.

The 200-service case is rendered on a sample of its charts: they all come from the same
blueprint (its values differ in ways the other cases cover), and 200 renders would add minutes.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.model import Datacenter
from chartgen.validate import validate_file
from tests.conftest import REPO, case_dirs

HELM = os.environ.get("CHARTGEN_HELM") or str(REPO / ".tools" / "bin" / "helm")
VALID = case_dirs("valid")
SAMPLED = {"nginx-200"}
# The first charts of the sampled case, plus one representative that uses every option.
SAMPLE_FIRST = 3


@dataclass(frozen=True)
class Release:
    """One release of a case as releases.yaml plans it, and what `helm template` renders."""

    case: str
    name: str
    namespace: str
    chart: Path
    manifest: str

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [item for item in YAML(typ="safe", pure=True).load_all(self.manifest) if item]


def load(case: Path) -> Datacenter:
    validation = validate_file(str(case / "datacenter.yaml"))
    assert validation.datacenter is not None, [p.format() for p in validation.problems]
    return validation.datacenter


def helm(*args: str) -> str:
    done = subprocess.run([HELM, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"helm {' '.join(args)}\n{done.stderr}"
    return done.stdout


def render_case(case: Path, out: Path) -> list[Release]:
    """Builds the case with the CLI, then renders its releases (a sample for SAMPLED cases)."""
    result = CliRunner().invoke(main, ["build", str(case / "datacenter.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    plan = YAML(typ="safe", pure=True).load((out / "releases.yaml").read_text(encoding="utf-8"))
    # The platform's upstream charts live in their repositories, out of reach here: what
    # chartgen writes for them (values) is tested on its own.
    releases = [entry for entry in plan["releases"] if "repository" not in entry]
    if case.name in SAMPLED:
        releases = _sample(releases, out)
    return [
        Release(
            case.name,
            entry["name"],
            entry["namespace"],
            out / entry["chart"],
            helm("template", entry["name"], str(out / entry["chart"]), "-n", entry["namespace"]),
        )
        for entry in releases
    ]


def _sample(releases: list[dict[str, Any]], out: Path) -> list[dict[str, Any]]:
    def uses_everything(entry: dict[str, Any]) -> bool:
        values = YAML(typ="safe", pure=True).load(out / entry["chart"] / "values.yaml")
        return bool(
            values.get("ingress", {}).get("enabled")
            and values.get("autoscaling", {}).get("enabled")
        )

    representative = next(entry for entry in releases if uses_everything(entry))
    sample = releases[:SAMPLE_FIRST]
    return sample if representative in sample else [*sample, representative]
