"""kubeadm configuration for every node of the datacenter: data in, YAML documents out.

The first control-plane node gets an init file (InitConfiguration, ClusterConfiguration,
KubeletConfiguration and, unless the CNI replaces kube-proxy, KubeProxyConfiguration); every
other node a JoinConfiguration. The bootstrap token, the CA certificate hash and the
certificate key only exist once `kubeadm init` has run, so the rendered files carry named
placeholders and `join_config` fills the real values in for one node, for stdout only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from chartgen.emit import dump_yaml_documents
from chartgen.errors import OperationFailed
from chartgen.model import API_SERVER_PORT, CONTROL_PLANE_TAINT, Datacenter, Node, Taint
from chartgen.platform import cni_releases

KUBEADM_DIR = PurePosixPath("kubeadm")
README_PATH = KUBEADM_DIR / "README.md"

# kubeadm reads v1beta4 from 1.31 on; v1beta3 is deprecated there and removed in 1.36.
FIRST_V1BETA4_MINOR = 31
KUBELET_API_VERSION = "kubelet.config.k8s.io/v1beta1"
KUBE_PROXY_API_VERSION = "kubeproxy.config.k8s.io/v1alpha1"

CRI_SOCKETS: Mapping[str, str] = {
    "containerd": "unix:///var/run/containerd/containerd.sock",
    "cri-o": "unix:///var/run/crio/crio.sock",
}

# CNIs that implement Services themselves: kubeadm must not install kube-proxy beside them.
KUBE_PROXY_REPLACING_CNIS = frozenset({"cilium"})
KUBE_PROXY_PHASE = "addon/kube-proxy"

# Small ARM boards on SD cards often need more than kubeadm's 4 minutes default to bring
# etcd and the API server up; a longer wait costs nothing on fast machines.
CONTROL_PLANE_HEALTH_TIMEOUT = "10m0s"

BOOTSTRAP_TOKEN_PLACEHOLDER = "REPLACE_WITH_BOOTSTRAP_TOKEN"
CA_CERT_HASH_PLACEHOLDER = "REPLACE_WITH_CA_CERT_HASH"
CERTIFICATE_KEY_PLACEHOLDER = "REPLACE_WITH_CERTIFICATE_KEY"

# The formats kubeadm itself accepts (bootstrap token, SPKI pin, 32-byte AES key in hex).
BOOTSTRAP_TOKEN_FORMAT = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
CA_CERT_HASH_FORMAT = re.compile(r"sha256:[0-9a-fA-F]{64}")
CERTIFICATE_KEY_FORMAT = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class JoinSecrets:
    """What a joining node needs from the running cluster; never written under DIR."""

    token: str
    ca_cert_hash: str
    certificate_key: str | None


PLACEHOLDERS = JoinSecrets(
    BOOTSTRAP_TOKEN_PLACEHOLDER, CA_CERT_HASH_PLACEHOLDER, CERTIFICATE_KEY_PLACEHOLDER
)


@dataclass(frozen=True)
class CniRelease:
    """The upstream release the README installs, pinned so the instructions stay reproducible."""

    version: str
    default_pod_subnet: str
    arches: frozenset[str]


CNI_RELEASES: Mapping[str, CniRelease] = {
    "flannel": CniRelease("v0.26.1", "10.244.0.0/16", frozenset({"amd64", "arm64", "arm"})),
    "calico": CniRelease("v3.29.1", "192.168.0.0/16", frozenset({"amd64", "arm64"})),
    "cilium": CniRelease("1.16.5", "10.0.0.0/8", frozenset({"amd64", "arm64"})),
}


def kubeadm_api_version(dc: Datacenter) -> str:
    version = "v1beta4" if dc.cluster.minor >= FIRST_V1BETA4_MINOR else "v1beta3"
    return f"kubeadm.k8s.io/{version}"


def init_node(dc: Datacenter) -> Node:
    """The node `kubeadm init` runs on: the first control-plane node of the file."""
    return dc.control_planes[0]


def init_path_for(name: str) -> PurePosixPath:
    return KUBEADM_DIR / f"init-{name}.yaml"


def join_path_for(name: str) -> PurePosixPath:
    return KUBEADM_DIR / f"join-{name}.yaml"


def init_path(node: Node) -> PurePosixPath:
    return init_path_for(node.name)


def join_path(node: Node) -> PurePosixPath:
    return join_path_for(node.name)


def replaces_kube_proxy(dc: Datacenter) -> bool:
    return dc.cluster.cni in KUBE_PROXY_REPLACING_CNIS


def render_kubeadm(dc: Datacenter) -> dict[PurePosixPath, str]:
    """Every kubeadm file of the datacenter, keyed by its path under the output folder."""
    first = init_node(dc)
    files = {init_path(first): dump_yaml_documents(init_documents(dc))}
    for node in join_nodes(dc):
        files[join_path(node)] = dump_yaml_documents([join_document(dc, node, PLACEHOLDERS)])
    files[README_PATH] = readme(dc)
    return dict(sorted(files.items()))


def join_config(
    dc: Datacenter, node: str, token: str, ca_cert_hash: str, certificate_key: str | None
) -> str:
    """The complete join file of one node with the real values in: for stdout, never DIR."""
    target = dc.node(node)
    if target is None:
        known = ", ".join(entry.name for entry in join_nodes(dc)) or "none"
        raise OperationFailed(f"unknown node {node!r}; nodes that join: {known}")
    if target == init_node(dc):
        raise OperationFailed(
            f"node {node!r} is the first control-plane node: it runs `kubeadm init` with "
            f"{init_path(target)}, it does not join"
        )
    template = dump_yaml_documents([join_document(dc, target, PLACEHOLDERS)])
    return fill_join_file(template, node, token, ca_cert_hash, certificate_key)


def fill_join_file(
    text: str, node: str, token: str, ca_cert_hash: str, certificate_key: str | None
) -> str:
    """A join file (as written under DIR) with its placeholders replaced by checked values.

    The values must match kubeadm's own formats, which contain no YAML syntax, so replacing
    the placeholders in the text cannot change the document's structure.
    """
    if not BOOTSTRAP_TOKEN_FORMAT.fullmatch(token):
        raise OperationFailed(
            "malformed bootstrap token: expected [a-z0-9]{6}.[a-z0-9]{16}, "
            "as printed by `kubeadm token create`"
        )
    if not CA_CERT_HASH_FORMAT.fullmatch(ca_cert_hash):
        raise OperationFailed(
            "malformed CA certificate hash: expected sha256:<64 hex digits>, "
            "as printed by `kubeadm token create --print-join-command`"
        )
    if CERTIFICATE_KEY_PLACEHOLDER in text:
        if certificate_key is None:
            raise OperationFailed(
                f"node {node!r} joins the control plane and needs --certificate-key "
                "(printed by `kubeadm init phase upload-certs --upload-certs`)"
            )
        if not CERTIFICATE_KEY_FORMAT.fullmatch(certificate_key):
            raise OperationFailed("malformed certificate key: expected 64 hex digits")
        text = text.replace(CERTIFICATE_KEY_PLACEHOLDER, certificate_key)
    elif certificate_key is not None:
        raise OperationFailed(
            f"node {node!r} is a worker: a certificate key is only for control-plane joins"
        )
    return text.replace(BOOTSTRAP_TOKEN_PLACEHOLDER, token).replace(
        CA_CERT_HASH_PLACEHOLDER, ca_cert_hash
    )


def join_config_from_tree(
    out: Path, node: str, token: str, ca_cert_hash: str, certificate_key: str | None
) -> str:
    """The join file of NODE from a built output folder, with the real values filled in."""
    if (out / init_path_for(node)).is_file():
        raise OperationFailed(
            f"node {node!r} is the first control-plane node: it runs `kubeadm init` with "
            f"{out / init_path_for(node)}, it does not join"
        )
    path = out / join_path_for(node)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        joining = sorted(
            found.name.removeprefix("join-").removesuffix(".yaml")
            for found in (out / "kubeadm").glob("join-*.yaml")
        )
        if not (out / "kubeadm").is_dir():
            raise OperationFailed(
                f"{out / 'kubeadm'} does not exist: run `chartgen build` first"
            ) from None
        raise OperationFailed(
            f"unknown node {node!r}; nodes that join: {', '.join(joining) or 'none'}"
        ) from None
    body = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# "))
    return fill_join_file(body, node, token, ca_cert_hash, certificate_key)


def join_nodes(dc: Datacenter) -> tuple[Node, ...]:
    """Every node but the init node: other control planes first, as they must join first."""
    first = init_node(dc)
    others = [node for node in dc.nodes if node != first]
    return tuple(sorted(others, key=lambda node: (not node.is_control_plane, node.index)))


def init_documents(dc: Datacenter) -> list[dict[str, Any]]:
    api = kubeadm_api_version(dc)
    node = init_node(dc)
    init: dict[str, Any] = {
        "apiVersion": api,
        "kind": "InitConfiguration",
        "nodeRegistration": node_registration(dc, node),
        "localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": API_SERVER_PORT},
    }
    if replaces_kube_proxy(dc):
        init["skipPhases"] = [KUBE_PROXY_PHASE]
    if _is_v1beta4(dc):
        init["timeouts"] = {"controlPlaneComponentHealthCheck": CONTROL_PLANE_HEALTH_TIMEOUT}
    documents = [init, cluster_configuration(dc), kubelet_configuration(dc)]
    if not replaces_kube_proxy(dc):
        documents.append(kube_proxy_configuration(dc))
    return documents


def cluster_configuration(dc: Datacenter) -> dict[str, Any]:
    cluster = dc.cluster
    document: dict[str, Any] = {
        "apiVersion": kubeadm_api_version(dc),
        "kind": "ClusterConfiguration",
        "clusterName": cluster.name,
        "kubernetesVersion": f"v{cluster.kubernetes_version}",
        "controlPlaneEndpoint": cluster.control_plane_endpoint,
        "networking": {
            "dnsDomain": cluster.cluster_domain,
            "podSubnet": cluster.pod_subnet,
            "serviceSubnet": cluster.service_subnet,
        },
    }
    if not _is_v1beta4(dc):
        # v1beta3 keeps this one timeout on the API server; v1beta4 moved it to `timeouts`.
        document["apiServer"] = {"timeoutForControlPlane": CONTROL_PLANE_HEALTH_TIMEOUT}
    return document


def kubelet_configuration(dc: Datacenter) -> dict[str, Any]:
    """Uploaded by `kubeadm init` and used by every kubelet that joins later."""
    return {
        "apiVersion": KUBELET_API_VERSION,
        "kind": "KubeletConfiguration",
        # kubeadm's systemd-managed kubelet and both runtimes' recommended set-up.
        "cgroupDriver": "systemd",
        "clusterDomain": dc.cluster.cluster_domain,
    }


def kube_proxy_configuration(dc: Datacenter) -> dict[str, Any]:
    return {
        "apiVersion": KUBE_PROXY_API_VERSION,
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clusterCIDR": dc.cluster.pod_subnet,
    }


def join_document(dc: Datacenter, node: Node, secrets: JoinSecrets) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": kubeadm_api_version(dc),
        "kind": "JoinConfiguration",
        "nodeRegistration": node_registration(dc, node),
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": dc.cluster.control_plane_endpoint,
                "token": secrets.token,
                "caCertHashes": [secrets.ca_cert_hash],
            }
        },
    }
    if node.is_control_plane:
        document["controlPlane"] = {
            "localAPIEndpoint": {"advertiseAddress": node.address, "bindPort": API_SERVER_PORT},
            "certificateKey": secrets.certificate_key or CERTIFICATE_KEY_PLACEHOLDER,
        }
        if _is_v1beta4(dc):
            document["timeouts"] = {
                "controlPlaneComponentHealthCheck": CONTROL_PLANE_HEALTH_TIMEOUT
            }
    return document


def node_registration(dc: Datacenter, node: Node) -> dict[str, Any]:
    return {
        "name": node.name,
        "criSocket": CRI_SOCKETS[dc.cluster.container_runtime],
        # Always explicit: an absent list makes kubeadm add the control-plane taint.
        "taints": registration_taints(node),
        "kubeletExtraArgs": _extra_args(dc, kubelet_arguments(node)),
    }


def registration_taints(node: Node) -> list[dict[str, str]]:
    """The node's own taints, plus the control-plane taint unless it takes ordinary pods."""
    taints = list(node.taints)
    keeps_control_plane_taint = node.is_control_plane and not node.schedulable
    if keeps_control_plane_taint and not any(
        taint.key == CONTROL_PLANE_TAINT and taint.effect == "NoSchedule" for taint in taints
    ):
        taints.append(Taint(key=CONTROL_PLANE_TAINT, effect="NoSchedule"))
    return [_taint(taint) for taint in taints]


