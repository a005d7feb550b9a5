"""The model of a schema-valid document: every default of the format resolved, once.

The fields every service has are built here; the rest of a service comes from its kind
(`chartgen.kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chartgen.kinds import BuildContext, kinds
from chartgen.model import (
    API_SERVER_PORT,
    DEFAULT_GATEWAY_CLASS,
    DEFAULT_POD_SUBNETS,
    DEFAULT_SERVICE_SUBNET,
    LETS_ENCRYPT,
    Acme,
    Autoscaling,
    Certificates,
    Cluster,
    Datacenter,
    Expose,
    Gateway,
    GitopsSettings,
    ImageOverride,
    LocalFolder,
    NfsExport,
    Node,
    Platform,
    Resources,
    Service,
    StorageClass,
    Taint,
    first_address,
)
from chartgen.model_types import ARCHES, Arch


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
    gitops = _gitops(data["gitops"]) if "gitops" in data else None
    return Datacenter(source, _cluster(data, nodes), nodes, storage, services, platform, gitops)


def _gitops(raw: Mapping[str, Any]) -> GitopsSettings:
    return GitopsSettings(
        tool="flux" if raw["tool"] == "flux" else "argocd",
        repo_url=raw["repoURL"],
        revision=raw.get("revision"),
        path=raw.get("path"),
        prune=raw.get("prune"),
    )


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
        monitoring=raw.get("monitoring", False),
    )


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
    kind = kinds()[raw["type"]]
    explicit_arches = raw.get("architectures")
    if explicit_arches is not None:
        arches = tuple(arch for arch in ARCHES if arch in explicit_arches)
    else:
        supported = kind.supported_architectures
        arches = tuple(arch for arch in ARCHES if arch in node_arches and arch in supported)
    expose = raw.get("expose")
    image = raw.get("image")
    resources = raw.get("resources", {})
    default_resources = kind.default_resources
    autoscaling = raw.get("autoscaling")
    common: dict[str, Any] = {
        "index": index,
        "name": raw["name"],
        "type": kind.name,
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
        "image": ImageOverride(image["repository"], image["tag"], image.get("digest"))
        if image
        else None,
        "resources": Resources(
            cpu=str(resources.get("cpu", default_resources.cpu)),
            memory=str(resources.get("memory", default_resources.memory)),
        ),
        "autoscaling": Autoscaling(autoscaling["maxReplicas"], autoscaling.get("cpuPercent", 80))
        if autoscaling
        else None,
    }
    service: Service = kind.build(raw, common, BuildContext(tls_default=tls_default))
    return service
