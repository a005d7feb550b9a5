"""The install tests' own infrastructure: the chart repository on loopback
(tests/chart_repository.py) and CustomResourceDefinitions in the emulated Kubernetes API
(tests/kube_emulator.py), exercised with the real helm and kubectl."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chartgen.tools import find_helm
from tests.chart_repository import CrdSpec, StandInChart
from tests.conftest import REPO
from tests.install_fixtures import (
    ServeCharts,
    StartCluster,
    chart_repository,
    cluster,
    helm_env,
    postgres,
    start_emulated,
)
from tests.kube_emulator import EmulatedCluster

__all__ = [
    "chart_repository",
    "cluster",
    "helm_env",
    "postgres",
    "start_emulated",
]  # fixtures used by name below

WIDGETS = CrdSpec("example.com", "v1", "Widget", "widgets")
GADGETS = CrdSpec("example.com", "v1alpha1", "Gadget", "gadgets", scope="Cluster")
KUBECTL = REPO / ".tools" / "bin" / "kubectl"

# A local chart of objects of the CRDs' kinds, as chartgen's own charts have.
WIDGET_TEMPLATE = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: {{ .Release.Name }}-widget
spec:
  size: {{ .Values.size }}
---
apiVersion: example.com/v1alpha1
kind: Gadget
metadata:
  name: {{ .Release.Name }}-gadget
spec:
  colour: blue
"""


