"""The datacenter as typed, frozen values, built only from schema-valid input.

Every default of the format is resolved here, once; nothing downstream guesses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from chartgen.model_types import Arch
from chartgen.quantity import parse_quantity

Role = Literal["control-plane", "worker"]
Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
Cni = Literal["flannel", "calico", "cilium"]
Runtime = Literal["containerd", "cri-o"]

DEFAULT_POD_SUBNETS: Mapping[str, str] = {
    "flannel": "10.244.0.0/16",
    "calico": "192.168.0.0/16",
    "cilium": "10.0.0.0/8",
}
DEFAULT_SERVICE_SUBNET = "10.96.0.0/12"
API_SERVER_PORT = 6443
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


@dataclass(frozen=True)
class Resources:
    cpu: str
    memory: str

    @property
    def cpu_value(self) -> Fraction:
        return parse_quantity(self.cpu)

    @property
    def memory_value(self) -> Fraction:
        return parse_quantity(self.memory)


@dataclass(frozen=True)
class Taint:
    key: str
    effect: Effect
    value: str | None = None


@dataclass(frozen=True)
class Node:
    index: int
    name: str
    role: Role
    arch: Arch
    address: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    schedulable: bool = True
    capacity: Resources | None = None

    @property
    def is_control_plane(self) -> bool:
        return self.role == "control-plane"

    @property
    def accepts_pods(self) -> bool:
        """Pods without tolerations (chartgen's) can land here."""
        return self.schedulable and not any(
            taint.effect in ("NoSchedule", "NoExecute") for taint in self.taints
        )


@dataclass(frozen=True)
class Cluster:
    name: str
    description: str
    kubernetes_version: str
    control_plane_endpoint: str
    pod_subnet: str
    service_subnet: str
    cni: Cni
    container_runtime: Runtime
    cluster_domain: str
    explicit: frozenset[str] = frozenset()

    @property
    def minor(self) -> int:
        return int(self.kubernetes_version.split(".")[1])


@dataclass(frozen=True)
class NfsExport:
    server: str
    path: str


@dataclass(frozen=True)
class LocalFolder:
    node: str
    path: str


@dataclass(frozen=True)
class StorageClass:
    index: int
    name: str
    type: Literal["nfs", "local"]
    default: bool
    nfs: NfsExport | None = None
    local: LocalFolder | None = None

    @property
    def read_write_many(self) -> bool:
        return self.type == "nfs"


@dataclass(frozen=True)
class Volume:
    storage_class: str | None
    size: str


@dataclass(frozen=True)
class Expose:
    host: str | None
    port: int
    tls: bool = False
    path: str = "/"


@dataclass(frozen=True)
class ImageOverride:
    repository: str
    tag: str
    digest: str | None = None


@dataclass(frozen=True)
class Autoscaling:
    max_replicas: int
    cpu_percent: int


@dataclass(frozen=True)
class Service:
    index: int
    name: str
    type: str  # the name of its kind (chartgen.kinds)
    replicas: int
    architectures: tuple[Arch, ...]
    architectures_explicit: bool
    namespace: str
    annotations: Mapping[str, str]
    expose: Expose | None
    image: ImageOverride | None
    resources: Resources
    autoscaling: Autoscaling | None

    @property
    def peak_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas

    @property
    def route_host(self) -> str | None:
        """The host name the router sends to this service, if any."""
        return self.expose.host if self.expose is not None else None

    @property
    def route_tls(self) -> bool:
        return self.expose is not None and self.expose.tls

    @property
    def route_path(self) -> str:
        return self.expose.path if self.expose is not None else "/"


GatewayController = Literal["traefik", "external"]
RouteApi = Literal["gateway", "ingress"]
Issuer = Literal["selfsigned", "acme"]
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
DEFAULT_GATEWAY_CLASS = "traefik"


@dataclass(frozen=True)
class Gateway:
    """The router of every `expose.host`: Traefik installed by chartgen, or the user's own."""

    controller: GatewayController
    class_name: str
    address: str | None  # the router Service's IP from the pool; None without a pool
    api: RouteApi


@dataclass(frozen=True)
class Acme:
    email: str
    server: str


@dataclass(frozen=True)
class Certificates:
    issuer: Issuer
    acme: Acme | None = None


@dataclass(frozen=True)
class Platform:
    """What chartgen installs around the services; everything off without a `platform` key."""

    enabled: bool = False
    pool: tuple[str, ...] = ()  # MetalLB addresses: ranges A-B or CIDRs
    gateway: Gateway | None = None
    certificates: Certificates | None = None
    metrics: bool = False
    cni: bool = False
    monitoring: bool = False  # kube-prometheus-stack, and a scrape target per workload


@dataclass(frozen=True)
class GitopsSettings:
    """The file's `gitops` key: what `chartgen build --gitops ...` would say, kept in the file."""

    tool: Literal["argocd", "flux"]
    repo_url: str
    revision: str | None = None  # None: the default (main)
    path: str | None = None  # None: the output folder as given to `build -o`
    prune: bool | None = None


@dataclass(frozen=True)
class Datacenter:
    source: str
    cluster: Cluster
    nodes: tuple[Node, ...]
    storage: tuple[StorageClass, ...]
    services: tuple[Service, ...]
    platform: Platform = Platform()
    gitops: GitopsSettings | None = None

    def node(self, name: str) -> Node | None:
        return next((node for node in self.nodes if node.name == name), None)

    def storage_class(self, name: str | None) -> StorageClass | None:
        """The named class, or the default one when `name` is None."""
        if name is None:
            return next((entry for entry in self.storage if entry.default), None)
        return next((entry for entry in self.storage if entry.name == name), None)

    @property
    def control_planes(self) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.is_control_plane)

    @property
    def pod_nodes(self) -> tuple[Node, ...]:
        return tuple(node for node in self.nodes if node.accepts_pods)


def address_ranges(entry: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """First and last address of a pool entry, `A-B` or a CIDR."""
    if "-" in entry:
        first, last = entry.split("-", 1)
        return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    network = ipaddress.IPv4Network(entry, strict=False)
    return network[0], network[-1]


def first_address(entry: str) -> str:
    return str(address_ranges(entry)[0])


def volume_from(raw: Mapping[str, Any]) -> Volume:
    """A `{class, size}` entry of the file."""
    return Volume(raw.get("class"), str(raw["size"]))


def subnet(cidr: str) -> ipaddress.IPv4Network:
    """The network of a CIDR, host bits allowed (kubeadm accepts them too)."""
    return ipaddress.IPv4Network(cidr, strict=False)