def kubelet_arguments(node: Node) -> dict[str, str]:
    """kubelet flags of one node. Labels are the user's only: kubelet refuses to set most
    kubernetes.io / k8s.io labels itself (node-role.kubernetes.io/worker included)."""
    arguments = {"node-ip": node.address}
    if node.labels:
        arguments["node-labels"] = ",".join(
            f"{key}={node.labels[key]}" for key in sorted(node.labels)
        )
    return arguments


def _extra_args(dc: Datacenter, arguments: Mapping[str, str]) -> Any:
    """v1beta4: a list of {name, value} (duplicates allowed); v1beta3: a map."""
    names = sorted(arguments)
    if _is_v1beta4(dc):
        return [{"name": name, "value": arguments[name]} for name in names]
    return {name: arguments[name] for name in names}


def _taint(taint: Taint) -> dict[str, str]:
    entry = {"key": taint.key}
    if taint.value is not None:
        entry["value"] = taint.value
    entry["effect"] = taint.effect
    return entry


def _is_v1beta4(dc: Datacenter) -> bool:
    return dc.cluster.minor >= FIRST_V1BETA4_MINOR


# README --------------------------------------------------------------------------------------


def readme(dc: Datacenter) -> str:
    """Which file goes on which node, in which order, and the whole bootstrap."""
    sections = [
        _readme_intro(dc),
        _readme_files(dc),
        _readme_prerequisites(dc),
        _readme_init(dc),
        _readme_cni(dc),
        _readme_join(dc),
        _readme_check(dc),
    ]
    return "".join(sections)


