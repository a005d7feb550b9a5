"""`chartgen install --dry-run` with no cluster: an offline preview, said to be one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.plan import read_plan
from tests.conftest import REPO
from tests.install_fixtures import build_tree
from tests.kube_emulator import kubeconfig_text


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree((REPO / "datacenter.yaml").read_text(), tmp_path_factory.mktemp("offline"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_kubeconfig(tmp_path: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(tmp_path / "absent")}


def _silent_cluster(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "kubeconfig"
    config.write_text(kubeconfig_text(f"http://127.0.0.1:{_closed_port()}"))
    return {"KUBECONFIG": str(config)}


@pytest.mark.parametrize(
    ("environment", "why"),
    [(_no_kubeconfig, "no kubeconfig"), (_silent_cluster, "cluster unreachable")],
)
def test_dry_run_without_a_cluster_previews_offline(
    tree: Path, tmp_path: Path, environment: object, why: str
) -> None:
    env = environment(tmp_path)  # type: ignore[operator]
    result = CliRunner().invoke(main, ["install", "--dry-run", str(tree)], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"chartgen: {why}")
    assert "OFFLINE preview: each release rendered by `helm template`" in result.stderr
    plan = read_plan(tree)
    for release in plan.releases:
        header = f"# release {release.name} (namespace {release.namespace})"
        if release.repository is None:
            assert f"{header}, offline\n" in result.stdout
        else:
            assert f"{header}: not previewed: chart {release.chart}" in result.stdout
            assert f"{release.repository}: not fetched offline" in result.stderr
    documents = [d for d in YAML(typ="safe").load_all(result.stdout) if d]
    web = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "web-nginx"
    ]
    assert web, "the web chart's Deployment, as helm template renders it"
    assert web[0]["metadata"]["namespace"] == "web"
    local = sum(release.repository is None for release in plan.releases)
    assert result.stderr.endswith(
        f"offline preview: {local} of {len(plan.releases)} releases rendered\n"
    )


def test_install_without_a_cluster_still_fails(tree: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["install", str(tree)], env=_no_kubeconfig(tmp_path))
    assert result.exit_code == 1
    assert "OFFLINE" not in result.output
    assert result.stdout == ""
