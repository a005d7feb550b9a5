"""`chartgen install` of the platform layer: the upstream charts from a Helm repository, in
order, each chartgen chart once its CRDs are Established, upgrades, and uninstall keeping the
platform unless asked.

The real helm runs against the emulated Kubernetes API (tests/kube_emulator.py); the upstream
charts are stand-ins of the same names and versions, declaring the same CRDs, served by a chart
repository on loopback (tests/chart_repository.py). The tree's releases.yaml is pointed at that
repository, as a mirror of the real ones would be.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.helm_args import ChangeOptions
from chartgen.install import Progress, Session
from chartgen.install import install as install_releases
from chartgen.plan import read_plan
from chartgen.tools import find_helm
from tests.chart_repository import ChartRepository, serve_charts
from tests.conftest import REPO
from tests.install_fixtures import (
    StartCluster,
    build_tree,
    cluster,
    helm_env,
    point_releases_at,
    postgres,
    stand_ins,
    start_emulated,
)
from tests.kube_emulator import EmulatedCluster

__all__ = ["cluster", "helm_env", "postgres", "start_emulated"]  # fixtures used by name


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    return yaml


def _chartgen(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(argv))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _results(stdout: str) -> dict[str, list[str]]:
    rows = [line.split() for line in stdout.splitlines()[1:]]
    return {row[0]: row[1:] for row in rows if len(row) > 2}


def _recorded_values(cluster: EmulatedCluster, release: str, namespace: str) -> Any:
    configmap = cluster.objects("configmaps", namespace)[f"{release}-values"]
    return json.loads(configmap["data"]["values.json"])


@pytest.fixture
def platform_tree(tmp_path: Path) -> Iterator[tuple[Path, ChartRepository]]:
    tree = build_tree((REPO / "datacenter.yaml").read_text(), tmp_path / "dc")
    with serve_charts(tmp_path / "charts", stand_ins(tree)) as repository:
        point_releases_at(tree, repository)
        yield tree, repository


def test_the_platform_installs_first_from_its_repositories(
    cluster: EmulatedCluster, platform_tree: tuple[Path, ChartRepository]
) -> None:
    tree, repository = platform_tree
    events: list[Progress] = []
    session = Session(find_helm().path, on_progress=events.append)
    result = install_releases(read_plan(tree), session, ChangeOptions())
    assert result.ok, [(r.release.name, r.outcome, r.detail) for r in result.results]
    started = [e.release.name for e in events if e.state == "installing"]
    finished = [e.release.name for e in events if e.done]
    plan = read_plan(tree)
    for release in plan.releases:  # every release after all it needs
        for need in release.needs:
            assert finished.index(need) < started.index(release.name), (need, release.name)
    assert started[0] == "flannel"
    # helm fetched the repository's index and the pinned charts
    assert "/index.yaml" in repository.served
    assert any(path.startswith("/traefik-41.3.0") for path in repository.served)
    # the CRDs the stand-ins declare are served, and chartgen's charts created their objects
    crds = cluster.objects("customresourcedefinitions")
    assert {"ipaddresspools.metallb.io", "gateways.gateway.networking.k8s.io"} <= set(crds)
    pools = cluster.objects("ipaddresspools", "metallb-system")
    assert pools["chartgen"]["spec"]["addresses"] == ["192.168.1.200-192.168.1.220"]
    assert set(cluster.objects("clusterissuers")) == {"chartgen-selfsigned", "chartgen-ca"}
    assert "chartgen" in cluster.objects("gateways", "traefik")
    assert set(cluster.objects("httproutes", "web")) == {"web-nginx", "web-nginx-redirect"}
    # the values chartgen wrote reached the upstream charts
    traefik = _recorded_values(cluster, "traefik", "traefik")
    assert traefik["service"]["annotations"] == {"metallb.io/loadBalancerIPs": "192.168.1.200"}
    assert _recorded_values(cluster, "flannel", "kube-flannel") == {"podCidr": "10.244.0.0/16"}


def test_platform_releases_show_in_the_table_and_upgrade(
    cluster: EmulatedCluster, platform_tree: tuple[Path, ChartRepository], tmp_path: Path
) -> None:
    tree, _repository = platform_tree
    code, out, err = _chartgen("install", str(tree))
    assert code == 0, err
    results = _results(out)
    assert results["metallb"][:2] == ["metallb-system", "deployed"]
    assert results["chartgen-gateway"][:2] == ["traefik", "deployed"]
    code, out, err = _chartgen("install", str(tree))
    assert code == 0, err
    assert {row[1] for row in _results(out).values()} == {"unchanged"}

    # A new version of every upstream chart: each one is upgraded in place.
    with serve_charts(tmp_path / "newer", stand_ins(tree, bump="-1")) as newer:
        point_releases_at(tree, newer, bump="-1")
        code, out, err = _chartgen("install", str(tree))
        assert code == 0, err
        results = _results(out)
        assert results["traefik"][1:3] == ["deployed", "2"]
        assert results["chartgen-gateway"][1] == "unchanged"
        configmap = cluster.objects("configmaps", "traefik")["traefik-values"]
        assert configmap["data"]["chart"] == "traefik-41.3.0-1"
        code, out, err = _chartgen("status", str(tree))
        assert code == 1, err  # no controller runs the services' pods: none is ready
        releases = out.split("\n\n")[0]  # the releases' table, before the live ones
        assert _results(releases)["traefik"][1:5] == ["2", "deployed", "traefik-41.3.0-1", "yes"]


def test_an_unreachable_chart_repository_fails_its_releases_only(
    cluster: EmulatedCluster, tmp_path: Path
) -> None:
    tree = build_tree((REPO / "datacenter.yaml").read_text(), tmp_path / "dc")
    with serve_charts(tmp_path / "charts", stand_ins(tree)) as repository:
        point_releases_at(tree, repository)
    # the repository is gone now
    code, out, err = _chartgen("install", str(tree))
    assert code == 1
    results = _results(out)
    assert results["flannel"][1] == "failed"
    assert "is not a valid chart repository or cannot be reached" in out
    assert results["web"][1:3] == ["not", "attempted"]
    assert "cluster unreachable" not in err


def test_a_release_waits_for_its_crds_and_fails_without_them(
    cluster: EmulatedCluster, tmp_path: Path
) -> None:
    tree = build_tree((REPO / "datacenter.yaml").read_text(), tmp_path / "dc")
    with serve_charts(tmp_path / "charts", stand_ins(tree, without_crds=True)) as repository:
        point_releases_at(tree, repository)
        session = Session(find_helm().path, crd_timeout=1.0)
        result = install_releases(read_plan(tree), session, ChangeOptions())
    outcomes = {one.release.name: one for one in result.results}
    assert outcomes["metallb"].outcome.value == "deployed"
    failed = outcomes["chartgen-loadbalancer"]
    assert failed.outcome.value == "failed"
    assert failed.detail.startswith(
        "CRDs not served after 1s: ipaddresspools.metallb.io, l2advertisements.metallb.io"
    )
    assert outcomes["traefik"].outcome.value == "not attempted"
    assert outcomes["web"].outcome.value == "not attempted"
    assert cluster.objects("ipaddresspools") == {}


def test_uninstall_keeps_the_platform_unless_asked(
    cluster: EmulatedCluster, platform_tree: tuple[Path, ChartRepository]
) -> None:
    tree, _repository = platform_tree
    code, _out, err = _chartgen("install", str(tree))
    assert code == 0, err
    code, out, err = _chartgen("uninstall", str(tree))
    assert code == 0, err
    assert set(_results(out)) == {"chartgen-namespaces", "chartgen-storage", "web", "cloud"}
    assert "chartgen" in cluster.objects("gateways", "traefik")
    code, out, err = _chartgen("uninstall", "--platform", str(tree))
    assert code == 0, err
    results = _results(out)
    assert results["traefik"][1] == "uninstalled"
    assert results["web"][1] == "not"  # already gone: "not installed"
    finished = [line.split()[0] for line in err.splitlines() if "uninstalled" in line]
    assert finished[-1] == "flannel"  # the CNI last of all
    assert cluster.objects("gateways", "traefik") == {}


def test_dry_run_of_a_fresh_cluster_waits_for_nothing(
    start_emulated: StartCluster, platform_tree: tuple[Path, ChartRepository]
) -> None:
    start_emulated()
    tree, _repository = platform_tree
    code, out, err = _chartgen("install", "--dry-run", str(tree))
    assert code == 0, err
    results = _results(out)
    assert results["metallb"][1:3] == ["would", "install"]
    assert "after its CRDs: ipaddresspools.metallb.io" in out


def test_the_monitoring_stack_installs_after_the_namespaces_and_before_its_monitors(
    cluster: EmulatedCluster, tmp_path: Path
) -> None:
    source = REPO / "tests" / "cases" / "valid" / "platform-monitoring" / "datacenter.yaml"
    tree = build_tree(source.read_text(), tmp_path / "dc")
    with serve_charts(tmp_path / "charts", stand_ins(tree)) as repository:
        point_releases_at(tree, repository)
        events: list[Progress] = []
        session = Session(find_helm().path, on_progress=events.append)
        result = install_releases(read_plan(tree), session, ChangeOptions())
    assert result.ok, [(r.release.name, r.outcome, r.detail) for r in result.results]
    started = [e.release.name for e in events if e.state == "installing"]
    finished = [e.release.name for e in events if e.done]
    # its namespaces carry their Pod Security labels before the stack's pods are admitted
    assert finished.index("chartgen-namespaces") < started.index("monitoring")
    assert finished.index("monitoring") < started.index("chartgen-monitoring")
    assert finished.index("monitoring") < started.index("web")
    namespaces = cluster.objects("namespaces")
    labels = namespaces["monitoring-nodes"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    # the stand-in brought the CRDs; chartgen's charts created their monitoring objects
    assert set(cluster.objects("prometheusrules", "monitoring")) == {"chartgen-monitoring"}
    assert set(cluster.objects("podmonitors", "web")) == {"web-nginx"}
    assert set(cluster.objects("podmonitors", "cloud")) == {"cloud"}
    values = _recorded_values(cluster, "monitoring", "monitoring")
    assert values["prometheus-node-exporter"] == {"namespaceOverride": "monitoring-nodes"}