def _readme_intro(dc: Datacenter) -> str:
    cluster = dc.cluster
    secrets = (
        "These files hold no secret. The bootstrap token, the CA certificate hash and the "
        "certificate key exist only once `kubeadm init` has run: the join files carry the "
        f"placeholders `{BOOTSTRAP_TOKEN_PLACEHOLDER}`, `{CA_CERT_HASH_PLACEHOLDER}` and "
        f"`{CERTIFICATE_KEY_PLACEHOLDER}`, and `chartgen join-config` prints a node's join "
        "file with the real values (step 4)."
        if join_nodes(dc)
        else "These files hold no secret."
    )
    return _lines(
        f"# kubeadm configuration of {cluster.name}",
        "",
        f"Kubernetes v{cluster.kubernetes_version}, kubeadm API `{kubeadm_api_version(dc)}`, "
        f"container runtime {cluster.container_runtime} "
        f"(`{CRI_SOCKETS[cluster.container_runtime]}`), "
        f"CNI {cluster.cni}.",
        f"Control-plane endpoint `{cluster.control_plane_endpoint}`, pod subnet "
        f"`{cluster.pod_subnet}`, service subnet `{cluster.service_subnet}`, "
        f"cluster domain `{cluster.cluster_domain}`.",
        "",
        secrets,
    )


