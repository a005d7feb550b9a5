"""The storage chart: what `helm template` renders from datacenters and the claims of services.

The claims are built here by hand (what the service charts would ask for), so these tests do
not depend on the service charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from chartgen import __version__
from chartgen.blueprints import render_blueprint
from chartgen.charts import Claim
from chartgen.charts.storage import (
    NAMESPACE,
    RELEASE_NAME,
    chart_source,
    provisioner_name,
)
from chartgen.images import NFS_PROVISIONER
from chartgen.model import Datacenter
from chartgen.values import merge_values
from tests.chart_support import documents, helm, load_datacenter
from tests.conftest import CASES, REPO

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
PROVISIONER_UID = 65534

# Two NFS classes and two local classes; only the ARM workers take pods.
LAB = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: lab}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10}
  - {name: pi, role: worker, arch: arm, address: 192.168.1.11}
  - {name: big, role: worker, arch: arm64, address: 192.168.1.12}
storage:
  - {name: fast, type: nfs, nfs: {server: nas.lab.example, path: /volume1/k8s}}
  - {name: slow, type: nfs, nfs: {server: 192.168.1.30, path: /export/slow}, default: true}
  - {name: disk-pi, type: local, local: {node: pi, path: /mnt/ssd/}}
  - {name: disk-big, type: local, local: {node: big, path: /srv}}
services:
  - {name: web, type: nginx}
"""
LAB_CLAIMS = (
    Claim("shop", "data", "disk-pi", "1Gi", "ReadWriteOnce"),
    Claim("cloud", "db-0", "disk-pi", "2Gi", "ReadWriteOnce"),
    Claim("cloud", "files", "fast", "20Gi", "ReadWriteMany"),
    Claim("cloud", "cache", "slow", "1Gi", "ReadWriteOnce"),
)

# Paths are free text in the format: Helm template code in them must stay text.
HOSTILE = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: odd}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10, schedulable: true}
storage:
  - {name: share, type: nfs, nfs: {server: nas.example, path: '/export/{{ fail "boom" }}'}}
  - {name: disk, type: local, local: {node: cp, path: "/srv/{{ .Release.Name }} x"}}
services:
  - {name: web, type: nginx}
"""

NO_STORAGE = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: bare}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10, schedulable: true}
services:
  - {name: web, type: nginx}
"""


