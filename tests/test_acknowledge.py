"""`acknowledge:` in a service entry: a read warning is marked, counted, never hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.problems import ACKNOWLEDGEABLE, WARNING_RULES, Severity
from chartgen.schema import schema_text
from chartgen.validate import validate_file
from tests.conftest import REPO, case_dirs

DB_WARNING = (
    'services[1].database: the PostgreSQL of "cloud" runs one instance on node "worker2": '
    "a single point of failure behind its 2 replicas"
)


def _datacenter(tmp_path: Path, acknowledge: str) -> Path:
    """The repository's example, the Nextcloud entry given `acknowledge` (YAML, indented)."""
    text = _on_calico((REPO / "datacenter.yaml").read_text(encoding="utf-8"))
    anchor = "      backup: {storage: {class: nfs, size: 20Gi}}"
    anchor += "   # nightly pg_dump, the last 7 kept\n"
    assert anchor in text
    path = tmp_path / "datacenter.yaml"
    path.write_text(text.replace(anchor, anchor + acknowledge), encoding="utf-8")
    return path


def _on_calico(text: str) -> str:
    """The example on a CNI that enforces NetworkPolicies: only the warnings under test."""
    assert "  cni: flannel\n" in text
    return text.replace("  cni: flannel\n", "  cni: calico\n")


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def test_validate_lists_an_acknowledged_warning_as_acknowledged(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _datacenter(tmp_path, "    acknowledge: [single-point-of-failure-database]\n")
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    line = _line_of(path, "      storage: {class: local-worker2")  # the database block
    assert result.stderr == f"{path}:{line}:7: acknowledged: {DB_WARNING}\n"


def test_build_counts_acknowledged_warnings_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = _datacenter(
        tmp_path,
        "    acknowledge:\n      single-point-of-failure-database: one PostgreSQL is enough here\n",
    )
    result = runner.invoke(main, ["build", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "1 acknowledged warning; chartgen validate lists them\n"


def test_json_marks_the_acknowledged_warning_and_names_its_rule(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _datacenter(tmp_path, "    acknowledge: [single-point-of-failure-database]\n")
    result = runner.invoke(main, ["validate", "--output", "json", str(path)])
    document = json.loads(result.stdout)
    assert document["acknowledged"] == 1
    (problem,) = document["problems"]
    assert problem["rule"] == "single-point-of-failure-database"
    assert problem["acknowledged"] is True
    assert problem["severity"] == "warning"


@pytest.mark.parametrize(
    ("acknowledge", "path"),
    [
        ("    acknowledge: [database-on-nfs]\n", "services[1].acknowledge[0]"),
        (
            "    acknowledge: {database-on-nfs: the class is local}\n",
            "services[1].acknowledge.database-on-nfs",
        ),
    ],
)
def test_an_acknowledgement_the_service_does_not_earn_is_a_warning(
    runner: CliRunner, tmp_path: Path, acknowledge: str, path: str
) -> None:
    file = _datacenter(tmp_path, acknowledge)
    result = runner.invoke(main, ["validate", str(file)])
    assert result.exit_code == 0
    assert f": warning: {DB_WARNING}\n" in result.stderr  # not acknowledged: still warned
    assert (
        f': warning: {path}: "cloud" raises no database-on-nfs warning: remove this '
        "acknowledgement\n" in result.stderr
    )


def test_an_acknowledgement_names_its_own_service_only(tmp_path: Path) -> None:
    """The web service does not acknowledge what the Nextcloud raises."""
    text = _on_calico((REPO / "datacenter.yaml").read_text(encoding="utf-8"))
    anchor = "    expose: {host: web.mytinydc.lan}\n"
    path = tmp_path / "datacenter.yaml"
    path.write_text(
        text.replace(anchor, anchor + "    acknowledge: [single-point-of-failure-database]\n"),
        encoding="utf-8",
    )
    validation = validate_file(str(path))
    assert not any(problem.acknowledged for problem in validation.problems)
    assert [problem.rule for problem in validation.problems] == [
        "stale-acknowledgement",
        "single-point-of-failure-database",
    ]


@pytest.mark.parametrize("case", case_dirs("valid"), ids=lambda path: path.name)
def test_every_warning_carries_a_known_rule_id(case: Path) -> None:
    known = {rule for rule, _ in WARNING_RULES}
    for problem in validate_file(str(case / "datacenter.yaml")).problems:
        assert problem.severity is Severity.WARNING
        assert problem.rule in known, problem.format()


def test_the_schema_and_the_readme_name_every_acknowledgeable_id() -> None:
    common = json.loads(schema_text())["$defs"]["serviceCommon"]["properties"]["acknowledge"]
    assert common["oneOf"][0]["items"]["enum"] == list(ACKNOWLEDGEABLE)
    assert common["oneOf"][1]["propertyNames"]["enum"] == list(ACKNOWLEDGEABLE)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for rule, _ in WARNING_RULES:
        assert f"`{rule}`" in readme, rule
