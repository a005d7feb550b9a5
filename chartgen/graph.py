"""`chartgen graph`: the datacenter drawn as a topology picture.

`topology()` turns the model and the validation's warnings into what the picture shows (pure);
`to_dot()` and `to_mermaid()` write it as Graphviz or Mermaid text (pure); `render_image()`
hands the Graphviz text to Graphviz's `dot` for SVG or PNG (the only part that runs a program).

What is drawn: the nodes with their role, architecture, address and capacity; every workload
(a service's pods, and for Nextcloud its PostgreSQL and Redis) with its replicas, grouped by the
set of nodes it may run on (so 20 services on the same two workers give two edges, not forty);
the storage classes with their NFS export or node folder, the volumes on them, and the
dependencies between workloads. Workloads that the validation names a single point of failure
are drawn in the warning colour, the warning itself in their tooltip: the picture never judges
differently from `chartgen validate`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from chartgen.kinds import kind_of
from chartgen.kinds.nextcloud import NextcloudService
from chartgen.model import Datacenter, Node, Service, StorageClass
from chartgen.problems import Problem, Severity
from chartgen.rules import eligible_nodes, runnable_nodes

Format = Literal["svg", "png", "jpeg", "dot", "mermaid"]
FORMATS: tuple[Format, ...] = ("svg", "png", "jpeg", "dot", "mermaid")
ImageFormat = Literal["svg", "png", "jpeg"]

FONT = "Helvetica,Arial,sans-serif"
WARNING_FILL = "#fdba74"  # orange: a single point of failure
WARNING_LINE = "#c2410c"
WORKLOAD_FILL = "#dbeafe"
NODE_FILL = "#f1f5f9"
CONTROL_PLANE_FILL = "#e2e8f0"
STORAGE_FILL = "#fef9c3"
GROUP_LINE = "#64748b"
SPOF_PHRASE = "single point of failure"
_SERVICE_PATH = re.compile(r"^services\[(\d+)\](\.replicas|\.database)?$")


@dataclass(frozen=True)
class Workload:
    """A set of identical pods: a service's main pods, or one part of a Nextcloud stack."""

    id: str
    title: str
    detail: str
    replicas: str
    nodes: tuple[str, ...]  # where its pods may run
    warnings: tuple[str, ...] = ()

    @property
    def single_point_of_failure(self) -> bool:
        return bool(self.warnings)


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Topology:
    title: str
    nodes: tuple[Node, ...]
    workloads: tuple[Workload, ...]
    storage: tuple[StorageClass, ...]
    dependencies: tuple[Link, ...]  # workload -> workload it needs
    volumes: tuple[Link, ...]  # workload -> storage class it keeps data on

    def groups(self) -> list[tuple[tuple[str, ...], list[Workload]]]:
        """Workloads by the set of nodes they may run on, in order of first appearance."""
        groups: dict[tuple[str, ...], list[Workload]] = {}
        for workload in self.workloads:
            groups.setdefault(workload.nodes, []).append(workload)
        return list(groups.items())


def spof_warnings(warnings: Iterable[Problem]) -> dict[tuple[int, str], tuple[str, ...]]:
    """The validation's single-point-of-failure warnings, by (service index, part).

    The part is "main" for the service's own pods (warned at `services[i]` or
    `services[i].replicas`) and "database" for its PostgreSQL (warned at `services[i].database`).
    """
    found: dict[tuple[int, str], list[str]] = {}
    for problem in warnings:
        if problem.severity is not Severity.WARNING or SPOF_PHRASE not in problem.message:
            continue
        match = _SERVICE_PATH.match(problem.path)
        if match is None:
            continue
        part = "database" if match.group(2) == ".database" else "main"
        found.setdefault((int(match.group(1)), part), []).append(problem.message)
    return {key: tuple(messages) for key, messages in found.items()}


