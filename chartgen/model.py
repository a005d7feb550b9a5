"""The datacenter as typed, frozen values, built only from schema-valid input.

Every default of the format is resolved here, once; nothing downstream guesses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from chartgen.images import supported_architectures
from chartgen.model_types import ARCHES, Arch
from chartgen.quantity import parse_quantity

Role = Literal["control-plane", "worker"]
Effect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
Cni = Literal["flannel", "calico", "cilium"]
Runtime = Literal["containerd", "cri-o"]
Web = Literal["apache", "nginx"]

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


DEFAULT_RESOURCES: Mapping[str, Resources] = {
    "nginx": Resources(cpu="50m", memory="64Mi"),
    "nextcloud": Resources(cpu="250m", memory="512Mi"),
}
# The containers of the Nextcloud stack besides PHP-FPM; not user-settable in format v1.
WEB_FRONT_RESOURCES = Resources(cpu="50m", memory="64Mi")
POSTGRES_RESOURCES = Resources(cpu="250m", memory="256Mi")
REDIS_RESOURCES = Resources(cpu="50m", memory="64Mi")


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


@dataclass(frozen=True)
class Autoscaling:
    max_replicas: int
    cpu_percent: int


@dataclass(frozen=True)
class Service:
    index: int
    name: str
    type: Literal["nginx", "nextcloud"]
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


@dataclass(frozen=True)
class NginxService(Service):
    pass


@dataclass(frozen=True)
class NextcloudService(Service):
    host: str = ""
    web: Web = "apache"
    storage: Volume = Volume(None, "")
    database_storage: Volume = Volume(None, "")
    redis: bool = False
    tls: bool = False

    @property
    def route_host(self) -> str | None:
        return self.host

    @property
    def route_tls(self) -> bool:
        return self.tls


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


@dataclass(frozen=True)
class Datacenter:
    source: str
    cluster: Cluster
    nodes: tuple[Node, ...]
    storage: tuple[StorageClass, ...]
    services: tuple[Service, ...]
    platform: Platform = Platform()

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


def build_datacenter(data: Mapping[str, Any], source: str) -> Datacenter:
    """The model of a schema-valid document, defaults resolved."""
    nodes = tuple(_node(index, entry) for index, entry in enumerate(data["nodes"]))
    storage = tuple(_storage(index, entry) for index, entry in enumerate(data.get("storage", [])))
    node_arches = {node.arch for node in nodes if node.accepts_pods}
    raw_platform = data.get("platform")
    tls_default = bool(raw_platform and raw_platform.get("certificates"))
    services = tuple(
        _service(index, entry, node_arches, tls_default)
        for index, entry in enumerate(data["services"])
    )
    platform = _platform(raw_platform, services) if raw_platform is not None else Platform()
    return Datacenter(source, _cluster(data, nodes), nodes, storage, services, platform)


def _platform(raw: Mapping[str, Any], services: tuple[Service, ...]) -> Platform:
    pool = tuple(raw.get("loadBalancer", {}).get("addresses", ()))
    routed = any(service.route_host for service in services)
    raw_gateway = raw.get("gateway")
    gateway = None
    if raw_gateway is not None or routed:
        raw_gateway = raw_gateway or {}
        gateway = Gateway(
            controller=raw_gateway.get("controller", "traefik"),
            class_name=raw_gateway.get("className", DEFAULT_GATEWAY_CLASS),
            address=raw_gateway.get("address", first_address(pool[0]) if pool else None),
            api=raw_gateway.get("api", "gateway"),
        )
    raw_certificates = raw.get("certificates")
    certificates = None
    if raw_certificates is not None:
        acme = raw_certificates.get("acme")
        certificates = Certificates(
            issuer=raw_certificates["issuer"],
            acme=Acme(acme["email"], acme.get("server", LETS_ENCRYPT)) if acme else None,
        )
    autoscaled = any(service.autoscaling is not None for service in services)
    return Platform(
        enabled=True,
        pool=pool,
        gateway=gateway,
        certificates=certificates,
        metrics=raw.get("metrics", autoscaled),
        cni=raw.get("cni", True),
    )


def address_ranges(entry: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """First and last address of a pool entry, `A-B` or a CIDR."""
    if "-" in entry:
        first, last = entry.split("-", 1)
        return ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    network = ipaddress.IPv4Network(entry, strict=False)
    return network[0], network[-1]


def first_address(entry: str) -> str:
    return str(address_ranges(entry)[0])


def _cluster(data: Mapping[str, Any], nodes: tuple[Node, ...]) -> Cluster:
    raw = data["cluster"]
    cni = raw.get("cni", "flannel")
    first_control_plane = next((node for node in nodes if node.is_control_plane), nodes[0])
    endpoint = raw.get("controlPlaneEndpoint", f"{first_control_plane.address}:{API_SERVER_PORT}")
    return Cluster(
        name=data["metadata"]["name"],
        description=data["metadata"].get("description", ""),
        kubernetes_version=raw["kubernetesVersion"],
        control_plane_endpoint=endpoint,
        pod_subnet=raw.get("podSubnet", DEFAULT_POD_SUBNETS[cni]),
        service_subnet=raw.get("serviceSubnet", DEFAULT_SERVICE_SUBNET),
        cni=cni,
        container_runtime=raw.get("containerRuntime", "containerd"),
        cluster_domain=raw.get("clusterDomain", "cluster.local"),
        explicit=frozenset(raw),
    )


def _node(index: int, raw: Mapping[str, Any]) -> Node:
    capacity = raw.get("capacity")
    return Node(
        index=index,
        name=raw["name"],
        role=raw["role"],
        arch=raw["arch"],
        address=raw["address"],
        labels=dict(raw.get("labels", {})),
        taints=tuple(
            Taint(key=taint["key"], effect=taint["effect"], value=taint.get("value"))
            for taint in raw.get("taints", [])
        ),
        schedulable=raw.get("schedulable", raw["role"] == "worker"),
        capacity=Resources(str(capacity["cpu"]), str(capacity["memory"])) if capacity else None,
    )


def _storage(index: int, raw: Mapping[str, Any]) -> StorageClass:
    nfs = raw.get("nfs")
    local = raw.get("local")
    return StorageClass(
        index=index,
        name=raw["name"],
        type=raw["type"],
        default=raw.get("default", False),
        nfs=NfsExport(nfs["server"], nfs["path"]) if nfs else None,
        local=LocalFolder(local["node"], local["path"]) if local else None,
    )


def _service(
    index: int, raw: Mapping[str, Any], node_arches: set[Arch], tls_default: bool
) -> Service:
    service_type = raw["type"]
    explicit_arches = raw.get("architectures")
    if explicit_arches is not None:
        arches = tuple(arch for arch in ARCHES if arch in explicit_arches)
    else:
        supported = supported_architectures(service_type)
        arches = tuple(arch for arch in ARCHES if arch in node_arches and arch in supported)
    expose = raw.get("expose")
    image = raw.get("image")
    resources = raw.get("resources", {})
    default_resources = DEFAULT_RESOURCES[service_type]
    autoscaling = raw.get("autoscaling")
    common: dict[str, Any] = {
        "index": index,
        "name": raw["name"],
        "type": service_type,
        "replicas": raw.get("replicas", 1),
        "architectures": arches,
        "architectures_explicit": explicit_arches is not None,
        "namespace": raw.get("namespace", raw["name"]),
        "annotations": dict(raw.get("annotations", {})),
        "expose": Expose(
            host=expose.get("host"),
            port=expose.get("port", 80),
            tls=expose.get("tls", tls_default),
            path=expose.get("path", "/"),
        )
        if expose
        else None,
        "image": ImageOverride(image["repository"], image["tag"]) if image else None,
        "resources": Resources(
            cpu=str(resources.get("cpu", default_resources.cpu)),
            memory=str(resources.get("memory", default_resources.memory)),
        ),
        "autoscaling": Autoscaling(autoscaling["maxReplicas"], autoscaling.get("cpuPercent", 80))
        if autoscaling
        else None,
    }
    if service_type == "nginx":
        return NginxService(**common)
    peak_replicas = autoscaling["maxReplicas"] if autoscaling else common["replicas"]
    return NextcloudService(
        **common,
        host=raw["host"],
        web=raw.get("web", "apache"),
        storage=_volume(raw["storage"]),
        database_storage=_volume(raw["database"]["storage"]),
        redis=raw.get("redis", peak_replicas > 1),
        tls=common["expose"].tls if common["expose"] else tls_default,
    )


def _volume(raw: Mapping[str, Any]) -> Volume:
    return Volume(raw.get("class"), str(raw["size"]))


def subnet(cidr: str) -> ipaddress.IPv4Network:
    """The network of a CIDR, host bits allowed (kubeadm accepts them too)."""
    return ipaddress.IPv4Network(cidr, strict=False)
