"""The benchmark runs (on the smallest size, one round); its table and verdict are right.

Timings are not asserted: they depend on the machine and its load (`make bench` does that).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.datacenters import app_datacenter_text, datacenter_text
from benchmarks.measure import Sample, Series, file_costs
from benchmarks.report import Row, all_passed, at_most, linear, table
from chartgen.kinds.app import AppService
from chartgen.loader import load_text
from chartgen.validate import validate_document
from tests.conftest import REPO


def _series(*seconds: float) -> Series:
    return Series(tuple(Sample(value, 10.0) for value in seconds))


@pytest.mark.parametrize("text", [datacenter_text, app_datacenter_text], ids=["nginx", "app"])
def test_synthetic_datacenter_is_valid_with_the_asked_service_count(
    text: Callable[[int], str],
) -> None:
    loaded = load_text(text(20), "bench.yaml")
    assert loaded.document is not None, loaded.problems
    validation = validate_document(loaded.document)
    assert validation.datacenter is not None, validation.problems
    assert len(validation.datacenter.services) == 20


def test_the_app_datacenter_has_every_workload_kind() -> None:
    loaded = load_text(app_datacenter_text(20), "bench.yaml")
    assert loaded.document is not None
    validation = validate_document(loaded.document)
    assert validation.datacenter is not None
    assert {service.type for service in validation.datacenter.services} == {"app"}
    apps = [s for s in validation.datacenter.services if isinstance(s, AppService)]
    assert len(apps) == 20
    kinds = {service.workload for service in apps}
    assert kinds == {"deployment", "statefulset", "daemonset", "cronjob"}


def test_a_ratio_over_its_limit_fails_and_the_run_fails() -> None:
    floor = _series(0.2, 0.3, 0.1)
    good = at_most("fast", _series(0.3, 0.4, 0.5), floor, 2.0, "floor")
    bad = at_most("slow", _series(0.5, 0.6, 0.7), floor, 2.0, "floor")
    assert (good.ratio, good.passed) == ("2.00x", True)
    assert (bad.ratio, bad.passed) == ("3.00x", False)
    assert all_passed([good, Row("reference", floor)])
    assert not all_passed([good, bad])


def test_a_quadratic_cost_breaks_linearity() -> None:
    sizes = (20, 200, 1000)
    assert linear(sizes, (0.4, 2.2, 10.2), 1.5).passed  # 10 ms per service each step
    assert not linear(sizes, (0.4, 2.2, 40.0), 1.5).passed  # the last step dearer per service


def test_table_has_a_header_and_one_line_per_row() -> None:
    rows = [Row("floor", _series(0.2), "1.00x", "reference"), Row("memory", value="30 MB")]
    lines = table(rows).splitlines()
    assert lines[0] == "| measure | median | min | max | ratio | target | result |"
    assert lines[2] == "| floor | 200 ms | 200 ms | 200 ms | 1.00x | reference |  |"
    assert lines[3] == "| memory | 30 MB |  |  |  |  |  |"


def test_benchmark_runs_on_the_smallest_size() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--sizes", "20", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: a target missed, not a crash
    measures = [line.split(" | ")[0] for line in done.stdout.splitlines() if line.startswith("|")]
    assert len(measures) == 2 + 16, done.stdout  # header, separator, rows
    assert "| `chartgen build`, 20 services: per service" in measures
    assert "| files rewritten by a no-op build (20 services)" in measures
    assert "| files rewritten by a no-op build (20 services) | 0 |" in done.stdout
    assert "| file system of the work folder, per file: create vs hard link" in measures


def test_file_costs_time_creating_and_linking(tmp_path: Path) -> None:
    costs = file_costs(tmp_path / "costs", count=20)
    assert costs.create > 0 and costs.link > 0
    names = sorted(path.name for path in (tmp_path / "costs").iterdir())
    assert len(names) == 40
    assert (tmp_path / "costs" / "link-7").stat().st_ino == (
        tmp_path / "costs" / "file-7"
    ).stat().st_ino
