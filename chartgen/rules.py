"""Cross-field rules of the format (spec "Cross-field rules"), one function each.

They run on the typed model of a schema-valid document and point back into the file
through `Document.position`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction

from chartgen import grafana_admin
from chartgen.charts.namespaces import RELEASE_NAME as NAMESPACES_RELEASE
from chartgen.charts.namespaces import SYSTEM_NAMESPACES
from chartgen.charts.storage import RELEASE_NAME as STORAGE_RELEASE
from chartgen.kinds import kind_of
from chartgen.loader import Document, PathPart
from chartgen.model import (
    Datacenter,
    Node,
    Resources,
    Service,
    address_ranges,
    subnet,
)
from chartgen.model_types import ARCHES
from chartgen.platform import (
    HTTP_NODE_PORT,
    HTTPS_NODE_PORT,
    MAX_TLS_HOSTS,
    MONITORING_NAMESPACE,
    NODE_EXPORTER_NAMESPACE,
    UpstreamRelease,
    platform_plan,
    tls_hosts,
    uses_gateway_api,
)
from chartgen.platform_pins import MONITORING_64_BIT_ONLY
from chartgen.pod_security import NODE_EXPORTER_LEVEL
from chartgen.problems import Problem
from chartgen.quantity import format_cpu, format_memory, parse_quantity
from chartgen.rule_support import error_at, has_key, service_path, warning_at

Rule = Callable[[Datacenter, Document], Iterator[Problem]]

# Labels the kubelet may set on its own node (k8s.io/kubernetes pkg/kubelet/apis).
KUBELET_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
    }
)
KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
RESTRICTED_NAMESPACES = ("kubernetes.io", "k8s.io")


# Rule 1
def control_plane_present(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    if not dc.control_planes:
        yield error_at(doc, ["nodes"], 'at least one node must have role "control-plane"')


# Rule 2
def names_unique(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    groups: list[tuple[str, str, Iterable[tuple[int, str]]]] = [
        ("nodes", "node", ((node.index, node.name) for node in dc.nodes)),
        ("storage", "storage class", ((entry.index, entry.name) for entry in dc.storage)),
        ("services", "service", ((service.index, service.name) for service in dc.services)),
    ]
    for key, what, entries in groups:
        first: dict[str, int] = {}
        for index, name in entries:
            if name in first:
                line = doc.position([key, first[name], "name"])[0]
                yield error_at(
                    doc,
                    [key, index, "name"],
                    f'duplicate {what} name "{name}" (first on line {line})',
                )
            else:
                first[name] = index


# chartgen's own releases sit in releases.yaml beside the services' and `install` orders them
# by name: a service of the same name would make two releases of one name.
RESERVED_RELEASES = {
    NAMESPACES_RELEASE: "namespaces chart",
    STORAGE_RELEASE: "storage chart",
}


def service_names_not_reserved(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        chart = RESERVED_RELEASES.get(service.name)
        if chart is not None:
            yield error_at(
                doc,
                service_path(service, "name"),
                f'"{service.name}" is the release name of chartgen\'s own {chart}: '
                "choose another name",
            )


# Rule 3
def references_exist(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for entry in dc.storage:
        if entry.local is not None and dc.node(entry.local.node) is None:
            yield error_at(
                doc,
                ["storage", entry.index, "local", "node"],
                f'no node named "{entry.local.node}"',
            )
    for service in dc.services:
        for path, volume in kind_of(service).volumes(service):
            if volume.storage_class is None:
                if dc.storage_class(None) is None:
                    yield error_at(
                        doc,
                        service_path(service, *path, "class"),
                        "required: no storage class has default: true",
                    )
            elif dc.storage_class(volume.storage_class) is None:
                yield error_at(
                    doc,
                    service_path(service, *path, "class"),
                    f'no storage class named "{volume.storage_class}"',
                )


# Rule 4
def subnets_disjoint(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    cluster = dc.cluster
    pods, services = subnet(cluster.pod_subnet), subnet(cluster.service_subnet)
    where = "serviceSubnet" if "serviceSubnet" in cluster.explicit else "podSubnet"
    if pods.overlaps(services):
        defaulted = [
            f"{name} is the {cluster.cni} default"
            if name == "podSubnet"
            else f"{name} is the default"
            for name in ("podSubnet", "serviceSubnet")
            if name not in cluster.explicit
        ]
        note = f" ({'; '.join(defaulted)}: set it explicitly)" if defaulted else ""
        yield error_at(
            doc,
            ["cluster", where],
            f"podSubnet {cluster.pod_subnet} and serviceSubnet {cluster.service_subnet} "
            f"overlap{note}",
        )
    # Once per subnet, at the value to change (the nodes' addresses are rarely the mistake).
    for name, network in (("podSubnet", pods), ("serviceSubnet", services)):
        inside = [node for node in dc.nodes if ipaddress.IPv4Address(node.address) in network]
        if not inside:
            continue
        listed = ", ".join(f'{node.address} ("{node.name}")' for node in inside)
        addresses = "the address of node" if len(inside) == 1 else "the addresses of nodes"
        if name in cluster.explicit:
            yield error_at(
                doc,
                ["cluster", name],
                f"{network} contains {addresses} {listed}; choose a {name} outside "
                "the nodes' network",
            )
        else:
            default = f"the {cluster.cni} default" if name == "podSubnet" else "the default"
            yield error_at(
                doc,
                ["cluster"],
                f"{name} is {default}, {network}, which contains {addresses} {listed}; "
                f"set cluster.{name} to a range outside the nodes' network",
            )


# Rule 5 (and the image catalog: an explicit architecture no image publishes)
def architectures_available(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    pod_arches = {node.arch for node in dc.pod_nodes}
    for service in dc.services:
        supported = kind_of(service).supported_architectures
        if service.architectures_explicit:
            for position, arch in enumerate(service.architectures):
                path = service_path(
                    service, "architectures", _raw_arch_index(doc, service, arch, position)
                )
                if arch not in supported:
                    yield error_at(
                        doc,
                        path,
                        f'the images of a {service.type} service are not published for "{arch}"',
                    )
                elif arch not in pod_arches:
                    yield error_at(doc, path, f'no schedulable node has architecture "{arch}"')
        if service.replicas > 0 and not runnable_nodes(dc, service):
            if pod_arches:
                reason = f"architectures {', '.join(service.architectures) or 'none'} allowed"
            else:
                reason = "no node is schedulable and free of NoSchedule/NoExecute taints"
            yield error_at(
                doc,
                service_path(service, "replicas"),
                f'no schedulable node can run "{service.name}" ({reason})',
            )


def _raw_arch_index(doc: Document, service: Service, arch: str, fallback: int) -> int:
    raw = doc.data["services"][service.index].get("architectures", [])
    return raw.index(arch) if arch in raw else fallback


# Rule 5, continued: a local volume pins its pod to one node, which must be able to run it.
def local_volumes_reachable(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        if service.replicas == 0:
            continue
        for path, volume in kind_of(service).volumes(service):
            storage = dc.storage_class(volume.storage_class)
            if storage is None or storage.local is None:
                continue
            node = dc.node(storage.local.node)
            if node is not None and node not in runnable_nodes(dc, service):
                yield error_at(
                    doc,
                    service_path(service, *path, "class"),
                    f'class "{storage.name}" keeps its volumes on node "{node.name}", where '
                    f'"{service.name}" cannot run: {_why_not_runnable(node, service)}',
                )


def _why_not_runnable(node: Node, service: Service) -> str:
    if not node.schedulable:
        return "the node is not schedulable"
    if not node.accepts_pods:
        return "the node has a NoSchedule or NoExecute taint"
    allowed = ", ".join(service.architectures) or "none"
    return f"its architecture {node.arch} is not one of the service's ({allowed})"


def autoscaling_bounds(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        if service.autoscaling is None:
            continue
        if service.replicas < 1:
            yield error_at(
                doc,
                service_path(service, "replicas"),
                "must be at least 1 with autoscaling (it is the minimum number of replicas)",
            )
        elif service.autoscaling.max_replicas <= service.replicas:
            yield error_at(
                doc,
                service_path(service, "autoscaling", "maxReplicas"),
                f"{service.autoscaling.max_replicas} must be greater than replicas "
                f"({service.replicas})",
            )


# Rule 7
def node_labels_allowed(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for node in dc.nodes:
        for key in node.labels:
            if not kubelet_may_set(key):
                yield error_at(
                    doc,
                    ["nodes", node.index, "labels", key],
                    f'label "{key}" is in a namespace reserved for Kubernetes; the kubelet '
                    "refuses to set it (use your own prefix, e.g. example.com/...)",
                )


def kubelet_may_set(key: str) -> bool:
    if "/" not in key:
        return True
    namespace = key.split("/", 1)[0]
    restricted = any(
        namespace == ns or namespace.endswith("." + ns) for ns in RESTRICTED_NAMESPACES
    )
    if not restricted or key in KUBELET_LABELS:
        return True
    return any(namespace == ns or namespace.endswith("." + ns) for ns in KUBELET_LABEL_NAMESPACES)


# Rule 8
def one_default_storage_class(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    defaults = [entry for entry in dc.storage if entry.default]
    for extra in defaults[1:]:
        yield error_at(
            doc,
            ["storage", extra.index, "default"],
            f'only one storage class may be default; "{defaults[0].name}" already is',
        )


# Rule 9
def placement_fits(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        if service.replicas == 0:
            continue
        nodes = eligible_nodes(dc, service)
        if not nodes or all(node.capacity is None for node in nodes):
            continue
        pod = main_pod_requests(service)
        if any(_fits(pod, node) for node in nodes):
            continue
        largest = ", ".join(
            f"{node.name} cpu {node.capacity.cpu} memory {node.capacity.memory}"
            for node in nodes
            if node.capacity is not None
        )
        path = (
            service_path(service, "resources")
            if has_key(doc, service, "resources")
            else service_path(service)
        )
        yield error_at(
            doc,
            path,
            f"one pod requests cpu {format_cpu(pod[0])}, memory {format_memory(pod[1])}, "
            f"more than any node it may run on offers ({largest})",
        )


def capacity_total(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    pod_nodes = dc.pod_nodes
    if not pod_nodes or any(node.capacity is None for node in pod_nodes):
        return
    offered_cpu = sum((node.capacity.cpu_value for node in pod_nodes if node.capacity), Fraction(0))
    offered_memory = sum(
        (node.capacity.memory_value for node in pod_nodes if node.capacity), Fraction(0)
    )
    wanted_cpu, wanted_memory = Fraction(0), Fraction(0)
    for service in dc.services:
        for requests, count in workload_requests(service):
            wanted_cpu += requests.cpu_value * count
            wanted_memory += requests.memory_value * count
    if wanted_cpu > offered_cpu or wanted_memory > offered_memory:
        yield warning_at(
            doc,
            ["services"],
            f"the services request cpu {format_cpu(wanted_cpu)}, "
            f"memory {format_memory(wanted_memory)} at full scale; "
            f"the schedulable nodes offer cpu {format_cpu(offered_cpu)}, "
            f"memory {format_memory(offered_memory)}",
            "capacity-exceeded",
        )


# Warnings: single points of failure and risky storage
def single_points_of_failure(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        placement = kind_of(service).placement(service)
        if service.replicas == 0 or placement == "scheduled":
            continue
        if placement == "replicas" and service.replicas == 1 and service.autoscaling is None:
            path = (
                service_path(service, "replicas")
                if has_key(doc, service, "replicas")
                else service_path(service)
            )
            yield warning_at(
                doc,
                path,
                f'"{service.name}" runs 1 replica: a single point of failure',
                "single-point-of-failure-replica",
            )
            continue
        nodes = eligible_nodes(dc, service)
        if len(nodes) == 1:
            yield warning_at(
                doc,
                service_path(service),
                f'all pods of "{service.name}" can only run on node "{nodes[0].name}": '
                "a single point of failure",
                "single-point-of-failure-node",
            )


# CNIs that implement no NetworkPolicy: the API accepts the objects, nothing applies them.
CNIS_WITHOUT_NETWORK_POLICY = frozenset({"flannel"})
NETWORK_POLICIES_UNENFORCED = "network-policies-unenforced"
_NAMED_AT_MOST = 3  # services named in that warning; a count stands for the rest


def network_policies_enforced(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """Every service chart ships NetworkPolicies (who may reach a database, which ports a pod
    opens); under a CNI that ignores them, say once what stays open."""
    if dc.cluster.cni not in CNIS_WITHOUT_NETWORK_POLICY or not dc.services:
        return
    named = dc.services[:_NAMED_AT_MOST]
    guarded = [kind_of(service).guarded(service) for service in named]
    opened = [what for what in guarded if what is not None]
    ports = [f'"{service.name}"' for service, what in zip(named, guarded, strict=True) if not what]
    if ports:
        opened.append(f"every port of the pods of {', '.join(ports)}")
    if len(dc.services) > _NAMED_AT_MOST:
        more = len(dc.services) - _NAMED_AT_MOST
        opened.append(f"the pods of {more} more service{'' if more == 1 else 's'}")
    reached = opened[0] if len(opened) == 1 else f"{'; '.join(opened[:-1])}; and {opened[-1]}"
    cluster = doc.data.get("cluster", {})
    path: list[PathPart] = ["cluster", "cni"] if "cni" in cluster else ["cluster"]
    yield warning_at(
        doc,
        path,
        f"{dc.cluster.cni} enforces no NetworkPolicy, and the charts rely on theirs: any pod "
        f"of the cluster can reach {reached}. Choose calico or cilium to enforce them",
        rule=NETWORK_POLICIES_UNENFORCED,
    )


# Rules of the platform layer (format v1.1) ----------------------------------------------------


def _platform_path(doc: Document, *parts: PathPart) -> list[PathPart]:
    """The deepest part of `platform.<parts>` the file has (a default has no position)."""
    path: list[PathPart] = ["platform"]
    node = doc.data.get("platform", {})
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            break
        path.append(part)
        node = node[part]
    return path


# Rule 10
def autoscaling_has_metrics(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    for service in dc.services:
        if service.autoscaling is None:
            continue
        path = service_path(service, "autoscaling")
        if not dc.platform.enabled:
            yield warning_at(
                doc,
                path,
                "a HorizontalPodAutoscaler reads resource metrics, and nothing in this file "
                "installs metrics-server: add `platform: {metrics: true}` (or run one yourself)",
                "autoscaling-without-metrics-server",
            )
        elif not dc.platform.metrics:
            yield error_at(
                doc,
                path,
                "needs resource metrics, but platform.metrics is false: the "
                "HorizontalPodAutoscaler could never scale",
            )


# Rule 11 (as the format says, for `expose.host`: a Nextcloud's `host` always had its Ingress)
def routes_have_a_router(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    if dc.platform.gateway is not None:
        return
    for service in dc.services:
        if service.expose is None or service.expose.host is None:
            continue
        if service.expose.host != service.route_host:
            continue  # a host the service's type refuses (its own rule says so): never routed
        yield warning_at(
            doc,
            service_path(service, "expose", "host"),
            f'nothing in this file routes "{service.expose.host}" to the service: its Ingress '
            "waits for the cluster's default ingress controller; add `platform: {}` to have "
            "chartgen install one (Traefik)",
            "route-without-router",
        )


# Rule 12
def routes_unique(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    first: dict[tuple[str, str], Service] = {}
    for service in dc.services:
        host = service.route_host
        if host is None:
            continue
        key = (host, service.route_path)
        if key in first:
            other = first[key]
            yield error_at(
                doc,
                _route_host_path(service),
                f'"{other.name}" already routes {host}{service.route_path} (line '
                f"{doc.position(_route_host_path(other))[0]}): give one of them another host "
                "or expose.path",
            )
        else:
            first[key] = service


def _route_host_path(service: Service) -> list[PathPart]:
    if service.expose is not None and service.expose.host == service.route_host:
        return service_path(service, "expose", "host")
    return service_path(service, "host")


# Rule 13
def addresses_unique(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    seen: dict[str, Node] = {}
    for node in dc.nodes:
        if node.address in seen:
            yield error_at(
                doc,
                ["nodes", node.index, "address"],
                f'{node.address} is already the address of node "{seen[node.address].name}"',
            )
        else:
            seen.setdefault(node.address, node)
    cluster = dc.cluster
    networks = (
        ("podSubnet", subnet(cluster.pod_subnet)),
        ("serviceSubnet", subnet(cluster.service_subnet)),
    )
    ranges: list[tuple[int, ipaddress.IPv4Address, ipaddress.IPv4Address]] = []
    for index, entry in enumerate(dc.platform.pool):
        path: list[PathPart] = ["platform", "loadBalancer", "addresses", index]
        first, last = address_ranges(entry)
        if last < first:
            yield error_at(doc, path, f"{entry}: the range ends before it starts")
            continue
        for node in dc.nodes:
            if first <= ipaddress.IPv4Address(node.address) <= last:
                yield error_at(
                    doc,
                    path,
                    f'{entry} contains {node.address}, the address of node "{node.name}"',
                )
        for name, network in networks:
            if first <= network[-1] and network[0] <= last:
                yield error_at(doc, path, f"{entry} overlaps the cluster's {name} {network}")
        for other, other_first, other_last in ranges:
            if first <= other_last and other_first <= last:
                yield error_at(
                    doc, path, f"{entry} overlaps {dc.platform.pool[other]} of the same pool"
                )
        ranges.append((index, first, last))


def gateway_address_in_pool(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    gateway = dc.platform.gateway
    raw = doc.data.get("platform", {}).get("gateway", {})
    if gateway is None or "address" not in raw:
        return
    path = ["platform", "gateway", "address"]
    if gateway.controller == "external" and not dc.platform.pool:
        return  # asked of the user's own implementation, from its own addresses
    if not dc.platform.pool:
        yield error_at(
            doc,
            path,
            "needs platform.loadBalancer.addresses: the router's Service takes its address "
            "from that pool",
        )
        return
    address = ipaddress.IPv4Address(gateway.address)
    if not any(first <= address <= last for first, last in map(address_ranges, dc.platform.pool)):
        yield error_at(
            doc,
            path,
            f"{gateway.address} is not in platform.loadBalancer.addresses "
            f"({', '.join(dc.platform.pool)})",
        )


def router_without_pool(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    gateway = dc.platform.gateway
    if gateway is None or gateway.controller != "traefik" or dc.platform.pool:
        return
    nodes = dc.pod_nodes or dc.nodes
    yield warning_at(
        doc,
        _platform_path(doc, "gateway"),
        "no platform.loadBalancer.addresses: the router listens on a NodePort of every node, "
        f"http://{nodes[0].address}:{HTTP_NODE_PORT}/ and https://{nodes[0].address}:"
        f"{HTTPS_NODE_PORT}/ (point the hosts' DNS at a node; give a pool for ports 80/443)",
        "router-without-load-balancer",
    )


# Rule 14
def tls_has_certificates(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    if dc.platform.certificates is not None:
        return
    for service in dc.services:
        if service.expose is not None and service.expose.tls:
            yield error_at(
                doc,
                service_path(service, "expose", "tls"),
                "needs platform.certificates: nothing would issue the host's certificate",
            )


def tls_hosts_fit_the_gateway(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    if not uses_gateway_api(dc):
        return
    hosts = tls_hosts(dc)
    if len(hosts) > MAX_TLS_HOSTS:
        yield error_at(
            doc,
            ["services"],
            f"{len(hosts)} hosts are served over HTTPS; one Gateway holds {MAX_TLS_HOSTS} "
            "(a listener each, beside plain HTTP)",
        )


def platform_names_free(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """The platform's releases sit in releases.yaml beside the services', in namespaces that
    helm creates for them."""
    plan = platform_plan(dc)
    names, namespaces = set(plan.names), plan.namespaces - SYSTEM_NAMESPACES
    for service in dc.services:
        if service.name in names:
            yield error_at(
                doc,
                service_path(service, "name"),
                f'"{service.name}" is the release name of a platform chart of this file: '
                "choose another name",
            )
        if service.namespace in namespaces:
            path = (
                service_path(service, "namespace")
                if has_key(doc, service, "namespace")
                else service_path(service, "name")
            )
            yield error_at(
                doc,
                path,
                f'namespace "{service.namespace}" belongs to the platform layer: choose '
                "another namespace",
            )


def platform_architectures(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """A node whose architecture an upstream chart's images lack gets none of its pods (for the
    CNI, no pod network at all)."""
    for release in platform_plan(dc).releases:
        if not isinstance(release, UpstreamRelease):
            continue
        missing = [node.name for node in dc.nodes if node.arch not in release.pin.platforms]
        if missing:
            yield warning_at(
                doc,
                _platform_path(doc),
                f"{release.pin.chart} {release.pin.version} publishes no image for "
                f"{', '.join(sorted({n.arch for n in dc.nodes if n.name in missing}))}: "
                f"{', '.join(missing)} get none of its pods",
                "platform-image-architecture",
            )


def monitoring_namespace_privileged(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """Say which namespace Pod Security does not guard: node-exporter's."""
    if dc.platform.monitoring:
        yield warning_at(
            doc,
            _platform_path(doc, "monitoring"),
            f"node-exporter reads every node's /proc, /sys and root filesystem in the host's "
            f"network and PID namespaces: its namespace {NODE_EXPORTER_NAMESPACE} is labelled "
            f"Pod Security {NODE_EXPORTER_LEVEL} (namespace {MONITORING_NAMESPACE} stays "
            "restricted)",
            "monitoring-namespace-privileged",
        )


