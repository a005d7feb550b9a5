"""Grafana's admin login: a Secret made once in the cluster by a hook of the monitoring release,
never a password rendered (which Argo CD would rotate on every sync).

kube-prometheus-stack cannot be rendered here (its repository is out of reach), so what it does
with `extraManifests` (each item through `tpl`, documented in its values.yaml) is redone by a
chart of three lines; the hook's script runs with the real kubectl against the emulator.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from chartgen import grafana_admin
from chartgen.pod_security import check_objects
from chartgen.render import render_tree
from chartgen.tools import find_kubectl
from tests.chart_support import build, documents, helm, load_datacenter
from tests.conftest import CASES, REPO
from tests.kube_emulator import start_cluster

MONITORED = CASES / "valid" / "platform-monitoring" / "datacenter.yaml"
# What the stack's extra-objects template does with each item of `extraManifests`.
TPL_TEMPLATE = """\
{{- range .Values.extraManifests }}
---
{{ tpl (toYaml .) $ }}
{{- end }}
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("monitored") / "generated"
    build(MONITORED, out)
    return out


def _values_file(tree: Path) -> Path:
    return tree / "platform" / "values" / "monitoring.yaml"


@pytest.fixture(scope="module")
def values(tree: Path) -> dict[str, Any]:
    text = _values_file(tree).read_text(encoding="utf-8")
    loaded: dict[str, Any] = YAML(typ="safe", pure=True).load(text)
    return loaded