def topology(dc: Datacenter, warnings: Sequence[Problem]) -> Topology:
    spofs = spof_warnings(warnings)
    workloads: list[Workload] = []
    dependencies: list[Link] = []
    volumes: list[Link] = []
    for service in dc.services:
        main = Workload(
            id=_id("svc", service.name),
            title=service.name,
            detail=_service_detail(service),
            replicas=_replicas(service),
            nodes=_names(eligible_nodes(dc, service)),
            warnings=spofs.get((service.index, "main"), ()),
        )
        workloads.append(main)
        if isinstance(service, NextcloudService):
            parts, links, stored = _nextcloud_parts(dc, service, main, spofs)
            workloads.extend(parts)
            dependencies.extend(links)
            volumes.extend(stored)
    cluster = dc.cluster
    title = (
        f"{cluster.name}: Kubernetes {cluster.kubernetes_version}, {cluster.cni}, "
        f"API {cluster.control_plane_endpoint}"
    )
    return Topology(
        title, dc.nodes, tuple(workloads), dc.storage, tuple(dependencies), tuple(volumes)
    )


def _names(nodes: Iterable[Node]) -> tuple[str, ...]:
    return tuple(node.name for node in nodes)


def _service_detail(service: Service) -> str:
    return str(kind_of(service).describe(service))


def _replicas(service: Service) -> str:
    placement = kind_of(service).placement(service)
    if placement == "every-node":
        return "one pod per node"
    if placement == "scheduled":
        return "runs on a schedule"
    if service.autoscaling is not None:
        return f"{service.replicas} to {service.autoscaling.max_replicas} replicas"
    return f"{service.replicas} replica" + ("" if service.replicas == 1 else "s")


def _nextcloud_parts(
    dc: Datacenter,
    service: NextcloudService,
    main: Workload,
    spofs: dict[tuple[int, str], tuple[str, ...]],
) -> tuple[list[Workload], list[Link], list[Link]]:
    runnable = runnable_nodes(dc, service)
    database_class = dc.storage_class(service.database_storage.storage_class)
    database_nodes = runnable
    if database_class is not None and database_class.local is not None:
        local_node = database_class.local.node
        database_nodes = tuple(node for node in runnable if node.name == local_node)
    database = Workload(
        id=_id("db", service.name),
        title=f"{service.name} PostgreSQL",
        detail="database",
        replicas="1 replica",
        nodes=_names(database_nodes),
        warnings=spofs.get((service.index, "database"), ()),
    )
    parts = [database]
    links = [Link(main.id, database.id, "SQL")]
    if service.redis:
        redis = Workload(
            id=_id("redis", service.name),
            title=f"{service.name} Redis",
            detail="sessions, file locks",
            replicas="1 replica",
            nodes=_names(runnable),
        )
        parts.append(redis)
        links.append(Link(main.id, redis.id, "cache"))
    stored: list[Link] = []
    data_class = dc.storage_class(service.storage.storage_class)
    if data_class is not None:
        stored.append(Link(main.id, _storage_id(data_class), f"data {service.storage.size}"))
    if database_class is not None:
        size = service.database_storage.size
        stored.append(Link(database.id, _storage_id(database_class), f"data {size}"))
    return parts, links, stored


def _id(prefix: str, name: str) -> str:
    """An identifier both Graphviz and Mermaid take unquoted: names are DNS labels or
    subdomains (no `_`), so spelling `-` and `.` as `_2d` and `_2e` keeps them distinct."""
    return prefix + "_" + "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in name)


def _storage_id(storage: StorageClass) -> str:
    return _id("sc", storage.name)


def _node_id(name: str) -> str:
    return _id("node", name)


def _node_lines(node: Node) -> list[str]:
    lines = [f"{node.role}, {node.arch}", node.address]
    if node.capacity is not None:
        lines.append(f"cpu {node.capacity.cpu}, memory {node.capacity.memory}")
    if not node.accepts_pods:
        lines.append("runs no service pods")
    return lines


def _storage_lines(storage: StorageClass) -> list[str]:
    if storage.nfs is not None:
        where = f"NFS {storage.nfs.server}:{storage.nfs.path}"
    elif storage.local is not None:
        where = f"local {storage.local.node}:{storage.local.path}"
    else:
        where = storage.type
    lines = [where, "ReadWriteMany" if storage.read_write_many else "ReadWriteOnce"]
    if storage.default:
        lines.append("default class")
    return lines


