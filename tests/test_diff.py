"""`chartgen diff`: a unified diff of what a build would change, exit 1 when anything would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from tests.conftest import REPO

URL = "https://git.example.com/me/datacenter.git"


@pytest.fixture
def workspace(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository-like folder: datacenter.yaml and its built `generated/`, as the cwd."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "datacenter.yaml", tmp_path / "datacenter.yaml")
    assert runner.invoke(main, ["build"]).exit_code == 0
    return tmp_path


def test_an_up_to_date_folder_gives_no_diff(runner: CliRunner, workspace: Path) -> None:
    result = runner.invoke(main, ["diff"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "generated is up to date" in result.stderr


def test_a_changed_input_shows_the_changed_lines(runner: CliRunner, workspace: Path) -> None:
    source = workspace / "datacenter.yaml"
    source.write_text(source.read_text().replace("replicas: 2\n", "replicas: 3\n", 1))
    result = runner.invoke(main, ["diff"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    header = lines.index("--- a/generated/charts/web/values.yaml")
    assert lines[header + 1] == "+++ b/generated/charts/web/values.yaml"
    assert lines[header + 2].startswith("@@ ")
    assert "-replicaCount: 2" in lines
    assert "+replicaCount: 3" in lines
    assert "--- a/generated/.chartgen-manifest.json" in lines
    assert "\x1b[" not in result.stdout  # not a terminal: no colour


def test_the_diff_applies_with_git(runner: CliRunner, workspace: Path) -> None:
    source = workspace / "datacenter.yaml"
    source.write_text(source.read_text().replace("replicas: 2\n", "replicas: 3\n", 1))
    (workspace / "generated" / "kubeadm" / "join-worker1.yaml").unlink()
    patch = runner.invoke(main, ["diff"]).stdout
    done = subprocess.run(
        ["git", "apply", "-"],
        input=patch,
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert runner.invoke(main, ["diff"]).exit_code == 0
    assert runner.invoke(main, ["build", "--check"]).exit_code == 0


def test_missing_and_extra_files(runner: CliRunner, workspace: Path) -> None:
    flux = ["--gitops", "flux", "--repo-url", URL]
    assert runner.invoke(main, ["build", *flux]).exit_code == 0
    (workspace / "generated" / "kubeadm" / "README.md").unlink()
    result = runner.invoke(main, ["diff"])  # without --gitops: the Flux files would go
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "--- a/generated/gitops/flux/source.yaml" in lines
    assert lines[lines.index("--- a/generated/gitops/flux/source.yaml") + 1] == "+++ /dev/null"
    assert "--- /dev/null" in lines
    assert "+++ b/generated/kubeadm/README.md" in lines


def test_files_chartgen_does_not_own_are_not_shown(runner: CliRunner, workspace: Path) -> None:
    (workspace / "generated" / "NOTES.md").write_text("mine\n")
    result = runner.invoke(main, ["diff"])
    assert result.exit_code == 0
    assert result.stdout == ""


def test_colour_on_request(runner: CliRunner, workspace: Path) -> None:
    values = workspace / "generated" / "charts" / "web" / "values.yaml"
    values.write_text(values.read_text() + "extra: true\n")
    result = runner.invoke(main, ["diff", "--color"])
    assert result.exit_code == 1
    assert "\x1b[31m-extra: true\x1b[0m" in result.stdout
    assert "\x1b[1m--- a/generated/charts/web/values.yaml\x1b[0m" in result.stdout
    assert "\x1b[36m@@ " in result.stdout


def test_an_invalid_input_is_reported_like_build(runner: CliRunner, workspace: Path) -> None:
    source = workspace / "datacenter.yaml"
    source.write_text(source.read_text().replace("replicas: 2\n", "replicas: -1\n", 1))
    result = runner.invoke(main, ["diff"])
    assert result.exit_code == 1
    assert "services[0].replicas: -1 is less than the minimum of 0" in result.stderr
    assert result.stdout == ""