@dataclass(frozen=True)
class Rendered:
    """A generated storage chart and the objects `helm template` renders from it."""

    chart: Path
    objects: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.objects if item["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [item for item in self.of_kind(kind) if item["metadata"]["name"] == name]
        assert len(found) == 1, f"{len(found)} {kind} named {name}"
        return found[0]

    def pod_specs(self) -> list[dict[str, Any]]:
        """The provisioner Deployments' pod templates and the test pods."""
        deployments = [item["spec"]["template"]["spec"] for item in self.of_kind("Deployment")]
        return deployments + [item["spec"] for item in self.of_kind("Pod")]


def datacenter_from_text(text: str, folder: Path) -> Datacenter:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datacenter.yaml").write_text(text, encoding="utf-8")
    return load_datacenter(folder / "datacenter.yaml")


def write_chart(dc: Datacenter, claims: tuple[Claim, ...], dest: Path) -> None:
    """The chart as chartgen writes it: the blueprint rendered, chartgen's values merged."""
    source = chart_source(dc, claims)
    assert source is not None
    context = {
        "chart_version": __version__,
        "app_version": source.app_version,
        "chartgen_version": __version__,
    }
    for relative, data in render_blueprint(source.blueprint, context).items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative == PurePosixPath("values.yaml"):
            merged = merge_values(data.decode("utf-8"), source.values, source.blueprint)
            target.write_text(merged, encoding="utf-8")
        else:
            target.write_bytes(data)


def render(dc: Datacenter, claims: tuple[Claim, ...], dest: Path) -> Rendered:
    write_chart(dc, claims, dest)
    manifest = helm("template", RELEASE_NAME, str(dest), "--namespace", NAMESPACE)
    return Rendered(dest, documents(manifest))


def notes(chart: Path) -> str:
    """NOTES.txt as `helm install` prints it (client-side dry run: no cluster needed)."""
    output = helm("install", RELEASE_NAME, str(chart), "--namespace", NAMESPACE, "--dry-run=client")
    return output.partition("NOTES:\n")[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The root datacenter.yaml, with the claims of its Nextcloud service."""
    dc = load_datacenter(REPO / "datacenter.yaml")
    claims = (
        Claim("cloud", "cloud-data", "nfs", "50Gi", "ReadWriteMany"),
        Claim("cloud", "data-cloud-postgresql-0", "local-worker2", "10Gi", "ReadWriteOnce"),
    )
    return render(dc, claims, tmp_path_factory.mktemp("root") / "storage")


@pytest.fixture(scope="module")
def single_node(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    dc = load_datacenter(CASES / "valid" / "single-node" / "datacenter.yaml")
    default = dc.storage_class(None)
    assert default is not None
    claims = (
        Claim("cloud", "cloud-data", "local", "20Gi", "ReadWriteOnce"),
        Claim("cloud", "data-cloud-postgresql-0", default.name, "5Gi", "ReadWriteOnce"),
    )
    return render(dc, claims, tmp_path_factory.mktemp("single") / "storage")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    dc = datacenter_from_text(LAB, tmp_path_factory.mktemp("lab"))
    return render(dc, LAB_CLAIMS, tmp_path_factory.mktemp("lab-chart") / "storage")


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def hostname_values(volume: dict[str, Any]) -> list[str]:
    (term,) = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    (expression,) = term["matchExpressions"]
    assert expression["key"] == "kubernetes.io/hostname"
    assert expression["operator"] == "In"
    return list(expression["values"])


# --- no storage --------------------------------------------------------------------------


def test_no_storage_class_gives_no_chart(tmp_path: Path) -> None:
    dc = datacenter_from_text(NO_STORAGE, tmp_path)
    assert chart_source(dc, ()) is None


# --- StorageClasses ----------------------------------------------------------------------


def test_one_storage_class_per_class_of_the_datacenter(root: Rendered, lab: Rendered) -> None:
    assert sorted(item["metadata"]["name"] for item in root.of_kind("StorageClass")) == [
        "local-worker2",
        "nfs",
    ]
    assert sorted(item["metadata"]["name"] for item in lab.of_kind("StorageClass")) == [
        "disk-big",
        "disk-pi",
        "fast",
        "slow",
    ]


def test_only_the_default_class_carries_the_default_annotation(
    root: Rendered, lab: Rendered, single_node: Rendered
) -> None:
    defaults = {
        item["metadata"]["name"]
        for rendered in (root, lab, single_node)
        for item in rendered.of_kind("StorageClass")
        if item["metadata"].get("annotations", {}).get(DEFAULT_CLASS) == "true"
    }
    assert defaults == {"nfs", "slow", "local"}
    assert "annotations" not in root.named("StorageClass", "local-worker2")["metadata"]
    assert "annotations" not in lab.named("StorageClass", "fast")["metadata"]


def test_nfs_class_retains_and_names_folders_after_the_claim(root: Rendered) -> None:
    nfs = root.named("StorageClass", "nfs")
    assert nfs["provisioner"] == "chartgen.io/nfs-nfs"
    assert nfs["parameters"] == {
        "archiveOnDelete": "true",
        "pathPattern": "${.PVC.namespace}-${.PVC.name}",
    }
    assert nfs["reclaimPolicy"] == "Retain"
    assert nfs["allowVolumeExpansion"] is True
    assert nfs["mountOptions"] == ["nfsvers=4.1"]


def test_local_class_has_no_provisioner_and_waits_for_the_pod(root: Rendered) -> None:
    local = root.named("StorageClass", "local-worker2")
    assert local["provisioner"] == "kubernetes.io/no-provisioner"
    assert local["volumeBindingMode"] == "WaitForFirstConsumer"
    assert local["reclaimPolicy"] == "Retain"


# --- local PersistentVolumes -------------------------------------------------------------


def test_a_local_volume_per_claim_pinned_to_the_node(root: Rendered) -> None:
    (volume,) = root.of_kind("PersistentVolume")
    spec = volume["spec"]
    assert volume["metadata"]["name"] == "cloud-data-cloud-postgresql-0"
    assert spec["storageClassName"] == "local-worker2"
    assert spec["capacity"] == {"storage": "10Gi"}
    assert spec["accessModes"] == ["ReadWriteOnce"]
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["local"] == {"path": "/srv/k8s/cloud-data-cloud-postgresql-0"}
    assert spec["claimRef"]["namespace"] == "cloud"
    assert spec["claimRef"]["name"] == "data-cloud-postgresql-0"
    assert hostname_values(volume) == ["worker2"]


def test_local_volumes_only_for_claims_on_local_classes(lab: Rendered) -> None:
    volumes = {item["metadata"]["name"]: item["spec"] for item in lab.of_kind("PersistentVolume")}
    assert sorted(volumes) == ["cloud-db-0", "shop-data"]
    # A trailing slash in the class path does not double the separator.
    assert volumes["shop-data"]["local"]["path"] == "/mnt/ssd/shop-data"
    assert volumes["cloud-db-0"]["local"]["path"] == "/mnt/ssd/cloud-db-0"
    assert volumes["cloud-db-0"]["capacity"] == {"storage": "2Gi"}
    assert all(spec["storageClassName"] == "disk-pi" for spec in volumes.values())
    assert all(hostname_values(item) == ["pi"] for item in lab.of_kind("PersistentVolume"))


def test_single_node_puts_both_volumes_on_the_node(single_node: Rendered) -> None:
    paths = sorted(
        item["spec"]["local"]["path"] for item in single_node.of_kind("PersistentVolume")
    )
    assert paths == ["/srv/k8s/cloud-cloud-data", "/srv/k8s/cloud-data-cloud-postgresql-0"]
    assert all(
        hostname_values(item) == ["solo"] for item in single_node.of_kind("PersistentVolume")
    )


def test_local_only_datacenter_runs_no_provisioner(single_node: Rendered) -> None:
    kinds = {item["kind"] for item in single_node.objects}
    assert kinds == {"StorageClass", "PersistentVolume"}


def test_notes_list_the_folders_to_create_on_each_node(root: Rendered, lab: Rendered) -> None:
    assert "mkdir -p '/srv/k8s/cloud-data-cloud-postgresql-0'" in notes(root.chart)
    lab_notes = notes(lab.chart)
    pi_section = lab_notes.partition("on node pi:")[2]
    assert "mkdir -p '/mnt/ssd/cloud-db-0'" in pi_section
    assert "mkdir -p '/mnt/ssd/shop-data'" in pi_section
    assert "on node big:" not in lab_notes  # disk-big has no claim, so no folder


# --- NFS provisioners --------------------------------------------------------------------


def test_a_provisioner_per_nfs_class_with_a_unique_name(lab: Rendered) -> None:
    classes = {
        item["metadata"]["name"]: item["provisioner"]
        for item in lab.of_kind("StorageClass")
        if item["provisioner"] != "kubernetes.io/no-provisioner"
    }
    assert classes == {"fast": "chartgen.io/nfs-fast", "slow": "chartgen.io/nfs-slow"}
    served = {}
    for deployment in lab.of_kind("Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = env_of(container)
        served[env["PROVISIONER_NAME"]] = (env["NFS_SERVER"], env["NFS_PATH"])
    assert served == {
        "chartgen.io/nfs-fast": ("nas.lab.example", "/volume1/k8s"),
        "chartgen.io/nfs-slow": ("192.168.1.30", "/export/slow"),
    }
    selectors = [
        deployment["spec"]["selector"]["matchLabels"] for deployment in lab.of_kind("Deployment")
    ]
    assert selectors[0] != selectors[1]


def test_provisioner_mounts_its_export_and_runs_alone(root: Rendered) -> None:
    (deployment,) = root.of_kind("Deployment")
    assert deployment["metadata"]["namespace"] == NAMESPACE
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == NFS_PROVISIONER.reference
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    export = next(name for name, path in mounts.items() if path == "/persistentvolumes")
    assert volumes[export]["nfs"] == {"server": "192.168.1.20", "path": "/export/k8s"}
    assert pod["automountServiceAccountToken"] is True
    assert pod["serviceAccountName"] == root.of_kind("ServiceAccount")[0]["metadata"]["name"]


def test_provisioner_runs_on_the_schedulable_architectures(root: Rendered, lab: Rendered) -> None:
    def arches(rendered: Rendered) -> list[list[str]]:
        found = []
        for spec in rendered.pod_specs():
            terms = spec["affinity"]["nodeAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"
            ]
            (term,) = terms["nodeSelectorTerms"]
            (expression,) = term["matchExpressions"]
            assert expression["key"] == "kubernetes.io/arch"
            found.append(expression["values"])
        return found

    # root: the amd64 control plane takes no pods, the workers are arm64 and amd64.
    assert arches(root) == [["amd64", "arm64"]] * 2
    # lab: only the arm and arm64 workers take pods (the amd64 control plane does not).
    assert arches(lab) == [["arm64", "arm"]] * 4


def test_pods_are_hardened_with_requests_and_limits(lab: Rendered) -> None:
    specs = lab.pod_specs()
    assert len(specs) == 4  # two provisioners, two test pods
    for spec in specs:
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True
        assert pod_security["runAsUser"] == PROVISIONER_UID
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}
            assert set(container["resources"]["requests"]) == {"cpu", "memory"}
            assert set(container["resources"]["limits"]) == {"cpu", "memory"}
            assert container["imagePullPolicy"] == "IfNotPresent"
            assert not container["image"].endswith(":latest")


def test_rbac_binds_the_provisioner_account_minimally(root: Rendered) -> None:
    (account,) = root.of_kind("ServiceAccount")
    name = account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
    (binding,) = root.of_kind("ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}]
    (cluster_role,) = root.of_kind("ClusterRole")
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    granted = {
        resource: set(rule["verbs"])
        for rule in cluster_role["rules"]
        for resource in rule["resources"]
    }
    assert granted == {
        "persistentvolumes": {"get", "list", "watch", "create", "delete"},
        "persistentvolumeclaims": {"get", "list", "watch", "update"},
        "storageclasses": {"get", "list", "watch"},
        "events": {"create", "update", "patch"},
    }
    (role,) = root.of_kind("Role")
    assert [rule["resources"] for rule in role["rules"]] == [["endpoints"]]
    (role_binding,) = root.of_kind("RoleBinding")
    assert role_binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }


def test_test_pod_checks_each_export_as_the_provisioner(lab: Rendered) -> None:
    pods = lab.of_kind("Pod")
    assert len(pods) == 2
    exports = set()
    for pod in pods:
        assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
        spec = pod["spec"]
        assert spec["restartPolicy"] == "Never"
        assert spec["automountServiceAccountToken"] is False
        (volume,) = spec["volumes"]
        exports.add((volume["nfs"]["server"], volume["nfs"]["path"]))
        (container,) = spec["containers"]
        assert container["volumeMounts"] == [{"name": "export", "mountPath": "/persistentvolumes"}]
        assert "mkdir" in container["command"][-1]
    assert exports == {("nas.lab.example", "/volume1/k8s"), ("192.168.1.30", "/export/slow")}


def test_paths_with_template_code_render_literally(tmp_path: Path) -> None:
    dc = datacenter_from_text(HOSTILE, tmp_path / "case")
    claims = (Claim("web", "data", "disk", "1Gi", "ReadWriteOnce"),)
    rendered = render(dc, claims, tmp_path / "storage")
    (deployment,) = rendered.of_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert env_of(container)["NFS_PATH"] == '/export/{{ fail "boom" }}'
    (volume,) = rendered.of_kind("PersistentVolume")
    assert volume["spec"]["local"]["path"] == "/srv/{{ .Release.Name }} x/web-data"
    assert "mkdir -p '/srv/{{ .Release.Name }} x/web-data'" in notes(rendered.chart)


# --- the chart as a whole ----------------------------------------------------------------


def test_generated_charts_lint_and_validate(
    root: Rendered, lab: Rendered, single_node: Rendered
) -> None:
    for rendered in (root, lab, single_node):
        helm("lint", "--strict", str(rendered.chart))
        for item in rendered.objects:
            kubernetes_validate.validate(item, "1.31.0", strict=True)


def test_chart_yaml_carries_the_provisioner_version(root: Rendered) -> None:
    text = (root.chart / "Chart.yaml").read_text(encoding="utf-8")
    chart = YAML(typ="safe", pure=True).load(text)
    assert chart["name"] == "storage"
    assert chart["appVersion"] == NFS_PROVISIONER.tag.removeprefix("v")
    assert f'appVersion: "{chart["appVersion"]}"' in text


# --- chart_source ------------------------------------------------------------------------


def test_long_class_names_keep_provisioner_names_valid_and_distinct() -> None:
    first = provisioner_name("a" * 62 + "b")
    second = provisioner_name("a" * 62 + "c")
    assert first != second
    for name in (first, second):
        domain, _, local = name.partition("/")
        assert domain == "chartgen.io"
        assert len(local) <= 63
        assert local[0].isalnum() and local[-1].isalnum()
    assert provisioner_name("nfs") == "chartgen.io/nfs-nfs"


def test_claims_that_contradict_the_model_are_refused(tmp_path: Path) -> None:
    dc = datacenter_from_text(LAB, tmp_path)
    with pytest.raises(ValueError, match="unknown storage class"):
        chart_source(dc, (Claim("shop", "data", "missing", "1Gi", "ReadWriteOnce"),))
    with pytest.raises(ValueError, match="ReadWriteOnce only"):
        chart_source(dc, (Claim("shop", "data", "disk-pi", "1Gi", "ReadWriteMany"),))
    with pytest.raises(ValueError, match="made twice"):
        chart_source(
            dc,
            (
                Claim("shop", "data", "disk-pi", "1Gi", "ReadWriteOnce"),
                Claim("shop", "data", "disk-pi", "2Gi", "ReadWriteOnce"),
            ),
        )