def _run(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _helm(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run([str(find_helm().path), *argv], check=check)


def _kubectl(*argv: str) -> Any:
    done = _run([str(KUBECTL), "--kubeconfig", os.environ["KUBECONFIG"], *argv])
    assert done.stderr == ""  # no warning either (of ambiguous short names, say)
    return json.loads(done.stdout) if done.stdout.startswith("{") else done.stdout


def _install_demo(url: str, version: str, values: Path, *extra: str) -> dict[str, Any]:
    done = _helm(
        "upgrade", "--install", "demo-crds", "demo", "--repo", url, "--version", version,
        "--namespace", "demo-system", "--create-namespace", "--values", str(values),
        "--output", "json", *extra,
    )  # fmt: skip
    release: dict[str, Any] = json.loads(done.stdout)
    return release


def _widget_chart(tmp_path: Path) -> Path:
    folder = tmp_path / "widgets"
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: widgets\nversion: 0.1.0\n")
    (folder / "values.yaml").write_text("size: 1\n")
    (folder / "templates" / "widgets.yaml").write_text(WIDGET_TEMPLATE)
    return folder


def _established(crd: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions", [])}


def _recorded_values(cluster: EmulatedCluster) -> tuple[str, Any]:
    data = cluster.objects("configmaps", "demo-system")["demo-crds-values"]["data"]
    return data["chart"], json.loads(data["values.json"])


def test_a_repository_chart_brings_crds_that_a_local_chart_then_uses(
    cluster: EmulatedCluster, chart_repository: ServeCharts, tmp_path: Path
) -> None:
    repository = chart_repository([StandInChart("demo", "1.2.3", (WIDGETS, GADGETS), "9.9")])
    values = tmp_path / "values.yaml"
    values.write_text("replicas: 2\nservice:\n  annotations: {a: b}\n")
    release = _install_demo(repository.url, "1.2.3", values)
    assert (release["info"]["status"], release["version"]) == ("deployed", 1)
    assert release["chart"]["metadata"]["appVersion"] == "9.9"
    # helm fetched the index, then the archive
    assert repository.served[:2] == ["/index.yaml", "/demo-1.2.3.tgz"]
    assert repository.fetched("demo", "1.2.3")
    # crds/ went in ahead of the templates, Established at once
    crds = cluster.objects("customresourcedefinitions")
    assert set(crds) == {"widgets.example.com", "gadgets.example.com"}
    assert _established(crds["widgets.example.com"]) == {
        "Established": "True",
        "NamesAccepted": "True",
    }
    assert crds["gadgets.example.com"]["status"]["acceptedNames"]["kind"] == "Gadget"
    assert _recorded_values(cluster) == (
        "demo-1.2.3",
        {"replicas": 2, "service": {"annotations": {"a": "b"}}},
    )

    _helm("install", "shop", str(_widget_chart(tmp_path)), "--namespace", "demo-system")
    widget = cluster.objects("widgets", "demo-system")["shop-widget"]
    assert (widget["kind"], widget["spec"]) == ("Widget", {"size": 1})
    assert set(cluster.objects("gadgets")) == {"shop-gadget"}  # cluster-scoped
    _helm("upgrade", "shop", str(_widget_chart(tmp_path)), "-n", "demo-system", "--set", "size=3")
    assert cluster.objects("widgets", "demo-system")["shop-widget"]["spec"] == {"size": 3}


def test_an_upgrade_to_a_newer_version_of_the_same_repository(
    cluster: EmulatedCluster, chart_repository: ServeCharts, tmp_path: Path
) -> None:
    repository = chart_repository([StandInChart("demo", "1.2.3", (WIDGETS,))])
    values = tmp_path / "values.yaml"
    values.write_text("tier: first\n")
    _install_demo(repository.url, "1.2.3", values, "--wait", "--timeout", "30s")
    # the same repository now offers a newer version, with one more CRD
    repository.publish(StandInChart("demo", "1.2.4", (WIDGETS, GADGETS)))
    values.write_text("tier: second\n")
    release = _install_demo(repository.url, "1.2.4", values, "--wait", "--timeout", "30s")
    assert (release["info"]["status"], release["version"]) == ("deployed", 2)
    assert _recorded_values(cluster) == ("demo-1.2.4", {"tier": "second"})
    assert repository.fetched("demo", "1.2.3") and repository.fetched("demo", "1.2.4")
    assert repository.served.count("/index.yaml") == 2
    # as helm documents, an upgrade leaves crds/ alone: the new CRD is not created
    assert set(cluster.objects("customresourcedefinitions")) == {"widgets.example.com"}
    history = json.loads(_helm("history", "demo-crds", "-n", "demo-system", "-o", "json").stdout)
    assert [entry["chart"] for entry in history] == ["demo-1.2.3", "demo-1.2.4"]
    # so a chart of the new kind fails, as against a real cluster
    failed = _helm(
        "install", "shop", str(_widget_chart(tmp_path)), "-n", "demo-system", check=False
    )
    assert 'no matches for kind "Gadget" in version "example.com/v1alpha1"' in failed.stderr


def test_crds_among_the_templates_are_applied_and_go_with_the_release(
    cluster: EmulatedCluster, chart_repository: ServeCharts, tmp_path: Path
) -> None:
    repository = chart_repository(
        [StandInChart("demo", "2.0.0", (WIDGETS, GADGETS), in_templates=True)]
    )
    values = tmp_path / "values.yaml"
    values.write_text("{}\n")
    _install_demo(repository.url, "2.0.0", values, "--wait", "--timeout", "30s")
    crds = cluster.objects("customresourcedefinitions")
    assert _established(crds["gadgets.example.com"])["Established"] == "True"
    _helm("install", "shop", str(_widget_chart(tmp_path)), "--namespace", "demo-system")
    assert set(cluster.objects("widgets", "demo-system")) == {"shop-widget"}

    _helm("uninstall", "demo-crds", "--namespace", "demo-system", "--wait")
    # deleting a CRD withdraws its kind, and its objects with it
    assert cluster.objects("customresourcedefinitions") == {}
    assert cluster.objects("widgets") == {}
    failed = _helm(
        "upgrade", "shop", str(_widget_chart(tmp_path)), "-n", "demo-system", check=False
    )
    assert failed.returncode != 0
    assert 'no matches for kind "Widget" in version "example.com/v1"' in failed.stderr


def test_kubectl_gets_and_waits_for_a_crd(
    cluster: EmulatedCluster, chart_repository: ServeCharts, tmp_path: Path
) -> None:
    repository = chart_repository([StandInChart("demo", "1.2.3", (WIDGETS, GADGETS))])
    values = tmp_path / "values.yaml"
    values.write_text("{}\n")
    _install_demo(repository.url, "1.2.3", values)
    crd = _kubectl("get", "customresourcedefinition", "widgets.example.com", "-o", "json")
    assert crd["spec"]["names"]["kind"] == "Widget"
    assert _established(crd)["Established"] == "True"
    assert _kubectl("get", "crd", "widgets.example.com", "-o", "json") == crd
    waited = _kubectl(
        "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"
    )
    assert "condition met" in waited
    _helm("install", "shop", str(_widget_chart(tmp_path)), "--namespace", "demo-system")
    widgets = _kubectl("get", "widgets", "--namespace", "demo-system", "-o", "json")
    assert [item["metadata"]["name"] for item in widgets["items"]] == ["shop-widget"]


def test_the_emulator_serves_a_new_kind_in_discovery_and_openapi(
    start_emulated: StartCluster,
) -> None:
    emulated = start_emulated()
    body = json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wg"]},
                "versions": [
                    {"name": "v1", "served": True, "storage": True},
                    {"name": "v0", "served": False, "storage": False},
                ],
            },
        }
    ).encode()

    def get(path: str) -> Any:
        with urllib.request.urlopen(f"{emulated.url}{path}", timeout=10) as response:
            return json.load(response)

    assert "apiextensions.k8s.io" in {group["name"] for group in get("/apis")["groups"]}
    created = urllib.request.Request(
        f"{emulated.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(created, timeout=10) as response:
        assert _established(json.load(response))["Established"] == "True"
    resources = get("/apis/example.com/v1")["resources"]
    assert [(r["name"], r["kind"], r["namespaced"]) for r in resources] == [
        ("widgets", "Widget", True)
    ]
    assert resources[0]["shortNames"] == ["wg"]
    with pytest.raises(urllib.error.HTTPError):
        get("/apis/example.com/v0")  # not served
    paths = get("/openapi/v3")["paths"]
    assert "apis/example.com/v1" in paths
    operations = get("/openapi/v3/apis/example.com/v1")["paths"]
    assert "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}" in operations


def test_a_stopped_repository_is_unreachable(chart_repository: ServeCharts) -> None:
    repository = chart_repository([StandInChart("demo", "1.2.3")])
    with urllib.request.urlopen(f"{repository.url}/index.yaml", timeout=10) as response:
        assert b"demo-1.2.3.tgz" in response.read()
    repository.stop()
    repository.stop()  # again: nothing to do
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{repository.url}/index.yaml", timeout=10)