def monitoring_64_bit_schedulable(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """Some pieces of the monitoring release run on 64-bit nodes only; without such a node its
    pre-install hooks never run and the release never installs."""
    if not dc.platform.monitoring or not dc.pod_nodes:
        return  # no schedulable node at all is rule 5's error
    node_arches = {node.arch for node in dc.pod_nodes}
    pieces = (
        ("Grafana", MONITORING_64_BIT_ONLY),
        ("its admin Secret's Job", grafana_admin.HOOK_IMAGE.platforms),
        ("the admission webhook's certificate Jobs", MONITORING_64_BIT_ONLY),
    )
    stranded = [(piece, platforms) for piece, platforms in pieces if not platforms & node_arches]
    if stranded:
        names = [piece for piece, _ in stranded]
        listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
        wanted = " or ".join(
            arch for arch in ARCHES if all(arch in platforms for _, platforms in stranded)
        )
        yield error_at(
            doc,
            _platform_path(doc, "monitoring"),
            f"{listed} run on {wanted} only (their images): no schedulable node has one of "
            "those architectures, so the monitoring release would never install",
        )


# Rule 15, read from the file: every volume of every service type (services[].storage,
# .database.storage, .volumes[].storage, ...) and every node's capacity.
def quantities_positive(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    return document_quantities_positive(doc)


def document_quantities_positive(doc: Document) -> Iterator[Problem]:
    """Rule 15 on the data alone, each value's type checked here: it runs on a document the
    JSON Schema refused too (see DOCUMENT_RULES)."""
    for path, size in _volume_sizes(doc.data.get("services", []), ["services"]):
        if _not_positive(size):
            yield error_at(
                doc,
                path,
                f"{_shown(size)} is not greater than zero: a volume needs a size, such as 10Gi",
            )
    for index, node in enumerate(doc.data.get("nodes", [])):
        capacity = node.get("capacity") if isinstance(node, dict) else None
        if not isinstance(capacity, dict):
            continue
        for key, what in (("cpu", "CPU"), ("memory", "memory")):
            if key in capacity and _not_positive(capacity[key]):
                yield error_at(
                    doc,
                    ["nodes", index, "capacity", key],
                    f"{_shown(capacity[key])} is not greater than zero: capacity.{key} is the "
                    f"{what} the node offers to pods (leave capacity out when it is not known)",
                )


def _volume_sizes(node: object, path: list[PathPart]) -> Iterator[tuple[list[PathPart], object]]:
    """`storage.size` of every volume below `node` (a `storage` mapping that has a `size`)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _volume_sizes(item, [*path, index])
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "storage" and isinstance(value, dict) and "size" in value:
                yield [*path, key, "size"], value["size"]
            else:
                yield from _volume_sizes(value, [*path, str(key)])


def _not_positive(quantity: object) -> bool:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, str)):
        return False
    try:
        return parse_quantity(quantity) <= 0
    except ValueError:  # not a quantity: the schema's error
        return False


def _shown(quantity: object) -> str:
    """As the schema's messages show a value: a string quoted."""
    return f'"{quantity}"' if isinstance(quantity, str) else str(quantity)


def kind_rules(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """The rules each service type declares for its own services."""
    for service in dc.services:
        yield from kind_of(service).rules(dc, service, doc)


def images_of_the_program(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """An `image` override on a chart made for one program must be an image of that program:
    the chart's ports, probes, users and mounts are that program's."""
    for service in dc.services:
        known = kind_of(service).known_repositories
        if not known or service.image is None:
            continue
        if _repository_name(service.image.repository) not in known:
            yield warning_at(
                doc,
                service_path(service, "image", "repository"),
                f'"{service.image.repository}" is not an image chartgen knows as '
                f"{service.type} ({', '.join(sorted(known))}): the {service.type} chart runs "
                "it with that program's ports, user and configuration; another program "
                "belongs in type app",
                "foreign-image",
            )


def _repository_name(repository: str) -> str:
    """`docker.io/library/nextcloud` -> `nextcloud`; a mirror's host is dropped too."""
    parts = repository.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def gitops_settings_usable(dc: Datacenter, doc: Document) -> Iterator[Problem]:
    """The `gitops` key: a URL and a revision the tool can follow, a path inside the repository.

    The same checks as the command line's --repo-url and --revision (chartgen.gitops).
    """
    settings = dc.gitops
    if settings is None:
        return
    from chartgen.gitops import repo_url_problem, repository_path_problem, revision_problem

    url = repo_url_problem(settings.repo_url, settings.tool)
    if url:
        yield error_at(doc, ["gitops", "repoURL"], url)
    if settings.revision is not None:
        revision = revision_problem(settings.revision)
        if revision:
            yield error_at(doc, ["gitops", "revision"], revision)
    if settings.path is not None:
        path = repository_path_problem(settings.path)
        if path:
            yield error_at(doc, ["gitops", "path"], path)
    if settings.prune and settings.tool == "flux":
        yield error_at(
            doc,
            ["gitops", "prune"],
            "is for Argo CD: Flux's Helm releases always remove what a chart no longer renders",
        )


RULES: tuple[Rule, ...] = (
    control_plane_present,
    names_unique,
    service_names_not_reserved,
    references_exist,
    subnets_disjoint,
    architectures_available,
    local_volumes_reachable,
    autoscaling_bounds,
    node_labels_allowed,
    one_default_storage_class,
    placement_fits,
    capacity_total,
    single_points_of_failure,
    network_policies_enforced,
    autoscaling_has_metrics,
    routes_have_a_router,
    routes_unique,
    addresses_unique,
    gateway_address_in_pool,
    router_without_pool,
    tls_has_certificates,
    tls_hosts_fit_the_gateway,
    platform_names_free,
    platform_architectures,
    monitoring_namespace_privileged,
    monitoring_64_bit_schedulable,
    kind_rules,
    images_of_the_program,
    quantities_positive,
    gitops_settings_usable,
)


# The rules that read the document's data defensively and need no model: they also run when the
# JSON Schema finds problems, so that a file shows them beside its structural ones. The other
# rules read the typed model, which only a schema-valid document can build (a missing or
# mistyped key has no default to fall back on, and a guess would report phantom problems).
DOCUMENT_RULES: tuple[Callable[[Document], Iterator[Problem]], ...] = (
    document_quantities_positive,
)


def rule_problems(dc: Datacenter, doc: Document) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(dc, doc)]


# Placement helpers, shared with the renderer's affinity.
def runnable_nodes(dc: Datacenter, service: Service) -> tuple[Node, ...]:
    """Nodes whose architecture the service allows and that accept its pods."""
    return tuple(node for node in dc.pod_nodes if node.arch in service.architectures)


def eligible_nodes(dc: Datacenter, service: Service) -> tuple[Node, ...]:
    """Nodes the service's main pods may land on, local data volumes included."""
    nodes = runnable_nodes(dc, service)
    for volume in kind_of(service).main_volumes(service):
        storage = dc.storage_class(volume.storage_class)
        if storage is not None and storage.local is not None:
            pinned = storage.local.node
            nodes = tuple(node for node in nodes if node.name == pinned)
    return nodes


def main_pod_requests(service: Service) -> tuple[Fraction, Fraction]:
    requests = kind_of(service).main_pod(service)
    return (
        sum((entry.cpu_value for entry in requests), Fraction(0)),
        sum((entry.memory_value for entry in requests), Fraction(0)),
    )


def workload_requests(service: Service) -> list[tuple[Resources, int]]:
    """Requests of every pod the service runs at full scale."""
    return kind_of(service).workload_requests(service)


def _fits(pod: tuple[Fraction, Fraction], node: Node) -> bool:
    if node.capacity is None:
        return True
    return pod[0] <= node.capacity.cpu_value and pod[1] <= node.capacity.memory_value