@pytest.fixture(scope="module")
def hook_objects(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    chart = tmp_path_factory.mktemp("tpl") / "extra"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: extra\nversion: 0.1.0\n")
    (chart / "templates" / "extra.yaml").write_text(TPL_TEMPLATE)
    values = str(_values_file(tree))
    return list(
        documents(helm("template", "monitoring", str(chart), "-n", "monitoring", "-f", values))
    )


def test_grafana_reads_its_login_from_the_hook_secret(tree: Path, values: dict[str, Any]) -> None:
    assert values["grafana"]["admin"] == {
        "existingSecret": "monitoring-grafana-admin",
        "userKey": "admin-user",
        "passwordKey": "admin-password",
    }
    # With admin.existingSecret set, the Grafana chart renders no Secret of its own (and no
    # randAlphaNum password); the values carry no password either.
    assert "adminPassword" not in values["grafana"]
    text = _values_file(tree).read_text(encoding="utf-8")
    assert "{{" not in text, "the stack passes extraManifests through tpl"
    # The one password in the values is the script's variable, filled in the pod.
    script = grafana_admin.SCRIPT
    assert re.findall(r"admin-password: (.*)", script) == ['"$password"']
    assert text.count("admin-password:") == script.count("admin-password:") == 1


def test_the_hook_runs_before_install_and_every_upgrade_with_least_privilege(
    hook_objects: list[Any],
) -> None:
    by_kind = {item["kind"]: item for item in hook_objects}
    assert sorted(by_kind) == ["Job", "Role", "RoleBinding", "ServiceAccount"]
    for item in hook_objects:
        annotations = item["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        assert item["metadata"]["namespace"] == "monitoring"
    weight = {kind: int(item["metadata"]["annotations"]["helm.sh/hook-weight"])
              for kind, item in by_kind.items()}  # fmt: skip
    assert max(weight["ServiceAccount"], weight["Role"], weight["RoleBinding"]) < weight["Job"]
    assert by_kind["Role"]["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["monitoring-grafana-admin"],
            "verbs": ["get"],
        },
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    assert by_kind["ServiceAccount"]["automountServiceAccountToken"] is False


def test_tpl_leaves_the_script_as_written(hook_objects: list[Any]) -> None:
    (job,) = [item for item in hook_objects if item["kind"] == "Job"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/bin/bash", "-c", grafana_admin.SCRIPT]
    assert container["image"] == grafana_admin.HOOK_IMAGE.reference


def test_the_hook_objects_are_valid_and_restricted(hook_objects: list[Any]) -> None:
    version = load_datacenter(MONITORED).cluster.kubernetes_version
    for item in hook_objects:
        kubernetes_validate.validate(item, version, strict=True)
    # The monitoring namespace enforces restricted.
    assert check_objects(hook_objects, "restricted") == []


def _arch_values(affinity: dict[str, Any]) -> list[str]:
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    ((expression,),) = [term["matchExpressions"] for term in terms["nodeSelectorTerms"]]
    assert (expression["key"], expression["operator"]) == ("kubernetes.io/arch", "In")
    values: list[str] = expression["values"]
    return values


def _hook_job(values: Mapping[str, Any]) -> dict[str, Any]:
    (job,) = [item for item in values["extraManifests"] if item["kind"] == "Job"]
    return dict(job)


def test_the_64_bit_only_pieces_run_on_the_64_bit_nodes(values: dict[str, Any]) -> None:
    # cp amd64, w1 arm64, w2 amd64
    expected = ["amd64", "arm64"]
    assert _arch_values(_hook_job(values)["spec"]["template"]["spec"]["affinity"]) == expected
    assert _arch_values(values["grafana"]["affinity"]) == expected
    patch = values["prometheusOperator"]["admissionWebhooks"]["patch"]
    assert _arch_values(patch["affinity"]) == expected


def test_32_bit_arm_workers_get_none_of_them(tmp_path: Path) -> None:
    """kube-webhook-certgen and kubectl publish no 32-bit ARM image, and Grafana's is not
    verified: on a cluster with ARM boards beside an amd64 node, they go to the amd64 node;
    the rest of the stack (node-exporter on every node) is not pinned."""
    text = MONITORED.read_text(encoding="utf-8")
    text = text.replace("arch: arm64", "arch: arm").replace("[amd64, arm64]", "[amd64, arm]")
    source = tmp_path / "datacenter.yaml"
    source.write_text(text, encoding="utf-8")
    dc = load_datacenter(source)
    assert {node.arch for node in dc.pod_nodes} == {"amd64", "arm"}
    values = render_tree(dc).platform_values["monitoring"]
    assert _arch_values(_hook_job(values)["spec"]["template"]["spec"]["affinity"]) == ["amd64"]
    assert _arch_values(values["grafana"]["affinity"]) == ["amd64"]
    patch = values["prometheusOperator"]["admissionWebhooks"]["patch"]
    assert _arch_values(patch["affinity"]) == ["amd64"]
    assert "affinity" not in values["prometheus"]["prometheusSpec"]
    assert "affinity" not in values["prometheus-node-exporter"]


def _run_script(kubeconfig: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "SECRET_NAME": grafana_admin.SECRET_NAME,
        "NAMESPACE": "monitoring",
        "HOME": str(home),
        # the kubectl `make test` fetches, as the hook's image has it
        "PATH": f"{find_kubectl().parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-c", grafana_admin.SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_script_creates_the_secret_once(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path / "kubeconfig")
    try:
        first = _run_script(cluster.kubeconfig, tmp_path)
        assert first.returncode == 0, first.stderr
        assert first.stdout == "Created Secret monitoring-grafana-admin.\n"
        secret = cluster.objects("secrets", "monitoring")["monitoring-grafana-admin"]
        data = secret["stringData"]
        assert data["admin-user"] == "admin"
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", data["admin-password"])
        assert "helm" not in str(secret["metadata"].get("labels", {})).lower()

        again = _run_script(cluster.kubeconfig, tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout == "Secret monitoring-grafana-admin exists: kept as it is.\n"
        kept = cluster.objects("secrets", "monitoring")["monitoring-grafana-admin"]
        assert kept["stringData"] == data
    finally:
        cluster.stop()


def test_the_script_fails_when_the_secret_cannot_be_made(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path / "kubeconfig", refused={"Secret"})
    try:
        result = _run_script(cluster.kubeconfig, tmp_path)
        assert result.returncode == 1
        assert "Secret is refused by this test cluster" in result.stderr
        assert cluster.objects("secrets", "monitoring") == {}
    finally:
        cluster.stop()


def test_the_notes_and_the_readme_name_the_hooks_secret(tree: Path) -> None:
    """Where people read how to log in: the alerts chart's NOTES and the README."""
    wanted = f"get secret {grafana_admin.SECRET_NAME} -o jsonpath='{{.data.admin-password}}'"
    notes = (tree / "platform" / "monitoring" / "templates" / "NOTES.txt").read_text()
    assert wanted in notes
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert wanted in readme
    assert "get secret monitoring-grafana " not in notes + readme
