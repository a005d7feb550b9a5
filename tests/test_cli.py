"""The command line contract: help, exit codes, schema, init, version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion

from chartgen.cli import main
from chartgen.validate import validate_file
from tests.conftest import REPO

COMMANDS = [
    "validate",
    "build",
    "schema",
    "init",
    "join-config",
    "diff",
    "graph",
    "install",
    "uninstall",
    "status",
    "rollback",
    "import compose",
]


def test_main_help_snapshot(runner: CliRunner, snapshot_text: SnapshotAssertion) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert result.output == snapshot_text


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_snapshot(
    command: str, runner: CliRunner, snapshot_text: SnapshotAssertion
) -> None:
    result = runner.invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert result.output == snapshot_text


def test_wrong_usage_exits_2(runner: CliRunner) -> None:
    assert runner.invoke(main, ["build", "--no-such-option"]).exit_code == 2
    assert runner.invoke(main, ["no-such-command"]).exit_code == 2


def test_missing_file_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(main, ["validate", str(missing)])
    assert result.exit_code == 1
    assert result.stderr == f"{missing}:1:1: cannot read the file: No such file or directory\n"


def test_validate_prints_warnings_and_succeeds(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(REPO / "datacenter.yaml")])
    assert result.exit_code == 0
    assert "warning: services[1].database:" in result.stderr
    assert "single point of failure" in result.stderr


def test_single_replica_is_named_a_single_point_of_failure(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (
        (REPO / "datacenter.yaml").read_text().replace("    replicas: 2\n", "    replicas: 1\n", 1)
    )
    (tmp_path / "dc.yaml").write_text(text)
    result = runner.invoke(main, ["validate", str(tmp_path / "dc.yaml")])
    assert result.exit_code == 0
    assert (
        f'{tmp_path / "dc.yaml"}:29:15: warning: services[0].replicas: "web" runs 1 replica: '
        "a single point of failure\n"
    ) in result.stderr


def test_schema_command_prints_the_packaged_schema(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(
        (REPO / "schemas" / "datacenter.schema.json").read_text()
    )


def test_init_writes_a_valid_example_and_its_schema(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "datacenter.yaml"
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    first_line = target.read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=datacenter.schema.json"
    assert (tmp_path / "datacenter.schema.json").is_file()
    assert validate_file(str(target)).ok


def test_init_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "datacenter.yaml"
    target.write_text("mine\n")
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 1
    assert "exists; not overwriting it" in result.stderr
    assert target.read_text() == "mine\n"


def test_version_names_the_helm_it_uses(runner: CliRunner) -> None:
    helm = REPO / ".tools" / "bin" / "helm"
    result = runner.invoke(main, ["--helm", str(helm), "--version"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "chartgen 0.1.0",
        f"helm v4.1.4 ({helm}, from --helm)",
    ]


def test_version_with_a_helm_that_is_not_there(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--helm", str(tmp_path / "helm"), "--version"])
    assert result.exit_code == 0
    assert "is not an executable file" in result.output


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "chartgen", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert "Usage:" in done.stdout


TOKEN = "abcdef.0123456789abcdef"
CA_HASH = "sha256:" + "ab" * 32
SECRETS = ["--token", TOKEN, "--ca-cert-hash", CA_HASH]


def test_join_config_prints_a_worker_join_file_with_its_secrets(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["join-config", "worker1", "-o", str(REPO / "generated"), *SECRETS],
    )
    assert result.exit_code == 0, result.stderr
    assert "kind: JoinConfiguration" in result.stdout
    assert f"token: {TOKEN}" in result.stdout
    assert CA_HASH in result.stdout
    assert "REPLACE_WITH" not in result.stdout


def test_join_config_refuses_an_unknown_node(runner: CliRunner) -> None:
    result = runner.invoke(
        main,
        ["join-config", "worker9", "-o", str(REPO / "generated"), *SECRETS],
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "chartgen: unknown node 'worker9'; nodes that join: worker1, worker2\n"


def test_join_config_refuses_the_init_node(runner: CliRunner) -> None:
    result = runner.invoke(main, ["join-config", "master", "-o", str(REPO / "generated"), *SECRETS])
    assert result.exit_code == 1
    assert "it runs `kubeadm init`" in result.stderr


def test_join_config_from_the_tree_equals_the_one_from_the_model(runner: CliRunner) -> None:
    from chartgen.kubeadm import join_config as from_model

    validation = validate_file(str(REPO / "datacenter.yaml"))
    assert validation.datacenter is not None
    result = runner.invoke(
        main, ["join-config", "worker2", "-o", str(REPO / "generated"), *SECRETS]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == from_model(validation.datacenter, "worker2", TOKEN, CA_HASH, None)


def test_join_config_needs_a_built_tree(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["join-config", "worker1", "-o", str(tmp_path), *SECRETS])
    assert result.exit_code == 1
    assert "run `chartgen build` first" in result.stderr
