"""The build-time Pod Security check: a chart whose pods its namespace would refuse stops the
build (exit 1), before anything is written."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chartgen.charts import ChartSource
from chartgen.cli import main
from chartgen.kinds import kinds, nginx
from chartgen.pod_security import check_chart_security_values
from tests.conftest import REPO


def test_the_hardened_defaults_meet_restricted() -> None:
    values = {
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
        },
    }
    assert check_chart_security_values(values, "restricted", "charts/web") == []


def test_escalation_breaks_restricted_but_not_baseline() -> None:
    values = {
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}},
    }
    problems = check_chart_security_values(values, "restricted", "charts/web")
    assert problems and all(problem.level == "restricted" for problem in problems)
    assert check_chart_security_values(values, "baseline", "charts/web") == []


def test_a_chart_that_breaks_its_level_stops_the_build(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = nginx.chart_source

    def privileged(*args: Any) -> ChartSource:
        chart: ChartSource = real(*args)
        values = {**chart.values, "securityContext": {"privileged": True}}
        return dataclasses.replace(chart, values=values)

    monkeypatch.setitem(kinds(), "nginx", dataclasses.replace(nginx.KIND, chart_source=privileged))
    out = tmp_path / "generated"
    result = runner.invoke(main, ["build", str(REPO / "datacenter.yaml"), "-o", str(out)])
    assert result.exit_code == 1
    assert "chartgen: pods would be refused by their namespace:" in result.stderr
    assert "chart charts/web" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