def _readme_files(dc: Datacenter) -> str:
    first = init_node(dc)
    rows = [
        "| step | node | address | arch | role | file | command |",
        "|---|---|---|---|---|---|---|",
        f"| 1 | {first.name} | {first.address} | {first.arch} | first control plane | "
        f"`{init_path(first).name}` | `kubeadm init` |",
    ]
    for node in join_nodes(dc):
        role = "control plane" if node.is_control_plane else "worker"
        step = "4a" if node.is_control_plane else "4b"
        rows.append(
            f"| {step} | {node.name} | {node.address} | {node.arch} | {role} | "
            f"`{join_path(node).name}` | `kubeadm join` |"
        )
    return _lines("", "## Which file goes on which node", "", *rows)


def _readme_prerequisites(dc: Datacenter) -> str:
    cluster = dc.cluster
    minor = f"1.{cluster.minor}"
    runtime = (
        "containerd, configured with `SystemdCgroup = true` for the runc runtime"
        if cluster.container_runtime == "containerd"
        else f"CRI-O {minor} (it uses the systemd cgroup driver by default)"
    )
    return _lines(
        "",
        "## 0. Every node, before you start",
        "",
        f"- kubeadm, kubelet and kubectl {cluster.kubernetes_version} (packages of "
        f"`pkgs.k8s.io/core:/stable:/v{minor}`), held at that version.",
        f"- The container runtime: {runtime}; the kubelet uses `cgroupDriver: systemd`.",
        "- Swap off, the `overlay` and `br_netfilter` modules loaded, `net.ipv4.ip_forward = 1`.",
        f"- On {init_node(dc).name}: `{init_path(init_node(dc)).name}` from this folder.",
    )


