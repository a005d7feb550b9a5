"""kubeadm files: checked field by field against the published API references (tests/data)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartgen.errors import OperationFailed
from chartgen.kubeadm import (
    BOOTSTRAP_TOKEN_PLACEHOLDER,
    CA_CERT_HASH_PLACEHOLDER,
    CERTIFICATE_KEY_PLACEHOLDER,
    join_config,
    render_kubeadm,
)
from chartgen.model import Datacenter
from chartgen.rules import KUBELET_LABEL_NAMESPACES, KUBELET_LABELS, RESTRICTED_NAMESPACES
from chartgen.validate import validate_file
from tests import api_reference
from tests.api_reference import definition_problems, load_references
from tests.conftest import CASES, case_dirs

VALID_CASES = CASES / "valid"
REFERENCE = Path(__file__).parent / "data" / "kubeadm"
ALL_CASES = [path.name for path in case_dirs("valid")]

README = PurePosixPath("kubeadm/README.md")
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
CONTAINERD = "unix:///var/run/containerd/containerd.sock"
CRIO = "unix:///var/run/crio/crio.sock"

TOKEN = "abcdef.0123456789abcdef"
CA_HASH = "sha256:" + "0123456789abcdef" * 4
CERT_KEY = "fedcba9876543210" * 4

# --- helpers ----------------------------------------------------------------------------------


@functools.cache
def datacenter(case: str) -> Datacenter:
    validation = validate_file(str(VALID_CASES / case / "datacenter.yaml"))
    assert validation.datacenter is not None, [p.format() for p in validation.problems]
    return validation.datacenter


def load_documents(text: str) -> list[dict[str, Any]]:
    return list(YAML(typ="safe", pure=True).load_all(text))


def rendered(case: str) -> dict[PurePosixPath, str]:
    return render_kubeadm(datacenter(case))


def documents(case: str) -> dict[PurePosixPath, list[dict[str, Any]]]:
    return {path: load_documents(text) for path, text in rendered(case).items() if path != README}


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [document["kind"] for document in docs]
    assert len(kinds) == len(set(kinds)), kinds
    return {document["kind"]: document for document in docs}


def init_docs(case: str) -> dict[str, dict[str, Any]]:
    dc = datacenter(case)
    return by_kind(documents(case)[PurePosixPath(f"kubeadm/init-{dc.control_planes[0].name}.yaml")])


def join_doc(case: str, node: str) -> dict[str, Any]:
    (document,) = documents(case)[PurePosixPath(f"kubeadm/join-{node}.yaml")]
    assert document["kind"] == "JoinConfiguration"
    return document


def registrations(case: str) -> dict[str, dict[str, Any]]:
    """nodeRegistration of every node, by node name."""
    found: dict[str, dict[str, Any]] = {}
    for docs in documents(case).values():
        for document in docs:
            if "nodeRegistration" in document:
                found[document["nodeRegistration"]["name"]] = document["nodeRegistration"]
    return found


def kubelet_args(registration: Mapping[str, Any]) -> dict[str, str]:
    """kubeletExtraArgs in either form, as a plain map (duplicates would be an error here)."""
    raw = registration.get("kubeletExtraArgs", {})
    if isinstance(raw, dict):
        return dict(raw)
    names = [entry["name"] for entry in raw]
    assert len(names) == len(set(names)), names
    return {entry["name"]: entry["value"] for entry in raw}


# --- the reference check ----------------------------------------------------------------------


def references() -> dict[str, dict[str, Any]]:
    return load_references(REFERENCE)


def reference_problems(document: Mapping[str, Any]) -> list[str]:
    """Every field of `document` that its API reference does not have, or of the wrong type."""
    return api_reference.reference_problems(document, references())


def test_reference_type_names_resolve() -> None:
    """Every type the field lists mention is a scalar, a container, or itself listed."""
    assert definition_problems(references()) == []


def test_reference_check_rejects_unknown_and_mistyped_fields() -> None:
    init = init_docs("kubeadm-v1beta4-k8s-1-31")["InitConfiguration"]
    assert reference_problems(init) == []
    bogus = {**init, "nodeRegistration": {**init["nodeRegistration"], "nodeLabels": "a=b"}}
    assert reference_problems(bogus) == [
        "InitConfiguration.nodeRegistration.nodeLabels: unknown field of NodeRegistrationOptions"
    ]
    v1beta3_args = {
        **init,
        "nodeRegistration": {**init["nodeRegistration"], "kubeletExtraArgs": {"node-ip": "x"}},
    }
    assert reference_problems(v1beta3_args) == [
        "InitConfiguration.nodeRegistration.kubeletExtraArgs: expected a list, got {'node-ip': 'x'}"
    ]
    bad_timeout = {**init, "timeouts": {"controlPlaneComponentHealthCheck": "ten minutes"}}
    assert reference_problems(bad_timeout) == [
        "InitConfiguration.timeouts.controlPlaneComponentHealthCheck: "
        "'ten minutes' is not a duration"
    ]
    v1beta3_cluster = init_docs("kubeadm-v1beta3-k8s-1-30")["ClusterConfiguration"]
    moved = {**v1beta3_cluster, "apiVersion": "kubeadm.k8s.io/v1beta4"}
    assert reference_problems(moved) == [
        "ClusterConfiguration.apiServer.timeoutForControlPlane: unknown field of APIServer"
    ]


@pytest.mark.parametrize("case", ALL_CASES)
def test_every_document_has_only_reference_fields(case: str) -> None:
    for path, docs in documents(case).items():
        assert docs, path
        for document in docs:
            assert reference_problems(document) == [], (path, document["kind"])


# --- file set, versions, cluster-wide settings -------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES)
def test_init_file_for_first_control_plane_and_join_file_for_every_other_node(case: str) -> None:
    dc = datacenter(case)
    first, *others = [node for node in dc.nodes if node.is_control_plane]
    workers = [node for node in dc.nodes if not node.is_control_plane]
    expected = {README, PurePosixPath(f"kubeadm/init-{first.name}.yaml")} | {
        PurePosixPath(f"kubeadm/join-{node.name}.yaml") for node in [*others, *workers]
    }
    assert set(rendered(case)) == expected
    kinds = [document["kind"] for document in init_docs(case).values()]
    proxy = [] if dc.cluster.cni == "cilium" else ["KubeProxyConfiguration"]
    assert kinds == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeletConfiguration",
        *proxy,
    ]


@pytest.mark.parametrize("case", ALL_CASES)
def test_kubeadm_api_version_follows_kubernetes_minor(case: str) -> None:
    minor = datacenter(case).cluster.minor
    expected = "kubeadm.k8s.io/v1beta4" if minor >= 31 else "kubeadm.k8s.io/v1beta3"
    versions = {
        document["apiVersion"]
        for docs in documents(case).values()
        for document in docs
        if document["kind"].endswith(("InitConfiguration", "ClusterConfiguration"))
        or document["kind"] == "JoinConfiguration"
    }
    assert versions == {expected}


def test_v1beta3_for_kubernetes_1_30() -> None:
    docs = init_docs("kubeadm-v1beta3-k8s-1-30")
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert init["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": "192.168.1.10"}
    assert "timeouts" not in init
    assert cluster["apiServer"] == {"timeoutForControlPlane": "10m0s"}
    worker = join_doc("kubeadm-v1beta3-k8s-1-30", "worker1")
    assert worker["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": "192.168.1.11"}
    assert "timeouts" not in worker


def test_v1beta4_from_kubernetes_1_31() -> None:
    docs = init_docs("kubeadm-v1beta4-k8s-1-31")
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "192.168.1.10"}
    ]
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "10m0s"}
    assert "apiServer" not in cluster
    worker = join_doc("kubeadm-v1beta4-k8s-1-31", "worker2")
    assert worker["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "192.168.1.12"}
    ]


@pytest.mark.parametrize("case", ALL_CASES)
def test_cluster_configuration_comes_from_the_datacenter(case: str) -> None:
    dc = datacenter(case)
    docs = init_docs(case)
    cluster = docs["ClusterConfiguration"]
    assert cluster["clusterName"] == dc.cluster.name
    assert cluster["kubernetesVersion"] == f"v{dc.cluster.kubernetes_version}"
    assert cluster["controlPlaneEndpoint"] == dc.cluster.control_plane_endpoint
    assert cluster["networking"] == {
        "dnsDomain": dc.cluster.cluster_domain,
        "podSubnet": dc.cluster.pod_subnet,
        "serviceSubnet": dc.cluster.service_subnet,
    }
    first = dc.control_planes[0]
    assert docs["InitConfiguration"]["localAPIEndpoint"] == {
        "advertiseAddress": first.address,
        "bindPort": 6443,
    }
    kubelet = docs["KubeletConfiguration"]
    assert kubelet["cgroupDriver"] == "systemd"
    assert kubelet["clusterDomain"] == dc.cluster.cluster_domain


def test_cluster_domain_reaches_kubelet_and_dns_domain() -> None:
    docs = init_docs("kubeadm-labels-and-taints")
    assert docs["KubeletConfiguration"]["clusterDomain"] == "lab.example"
    assert docs["ClusterConfiguration"]["networking"]["dnsDomain"] == "lab.example"


@pytest.mark.parametrize(
    ("case", "pod_subnet"),
    [
        ("kubeadm-cni-flannel-default", "10.244.0.0/16"),
        ("kubeadm-cni-calico-default", "192.168.0.0/16"),
        ("kubeadm-cni-cilium-default", "10.0.0.0/8"),
    ],
)
def test_every_cni_default_pod_subnet(case: str, pod_subnet: str) -> None:
    docs = init_docs(case)
    assert docs["ClusterConfiguration"]["networking"]["podSubnet"] == pod_subnet
    if "KubeProxyConfiguration" in docs:
        assert docs["KubeProxyConfiguration"]["clusterCIDR"] == pod_subnet


# --- kube-proxy and the CNI -------------------------------------------------------------------


def test_cilium_replaces_kube_proxy() -> None:
    docs = init_docs("kubeadm-cni-cilium-default")
    assert docs["InitConfiguration"]["skipPhases"] == ["addon/kube-proxy"]
    assert "KubeProxyConfiguration" not in docs
    readme = rendered("kubeadm-cni-cilium-default")[README]
    assert "kube-proxy is not installed: cilium replaces it" in readme
    assert "--set kubeProxyReplacement=true" in readme
    assert "--set k8sServiceHost=192.168.1.10" in readme
    assert "--set k8sServicePort=6443" in readme


@pytest.mark.parametrize("case", ["kubeadm-cni-flannel-default", "kubeadm-cni-calico-default"])
def test_flannel_and_calico_keep_kube_proxy(case: str) -> None:
    docs = init_docs(case)
    assert "skipPhases" not in docs["InitConfiguration"]
    assert docs["KubeProxyConfiguration"]["mode"] == "iptables"
    assert "kube-proxy is not installed" not in rendered(case)[README]


def test_readme_installs_the_cni_for_the_pod_subnet() -> None:
    flannel = rendered("kubeadm-cni-flannel-default")[README]
    assert "kubectl apply -f https://github.com/flannel-io/flannel/releases/download/" in flannel
    calico = rendered("kubeadm-cni-calico-default")[README]
    assert "tigera-operator.yaml" in calico
    assert "already uses the pod subnet `192.168.0.0/16`" in calico
    custom = rendered("kubeadm-calico-with-32-bit-arm")[README]
    assert "set `spec.calicoNetwork.ipPools[0].cidr` to `10.32.0.0/16`" in custom


def test_readme_warns_when_the_cni_has_no_image_for_an_arch() -> None:
    assert (
        "calico publishes no image for 32-bit ARM"
        in (rendered("kubeadm-calico-with-32-bit-arm")[README])
    )
    assert "no image for 32-bit ARM" not in rendered("kubeadm-cni-flannel-default")[README]


# --- node registration: runtime, labels, taints -----------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES)
def test_every_node_registers_with_its_name_runtime_and_address(case: str) -> None:
    dc = datacenter(case)
    socket = CRIO if dc.cluster.container_runtime == "cri-o" else CONTAINERD
    found = registrations(case)
    assert set(found) == {node.name for node in dc.nodes}
    for node in dc.nodes:
        assert found[node.name]["criSocket"] == socket
        assert kubelet_args(found[node.name])["node-ip"] == node.address


def test_cri_o_socket() -> None:
    sockets = {entry["criSocket"] for entry in registrations("kubeadm-cri-o").values()}
    assert sockets == {CRIO}


def _restricted(key: str) -> bool:
    if "/" not in key or key in KUBELET_LABELS:
        return False
    domain = key.split("/", 1)[0]
    if any(domain == ns or domain.endswith("." + ns) for ns in KUBELET_LABEL_NAMESPACES):
        return False
    return any(domain == ns or domain.endswith("." + ns) for ns in RESTRICTED_NAMESPACES)


@pytest.mark.parametrize("case", ALL_CASES)
def test_node_labels_are_exactly_the_users(case: str) -> None:
    dc = datacenter(case)
    found = registrations(case)
    for node in dc.nodes:
        arguments = kubelet_args(found[node.name])
        if not node.labels:
            assert "node-labels" not in arguments
            continue
        pairs = [pair.split("=", 1) for pair in arguments["node-labels"].split(",")]
        assert dict(pairs) == dict(node.labels)
        assert [key for key, _ in pairs] == sorted(node.labels)
        assert not [key for key, _ in pairs if _restricted(key)]


def test_node_labels_sorted_and_comma_joined() -> None:
    found = registrations("kubeadm-labels-and-taints")
    assert kubelet_args(found["worker1"])["node-labels"] == (
        "example.com/disk=ssd,topology.kubernetes.io/zone=rack2,zone=rack2"
    )
    assert kubelet_args(found["worker2"])["node-labels"] == "example.com/gpu="
    assert kubelet_args(found["master"])["node-labels"] == "topology.kubernetes.io/zone=rack1"


def test_restricted_label_check_catches_the_worker_role() -> None:
    assert _restricted("node-role.kubernetes.io/worker")
    assert _restricted("kubernetes.io/role")
    assert _restricted("example.k8s.io/x")
    assert not _restricted("topology.kubernetes.io/zone")
    assert not _restricted("node.kubernetes.io/instance-type")
    assert not _restricted("example.com/disk")


@pytest.mark.parametrize("case", ALL_CASES)
def test_taints_always_explicit_and_control_plane_taint_unless_schedulable(case: str) -> None:
    dc = datacenter(case)
    found = registrations(case)
    for node in dc.nodes:
        taints = found[node.name]["taints"]
        own = [
            {
                "key": t.key,
                **({"value": t.value} if t.value is not None else {}),
                "effect": t.effect,
            }
            for t in node.taints
        ]
        if node.is_control_plane and not node.schedulable:
            assert taints == [*own, CONTROL_PLANE_TAINT]
        else:
            assert taints == own


def test_schedulable_single_control_plane_has_an_empty_taint_list() -> None:
    text = rendered("kubeadm-single-schedulable-control-plane")[
        PurePosixPath("kubeadm/init-solo.yaml")
    ]
    # Written out, not omitted: an absent list makes kubeadm add the control-plane taint.
    assert "\n  taints: []\n" in text
    assert set(rendered("kubeadm-single-schedulable-control-plane")) == {
        README,
        PurePosixPath("kubeadm/init-solo.yaml"),
    }
    readme = rendered("kubeadm-single-schedulable-control-plane")[README]
    assert "nothing joins" in readme
    assert "## 4. Check" in readme
    assert "join-config" not in readme


def test_own_taints_and_control_plane_taint() -> None:
    found = registrations("kubeadm-labels-and-taints")
    assert found["master"]["taints"] == [
        {"key": "example.com/dedicated", "value": "infra", "effect": "NoSchedule"},
        CONTROL_PLANE_TAINT,
    ]
    assert found["worker1"]["taints"] == []
    assert found["worker2"]["taints"] == [
        {"key": "example.com/gpu", "effect": "NoExecute"},
        {"key": "example.com/maintenance", "value": "true", "effect": "PreferNoSchedule"},
    ]
    readme = rendered("kubeadm-labels-and-taints")[README]
    assert "kubectl cordon worker2" in readme
    assert "kubectl cordon worker1" not in readme


# --- joins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES)
def test_join_discovery_and_control_plane_block(case: str) -> None:
    dc = datacenter(case)
    for node in dc.nodes:
        if node == dc.control_planes[0]:
            continue
        document = join_doc(case, node.name)
        assert document["discovery"] == {
            "bootstrapToken": {
                "apiServerEndpoint": dc.cluster.control_plane_endpoint,
                "token": BOOTSTRAP_TOKEN_PLACEHOLDER,
                "caCertHashes": [CA_CERT_HASH_PLACEHOLDER],
            }
        }
        if node.is_control_plane:
            assert document["controlPlane"] == {
                "localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": 6443},
                "certificateKey": CERTIFICATE_KEY_PLACEHOLDER,
            }
        else:
            assert "controlPlane" not in document


def test_several_control_planes() -> None:
    case = "kubeadm-several-control-planes"
    assert init_docs(case)["ClusterConfiguration"]["controlPlaneEndpoint"] == "192.168.1.100:6443"
    for name in ("cp2", "cp3"):
        document = join_doc(case, name)
        assert document["controlPlane"]["certificateKey"] == CERTIFICATE_KEY_PLACEHOLDER
        assert document["timeouts"] == {"controlPlaneComponentHealthCheck": "10m0s"}
    assert "controlPlane" not in join_doc(case, "worker1")
    readme = rendered(case)[README]
    assert "sudo kubeadm init --config init-cp1.yaml --upload-certs" in readme
    # Control-plane nodes join before the workers, whatever the order of the file.
    assert readme.index("join-config cp2") < readme.index("join-config cp3")
    assert readme.index("join-config cp3") < readme.index("join-config worker1")
    assert "--certificate-key <key>" in readme


def test_readme_walks_through_the_whole_bootstrap() -> None:
    readme = rendered("kubeadm-v1beta4-k8s-1-31")[README]
    steps = [
        "sudo kubeadm init --config init-master.yaml\n",
        "kube-flannel.yml",
        "kubeadm token create --print-join-command",
        "chartgen join-config worker1 --token <token> --ca-cert-hash sha256:<hash> \\\n"
        "  | ssh 192.168.1.11 ",
        "sudo kubeadm join --config",
        "chartgen join-config worker2 ",
        "kubectl get nodes",
    ]
    positions = [readme.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "| 1 | master | 192.168.1.10 | amd64 | first control plane | `init-master.yaml`" in (
        readme
    )
    assert "| 4b | worker2 | 192.168.1.12 | arm | worker | `join-worker2.yaml`" in readme
    assert "--upload-certs" not in readme
    assert "--certificate-key" not in readme


# --- join_config ------------------------------------------------------------------------------


def test_join_config_for_a_worker_is_the_join_file_with_real_values() -> None:
    case = "kubeadm-v1beta4-k8s-1-31"
    text = join_config(datacenter(case), "worker1", TOKEN, CA_HASH, None)
    placeholders = rendered(case)[PurePosixPath("kubeadm/join-worker1.yaml")]
    assert text == placeholders.replace(BOOTSTRAP_TOKEN_PLACEHOLDER, TOKEN).replace(
        CA_CERT_HASH_PLACEHOLDER, CA_HASH
    )
    (document,) = load_documents(text)
    assert document["discovery"]["bootstrapToken"]["token"] == TOKEN
    assert document["discovery"]["bootstrapToken"]["caCertHashes"] == [CA_HASH]
    assert "REPLACE_WITH" not in text
    assert reference_problems(document) == []


def test_join_config_for_a_control_plane_carries_the_certificate_key() -> None:
    text = join_config(
        datacenter("kubeadm-several-control-planes"), "cp3", TOKEN, CA_HASH, CERT_KEY
    )
    (document,) = load_documents(text)
    assert document["controlPlane"]["certificateKey"] == CERT_KEY
    assert document["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "192.168.1.13"
    assert "REPLACE_WITH" not in text
    assert reference_problems(document) == []


@pytest.mark.parametrize(
    ("node", "token", "ca_hash", "key", "message"),
    [
        ("nope", TOKEN, CA_HASH, None, "unknown node 'nope'"),
        ("cp1", TOKEN, CA_HASH, None, "first control-plane node"),
        ("worker1", "abcdef0123456789abcdef", CA_HASH, None, "malformed bootstrap token"),
        ("worker1", "ABCDEF.0123456789abcdef", CA_HASH, None, "malformed bootstrap token"),
        ("worker1", "abcdef.0123456789abcde", CA_HASH, None, "malformed bootstrap token"),
        ("worker1", TOKEN + "\n", CA_HASH, None, "malformed bootstrap token"),
        ("worker1", TOKEN, CA_HASH[len("sha256:") :], None, "malformed CA certificate hash"),
        ("worker1", TOKEN, "sha256:" + "0" * 63, None, "malformed CA certificate hash"),
        ("worker1", TOKEN, "sha256:" + "g" * 64, None, "malformed CA certificate hash"),
        ("cp2", TOKEN, CA_HASH, None, "needs --certificate-key"),
        ("cp2", TOKEN, CA_HASH, "1234", "malformed certificate key"),
        ("worker1", TOKEN, CA_HASH, CERT_KEY, "only for control-plane joins"),
    ],
)
def test_join_config_refusals(
    node: str, token: str, ca_hash: str, key: str | None, message: str
) -> None:
    dc = datacenter("kubeadm-several-control-planes")
    with pytest.raises(OperationFailed, match=re.escape(message)):
        join_config(dc, node, token, ca_hash, key)


# --- determinism and secrets ------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES)
def test_rendering_is_deterministic(case: str) -> None:
    first = render_kubeadm(datacenter(case))
    reloaded = validate_file(str(VALID_CASES / case / "datacenter.yaml")).datacenter
    assert reloaded is not None
    second = render_kubeadm(reloaded)
    assert list(first.items()) == list(second.items())
    assert all(path.parts[0] == "kubeadm" for path in first)
    assert all(text.endswith("\n") and "\r" not in text for text in first.values())


SECRET_SHAPES = [
    re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
    re.compile(r"sha256:[0-9a-fA-F]{64}"),
    re.compile(r"\b[0-9a-fA-F]{64}\b"),
]


@pytest.mark.parametrize("case", ALL_CASES)
def test_no_secret_material_in_rendered_files(case: str) -> None:
    files = rendered(case)
    for path, text in files.items():
        for shape in SECRET_SHAPES:
            assert not shape.search(text), (path, shape.pattern)
    for path, docs in documents(case).items():
        for document in docs:
            assert "bootstrapTokens" not in document
            assert "certificateKey" not in document, path
            if document["kind"] == "JoinConfiguration":
                discovery = document["discovery"]["bootstrapToken"]
                assert discovery["token"] == BOOTSTRAP_TOKEN_PLACEHOLDER
                assert discovery["caCertHashes"] == [CA_CERT_HASH_PLACEHOLDER]


def test_secret_shapes_would_be_caught() -> None:
    text = join_config(
        datacenter("kubeadm-several-control-planes"), "cp2", TOKEN, CA_HASH, CERT_KEY
    )
    assert all(shape.search(text) for shape in SECRET_SHAPES)