def _group_label(names: Sequence[str]) -> str:
    if not names:
        return "may run on no node"
    return "may run on " + ", ".join(names)


# Graphviz -----------------------------------------------------------------------------------


def _html(title: str, lines: Iterable[str], *, warning: str = "") -> str:
    rows = [f"<b>{html.escape(title)}</b>"]
    rows += [html.escape(line) for line in lines]
    if warning:
        rows.append(f'<font color="{WARNING_LINE}"><b>{html.escape(warning)}</b></font>')
    return "<" + "<br/>".join(rows) + ">"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(topology: Topology) -> str:
    return "\n".join(_dot_lines(topology)) + "\n"


def _dot_lines(topology: Topology) -> Iterator[str]:
    yield "digraph topology {"
    yield (
        f"  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.25, ranksep=0.9, "
        f"fontname={_quote(FONT)}, fontsize=16, labelloc=t, label={_quote(topology.title)}];"
    )
    yield f'  node [fontname={_quote(FONT)}, fontsize=11, margin="0.15,0.06"];'
    yield f'  edge [fontname={_quote(FONT)}, fontsize=10, color="#475569"];'
    yield from _dot_workloads(topology)
    yield from _dot_nodes(topology)
    yield from _dot_storage(topology)
    for link in topology.dependencies:
        yield f"  {link.source} -> {link.target} [label={_quote(link.label)}, penwidth=1.5];"
    for link in topology.volumes:
        yield (
            f"  {link.source} -> {link.target} [label={_quote(link.label)}, style=dashed, "
            'color="#a16207", fontcolor="#a16207"];'
        )
    yield "}"