def _readme_init(dc: Datacenter) -> str:
    first = init_node(dc)
    several = len(dc.control_planes) > 1
    command = f"sudo kubeadm init --config {init_path(first).name}"
    if several:
        command += " --upload-certs"
    lines = [
        "",
        f"## 1. Initialise the control plane on {first.name}",
        "",
        "```sh",
        command,
        "mkdir -p $HOME/.kube",
        "sudo cp /etc/kubernetes/admin.conf $HOME/.kube/config",
        "sudo chown $(id -u):$(id -g) $HOME/.kube/config",
        "```",
    ]
    if several:
        lines += [
            "",
            "`--upload-certs` stores the control-plane certificates in the cluster, encrypted "
            "with the certificate key that `kubeadm init` prints; the other control-plane "
            "nodes need that key to join (it expires after two hours).",
        ]
        endpoint_host = dc.cluster.control_plane_endpoint.rsplit(":", 1)[0]
        if endpoint_host == first.address:
            lines += [
                "",
                f"Note: the control-plane endpoint is {first.name}'s own address, so the "
                "API stays reachable only while that node is up. For a highly available "
                "control plane, point `controlPlaneEndpoint` at a load balancer or "
                "virtual IP in front of every control-plane node.",
            ]
    if replaces_kube_proxy(dc):
        lines += [
            "",
            f"kube-proxy is not installed: {dc.cluster.cni} replaces it, so the init "
            f"configuration skips the `{KUBE_PROXY_PHASE}` phase. `kubeadm upgrade` leaves "
            "kube-proxy out as well while kube-system has no `kube-proxy` ConfigMap; check "
            "after each upgrade that no `kube-proxy` DaemonSet appeared.",
        ]
    return _lines(*lines)


def _readme_cni(dc: Datacenter) -> str:
    cluster = dc.cluster
    release = CNI_RELEASES[cluster.cni]
    if dc.platform.enabled and dc.platform.cni:
        return _readme_cni_release(dc)
    lines = ["", f"## 2. Install the CNI ({cluster.cni}), from {init_node(dc).name}", ""]
    if cluster.cni == "flannel":
        url = (
            "https://github.com/flannel-io/flannel/releases/download/"
            f"{release.version}/kube-flannel.yml"
        )
        lines += _cni_manifest_steps(
            dc,
            url,
            "kube-flannel.yml",
            '`"Network"` in the `net-conf.json` of the `kube-flannel-cfg` ConfigMap',
        )
    elif cluster.cni == "calico":
        base = f"https://raw.githubusercontent.com/projectcalico/calico/{release.version}/manifests"
        lines += [
            "```sh",
            f"kubectl create -f {base}/tigera-operator.yaml",
            f"curl -fsSLO {base}/custom-resources.yaml",
            "```",
            "",
        ]
        if cluster.pod_subnet == release.default_pod_subnet:
            lines.append(
                f"`custom-resources.yaml` already uses the pod subnet `{cluster.pod_subnet}`."
            )
        else:
            lines.append(
                "In `custom-resources.yaml`, set `spec.calicoNetwork.ipPools[0].cidr` to "
                f"`{cluster.pod_subnet}` (it ships with `{release.default_pod_subnet}`)."
            )
        lines += ["", "```sh", "kubectl create -f custom-resources.yaml", "```"]
    else:
        host, port = cluster.control_plane_endpoint.rsplit(":", 1)
        lines += [
            "With the cilium CLI; `ipam.mode=kubernetes` makes Cilium use the per-node ranges "
            f"that Kubernetes carves out of the pod subnet `{cluster.pod_subnet}`:",
            "",
            "```sh",
            f"cilium install --version {release.version} \\",
            "  --set kubeProxyReplacement=true \\",
            f"  --set k8sServiceHost={host} \\",
            f"  --set k8sServicePort={port} \\",
            "  --set ipam.mode=kubernetes",
            "cilium status --wait",
            "```",
        ]
    unsupported = sorted({node.name for node in dc.nodes if node.arch not in release.arches})
    if unsupported:
        lines += [
            "",
            f"Warning: {cluster.cni} publishes no image for 32-bit ARM, so pods cannot get a "
            f"network on {', '.join(unsupported)}. flannel supports every architecture.",
        ]
    return _lines(*lines)


