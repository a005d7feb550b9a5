"""Editor, shell and script support: the schema for yaml-language-server, Click's shell
completion for bash, zsh and fish, and `validate --output json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from tests.conftest import REPO

# The console script that `pip install` puts beside the interpreter running the tests.
CHARTGEN = Path(sys.executable).parent / "chartgen"

# The keywords yaml-language-server understands: it validates with the JSON Schema draft-07
# vocabulary (its support of 2019-09/2020-12-only keywords is partial), plus `$defs`, which it
# resolves through `$ref` like any JSON pointer. The schema must keep to them, or editors
# would silently check less than `chartgen validate` does.
EDITOR_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "default",
    "examples", "type", "enum", "const", "properties", "required", "additionalProperties",
    "patternProperties", "propertyNames", "minProperties", "maxProperties", "items",
    "minItems", "maxItems", "uniqueItems", "contains", "pattern", "minLength", "maxLength",
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependencies",
}  # fmt: skip
# Where a schema holds names chosen by its author rather than keywords.
NAMED = {"properties", "$defs", "patternProperties"}


def _keywords(schema: Any) -> Iterator[str]:
    if isinstance(schema, list):
        for item in schema:
            yield from _keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            if key in NAMED:
                for sub in value.values():
                    yield from _keywords(sub)
            elif key not in ("enum", "const", "default", "examples", "required"):
                yield from _keywords(value)


def test_the_schema_keeps_to_what_yaml_language_server_reads(runner: CliRunner) -> None:
    schema = json.loads(runner.invoke(main, ["schema"]).stdout)
    used = set(_keywords(schema))
    assert "properties" in used
    assert used <= EDITOR_KEYWORDS, used - EDITOR_KEYWORDS


def test_init_points_the_editor_at_the_schema_beside_it(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "dc" / "datacenter.yaml"
    target.parent.mkdir()
    assert runner.invoke(main, ["init", str(target)]).exit_code == 0
    modeline = target.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert modeline.startswith(prefix)
    schema_file = target.parent / modeline.removeprefix(prefix)  # relative to the file
    assert json.loads(schema_file.read_text()) == json.loads(runner.invoke(main, ["schema"]).stdout)


# Shell completion (Click's mechanism: the _CHARTGEN_COMPLETE variable) -----------------------


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")],
)
def test_completion_scripts(runner: CliRunner, shell: str, marker: str) -> None:
    result = runner.invoke(
        main, [], prog_name="chartgen", env={"_CHARTGEN_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0
    assert marker in result.stdout
    assert "_CHARTGEN_COMPLETE" in result.stdout


def _complete(runner: CliRunner, shell: str, words: str) -> str:
    env = {"_CHARTGEN_COMPLETE": f"{shell}_complete", "COMP_WORDS": words}
    incomplete = "" if words.endswith(" ") else words.split()[-1]
    if shell == "fish":  # fish passes the word being completed, the others its index
        env["COMP_CWORD"] = incomplete
    else:
        env["COMP_CWORD"] = str(len(words.split()) - (1 if incomplete else 0))
    result = runner.invoke(main, [], prog_name="chartgen", env=env)
    assert result.exit_code == 0
    return result.stdout


def test_commands_and_choices_complete(runner: CliRunner) -> None:
    assert "plain,diff" in _complete(runner, "bash", "chartgen di").splitlines()
    assert "plain,graph" in _complete(runner, "bash", "chartgen gr").splitlines()
    flux = _complete(runner, "zsh", "chartgen build --gitops f")
    assert "flux" in flux.splitlines()
    assert "mermaid" in _complete(runner, "fish", "chartgen graph --format m")


def test_node_and_service_arguments_complete_from_the_datacenter_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _complete(runner, "bash", "chartgen join-config ").split() == []  # no file: nothing
    (tmp_path / "datacenter.yaml").write_text((REPO / "datacenter.yaml").read_text())
    nodes = _complete(runner, "bash", "chartgen join-config w").splitlines()
    assert nodes == ["plain,worker1", "plain,worker2"]
    services = _complete(runner, "zsh", "chartgen rollback ").splitlines()
    assert [line for line in services if line not in ("plain", "_")] == ["web", "cloud"]
    # backup and restore: only the Nextcloud services (the others have no database to dump).
    assert _complete(runner, "bash", "chartgen backup ").splitlines() == ["plain,cloud"]
    assert _complete(runner, "fish", "chartgen restore c").splitlines() == ["plain,cloud"]
    (tmp_path / "datacenter.yaml").write_text("nodes: [\n")  # broken YAML: nothing, no error
    assert _complete(runner, "bash", "chartgen join-config ").split() == []


def test_bash_completes_through_the_real_shell(tmp_path: Path) -> None:
    env = {**os.environ, "_CHARTGEN_COMPLETE": "bash_source"}
    script = subprocess.run(
        [str(CHARTGEN)], env=env, capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "chartgen.bash").write_text(script)
    probe = (
        f'PATH="{CHARTGEN.parent}:$PATH"\n'
        f"source {tmp_path / 'chartgen.bash'}\n"
        "COMP_WORDS=(chartgen build --gitops ''); COMP_CWORD=3\n"
        "_chartgen_completion chartgen '' --gitops\n"  # as bash calls it: command, word, previous
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["argocd", "flux"]


# validate --output json ---------------------------------------------------------------------


def test_validate_json_for_a_valid_file(runner: CliRunner) -> None:
    source = str(REPO / "datacenter.yaml")
    result = runner.invoke(main, ["validate", source, "--output", "json"])
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert (document["errors"], document["warnings"]) == (0, 2)
    assert document["problems"] == [
        {
            "file": source,
            "line": 13,
            "column": 8,
            "path": "cluster.cni",
            "message": "flannel enforces no NetworkPolicy, and the charts rely on theirs: any pod "
            'of the cluster can reach the PostgreSQL and Redis of "cloud"; and every port of the '
            'pods of "web". Choose calico or cilium to enforce them',
            "severity": "warning",
            "rule": "network-policies-unenforced",
            "acknowledged": False,
        },
        {
            "file": source,
            "line": 38,
            "column": 7,
            "path": "services[1].database",
            "message": 'the PostgreSQL of "cloud" runs one instance on node "worker2": a single '
            "point of failure behind its 2 replicas",
            "severity": "warning",
            "rule": "single-point-of-failure-database",
            "acknowledged": False,
        },
    ]


def test_validate_json_for_an_invalid_file(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "dc.yaml"
    text = (REPO / "datacenter.yaml").read_text().replace("replicas: 2\n", "replicas: -1\n", 1)
    source.write_text(text)
    result = runner.invoke(main, ["validate", str(source), "--output", "json"])
    assert result.exit_code == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["errors"] == 1
    problem = document["problems"][0]
    assert problem["severity"] == "error"
    assert (problem["line"], problem["column"], problem["path"]) == (29, 15, "services[0].replicas")
    text_result = runner.invoke(main, ["validate", str(source)])
    assert text_result.stderr.splitlines()[0] == (
        f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['path']}: "
        f"{problem['message']}"
    )


def test_validate_json_for_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.yaml"), "--output", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["message"].startswith("cannot read the file")


# pre-commit ---------------------------------------------------------------------------------


def test_the_pre_commit_hook_runs_build_check(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe", pure=True).load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(hook for hook in hooks if hook["id"] == "chartgen-check")
    assert hook["pass_filenames"] is False
    program, *arguments = hook["entry"].split()
    assert program == "chartgen"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "datacenter.yaml").write_text((REPO / "datacenter.yaml").read_text())
    assert runner.invoke(main, arguments).exit_code == 1  # nothing built yet
    assert runner.invoke(main, ["build"]).exit_code == 0
    assert runner.invoke(main, arguments).exit_code == 0


# One meaning per option letter: -o is where output goes, --format how it is printed -----------


def test_format_is_format_and_o_points_there(runner: CliRunner) -> None:
    source = str(REPO / "datacenter.yaml")
    by_format = runner.invoke(main, ["validate", source, "--format", "json"])
    assert by_format.exit_code == 0
    assert json.loads(by_format.stdout)["valid"] is True
    older = runner.invoke(main, ["validate", source, "--output", "json"])  # scripts keep working
    assert older.stdout == by_format.stdout
    for command in (["validate", source], ["status"]):
        refused = runner.invoke(main, [*command, "-o", "json"])
        assert refused.exit_code == 2
        assert "-o names an output folder or file; the format is --format" in refused.stderr


def test_init_says_when_it_kept_an_existing_schema(runner: CliRunner, tmp_path: Path) -> None:
    schema = tmp_path / "datacenter.schema.json"
    schema.write_text('{"mine": true}\n')
    result = runner.invoke(main, ["init", str(tmp_path / "datacenter.yaml")])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path / 'datacenter.yaml'}",
        f"kept {schema}: it exists and is not this chartgen's schema (`chartgen schema > "
        f"{schema}` replaces it; editors check the example against it)",
    ]
    assert schema.read_text() == '{"mine": true}\n'
    schema.write_text(runner.invoke(main, ["schema"]).stdout)
    again = runner.invoke(main, ["init", str(tmp_path / "other.yaml")])
    assert (
        again.stdout.splitlines()[-1] == f"kept {schema}: it exists and is this chartgen's schema"
    )