def _dot_workloads(topology: Topology) -> Iterator[str]:
    for index, (node_names, workloads) in enumerate(topology.groups()):
        cluster = f"cluster_group{index}"
        yield f"  subgraph {cluster} {{"
        yield (
            f'    graph [label={_quote(_group_label(node_names))}, style="rounded,dashed", '
            f'color="{GROUP_LINE}", fontsize=11, labeljust=l];'
        )
        for workload in workloads:
            fill = WARNING_FILL if workload.single_point_of_failure else WORKLOAD_FILL
            line = WARNING_LINE if workload.single_point_of_failure else "#1e3a8a"
            warning = SPOF_PHRASE if workload.single_point_of_failure else ""
            label = _html(workload.title, [workload.detail, workload.replicas], warning=warning)
            tooltip = "; ".join(workload.warnings) or workload.title
            yield (
                f'    {workload.id} [shape=box, style="rounded,filled", fillcolor="{fill}", '
                f'color="{line}", label={label}, tooltip={_quote(tooltip)}];'
            )
        yield "  }"
        # One edge from the group to each node it may run on; the middle workload anchors it.
        anchor = workloads[len(workloads) // 2].id
        for name in node_names:
            yield (
                f"  {anchor} -> {_node_id(name)}:w [ltail={cluster}, style=dotted, "
                'arrowhead=none, color="#94a3b8", constraint=false];'
            )


def _dot_nodes(topology: Topology) -> Iterator[str]:
    yield "  subgraph cluster_nodes {"
    yield '    graph [label="nodes", style=rounded, color="#334155", fontsize=12];'
    # The nodes form the last column, so that every edge runs the same way, towards them.
    yield "    rank=max;"
    for node in topology.nodes:
        fill = CONTROL_PLANE_FILL if node.is_control_plane else NODE_FILL
        shape = "box3d"
        yield (
            f'    {_node_id(node.name)} [shape={shape}, style=filled, fillcolor="{fill}", '
            'margin="0.2,0.12", '
            f"label={_html(node.name, _node_lines(node))}];"
        )
    yield "  }"


def _dot_storage(topology: Topology) -> Iterator[str]:
    for storage in topology.storage:
        yield (
            f'  {_storage_id(storage)} [shape=cylinder, style=filled, margin="0.2,0.2", '
            f'fillcolor="{STORAGE_FILL}", label={_html(storage.name, _storage_lines(storage))}];'
        )
        if storage.local is not None:
            yield (
                f"  {_storage_id(storage)} -> {_node_id(storage.local.node)} "
                '[label="disk of", style=dashed, color="#a16207", fontcolor="#a16207"];'
            )


# Mermaid ------------------------------------------------------------------------------------


def _mermaid_text(title: str, lines: Iterable[str]) -> str:
    parts = [f"<b>{title}</b>", *lines]
    return '"' + "<br/>".join(part.replace('"', "#quot;") for part in parts) + '"'


def to_mermaid(topology: Topology) -> str:
    return "\n".join(_mermaid_lines(topology)) + "\n"


def _mermaid_lines(topology: Topology) -> Iterator[str]:
    yield "---"
    yield f"title: {_quote(topology.title)}"
    yield "---"
    yield "flowchart LR"
    yield f"  classDef workload fill:{WORKLOAD_FILL},stroke:#1e3a8a"
    yield f"  classDef spof fill:{WARNING_FILL},stroke:{WARNING_LINE},stroke-width:2px"
    yield f"  classDef node fill:{NODE_FILL},stroke:#334155"
    yield f"  classDef storage fill:{STORAGE_FILL},stroke:#a16207"
    groups = topology.groups()
    for index, (node_names, workloads) in enumerate(groups):
        yield f"  subgraph group{index} [{_quote(_group_label(node_names))}]"
        for workload in workloads:
            extra = [SPOF_PHRASE] if workload.single_point_of_failure else []
            text = _mermaid_text(workload.title, [workload.detail, workload.replicas, *extra])
            kind = "spof" if workload.single_point_of_failure else "workload"
            yield f"    {workload.id}[{text}]:::{kind}"
        yield "  end"
    yield '  subgraph nodes ["nodes"]'
    for node in topology.nodes:
        yield f"    {_node_id(node.name)}[{_mermaid_text(node.name, _node_lines(node))}]:::node"
    yield "  end"
    for storage in topology.storage:
        text = _mermaid_text(storage.name, _storage_lines(storage))
        yield f"  {_storage_id(storage)}[({text})]:::storage"
    for index, (node_names, _workloads) in enumerate(groups):
        for name in node_names:
            yield f"  group{index} -.- {_node_id(name)}"
    for link in topology.dependencies:
        yield f"  {link.source} -->|{_quote(link.label)}| {link.target}"
    for link in topology.volumes:
        yield f"  {link.source} -.->|{_quote(link.label)}| {link.target}"
    for storage in topology.storage:
        if storage.local is not None:
            yield f'  {_storage_id(storage)} -.->|"disk of"| {_node_id(storage.local.node)}'


# Images -------------------------------------------------------------------------------------


def render_image(dot_source: str, image_format: ImageFormat) -> bytes:
    """The picture, drawn by Graphviz's `dot` (imported here: only `chartgen graph` needs it)."""
    import graphviz

    from chartgen.errors import OperationFailed

    try:
        data: bytes = graphviz.Source(dot_source).pipe(format=image_format, engine="dot")
    except graphviz.ExecutableNotFound as error:
        raise OperationFailed(
            "Graphviz's `dot` program is not installed (Debian: apt-get install graphviz); "
            "`--format dot` and `--format mermaid` work without it"
        ) from error
    except graphviz.CalledProcessError as error:
        raise OperationFailed(f"Graphviz failed: {error.stderr!r}") from error
    if image_format == "svg":
        data = _without_generator_comment(data)
    return data


def _without_generator_comment(svg: bytes) -> bytes:
    """Drops the "Generated by graphviz version ..." comment: the picture does not change
    with the patch release of Graphviz that drew it, so neither should the file."""
    return re.sub(rb"<!-- Generated by graphviz version [^>]*-->\n", b"", svg)


def graph_bytes(dc: Datacenter, warnings: Sequence[Problem], graph_format: Format) -> bytes:
    """The picture of the datacenter in the format asked for."""
    shape = topology(dc, warnings)
    if graph_format == "mermaid":
        return to_mermaid(shape).encode("utf-8")
    dot_source = to_dot(shape)
    if graph_format == "dot":
        return dot_source.encode("utf-8")
    return render_image(dot_source, graph_format)