def _readme_cni_release(dc: Datacenter) -> str:
    """With `platform.cni`, the CNI is the first release of `chartgen install`."""
    charts = ", ".join(f"`{r.pin.chart}` {r.pin.version}" for r in cni_releases(dc))
    return _lines(
        "",
        f"## 2. The CNI ({dc.cluster.cni}): nothing to do here",
        "",
        f"`platform.cni` is on: `chartgen install` installs {dc.cluster.cni} first, as the "
        f"Helm release of its chart ({charts}) with the pod subnet `{dc.cluster.pod_subnet}`, "
        "before anything else. Nodes stay `NotReady` until it runs: join them (step 3), then run "
        "`chartgen install` from a machine with this cluster's kubeconfig.",
    )


def _cni_manifest_steps(dc: Datacenter, url: str, file_name: str, setting: str) -> list[str]:
    release = CNI_RELEASES[dc.cluster.cni]
    if dc.cluster.pod_subnet == release.default_pod_subnet:
        return ["```sh", f"kubectl apply -f {url}", "```"]
    return [
        "```sh",
        f"curl -fsSLO {url}",
        "```",
        "",
        f"In `{file_name}`, set {setting} to `{dc.cluster.pod_subnet}` (it ships with "
        f"`{release.default_pod_subnet}`), then:",
        "",
        "```sh",
        f"kubectl apply -f {file_name}",
        "```",
    ]


def _readme_join(dc: Datacenter) -> str:
    nodes = join_nodes(dc)
    if not nodes:
        return _lines("", "## 3. Join", "", "This datacenter has a single node: nothing joins.")
    lines = [
        "",
        f"## 3. Print the join values, on {init_node(dc).name}",
        "",
        "```sh",
        "kubeadm token create --print-join-command",
        "```",
        "",
        "It prints `kubeadm join <endpoint> --token <token> --discovery-token-ca-cert-hash "
        "sha256:<hash>`: keep the token and the `sha256:` hash (the token expires after 24 "
        "hours).",
    ]
    if any(node.is_control_plane for node in nodes):
        lines += [
            "The control-plane nodes also need the certificate key printed by "
            "`kubeadm init --upload-certs`; once it has expired, print a new one with "
            "`sudo kubeadm init phase upload-certs --upload-certs`.",
        ]
    lines += [
        "",
        "## 4. Join each node",
        "",
        "Control-plane nodes first, one at a time (4a), then the workers in any order (4b), "
        "whatever their architecture. `chartgen join-config` prints a node's join file with "
        "the real values to stdout; here it goes over ssh straight to the node, which joins "
        "with it and deletes it (copy it by any other means if you prefer, but keep a filled-in "
        "join file out of git: it holds the token). The `join-*.yaml` files of this folder are "
        "the same configuration with placeholders.",
        "",
        "```sh",
    ]
    remote = (
        "'umask 077 && cat > /tmp/kubeadm-join.yaml && "
        "sudo kubeadm join --config /tmp/kubeadm-join.yaml; rm -f /tmp/kubeadm-join.yaml'"
    )
    for node in nodes:
        key = " --certificate-key <key>" if node.is_control_plane else ""
        values = f"--token <token> --ca-cert-hash sha256:<hash>{key}"
        lines += [
            f"chartgen join-config {node.name} {values} \\",
            f"  | ssh {node.address} {remote}",
        ]
    lines.append("```")
    return _lines(*lines)


def _readme_check(dc: Datacenter) -> str:
    step = 5 if join_nodes(dc) else 4
    lines = ["", f"## {step}. Check", "", "```sh", "kubectl get nodes -o wide", "```"]
    if dc.platform.enabled and dc.platform.cni:
        lines += [
            "",
            "The nodes are `NotReady` until the CNI runs; `chartgen install` installs it first, "
            "then the rest of the platform and the services:",
            "",
            "```sh",
            "chartgen install --wait",
            "kubectl get nodes -o wide",
            "```",
        ]
    cordoned = [
        node.name for node in dc.nodes if not node.is_control_plane and not node.schedulable
    ]
    if cordoned:
        lines += [
            "",
            "These workers are declared `schedulable: false`; cordon them once they have joined:",
            "",
            "```sh",
            *(f"kubectl cordon {name}" for name in cordoned),
            "```",
        ]
    return _lines(*lines)


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)
