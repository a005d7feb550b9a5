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
    flag: str = SPOF_PHRASE  # the line drawn in the warning colour when there are warnings

    @property
    def single_point_of_failure(self) -> bool:
        return bool(self.warnings)


@dataclass(frozen=True)
class NodeBox:
    """A node as drawn: its name and lines of text (planned from the file, or read live)."""

    name: str
    lines: tuple[str, ...]
    control_plane: bool = False
    alert: bool = False  # drawn in the warning colour (a node that is not Ready)


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Topology:
    title: str
    nodes: tuple[NodeBox, ...]
    workloads: tuple[Workload, ...]
    storage: tuple[StorageClass, ...]
    dependencies: tuple[Link, ...]  # workload -> workload it needs
    volumes: tuple[Link, ...]  # workload -> storage class it keeps data on
    warning_fill: str = WARNING_FILL  # the planned picture warns in orange, the live one in red
    warning_line: str = WARNING_LINE
    placement: str = "may run on"  # what the groups' labels say about their nodes
    group_edges: bool = True  # one edge per group and node (else one per workload and node)

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
    boxes = tuple(
        NodeBox(node.name, tuple(_node_lines(node)), node.is_control_plane) for node in dc.nodes
    )
    return Topology(title, boxes, tuple(workloads), dc.storage, tuple(dependencies), tuple(volumes))


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


def identifier(prefix: str, name: str) -> str:
    """The picture's identifier of a named thing (a live workload, say)."""
    return _id(prefix, name)


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


def _group_label(names: Sequence[str], placement: str = "may run on") -> str:
    if not names:
        return f"{placement} no node"
    return f"{placement} " + ", ".join(names)


# Graphviz -----------------------------------------------------------------------------------


def _html(
    title: str, lines: Iterable[str], *, warning: str = "", colour: str = WARNING_LINE
) -> str:
    rows = [f"<b>{html.escape(title)}</b>"]
    rows += [html.escape(line) for line in lines]
    if warning:
        rows.append(f'<font color="{colour}"><b>{html.escape(warning)}</b></font>')
    return "<" + "<br/>".join(rows) + ">"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(topology: Topology) -> str:
    return "\n".join(_dot_lines(topology)) + "\n"


def to_dot_beside(left: Topology, right: Topology) -> str:
    """Two pictures in one, each in a frame with its own title (the planned datacenter beside
    the live cluster), their identifiers kept apart by prefixes; Graphviz stacks the frames."""
    lines = _dot_header("")
    for prefix, topology in (("plan_", left), ("live_", right)):
        lines += [
            f"  subgraph cluster_{prefix}picture {{",
            f'    graph [label={_quote(topology.title)}, style=rounded, color="#94a3b8", '
            "fontsize=14];",
            *(f"  {line}" for line in _dot_body(topology, prefix)),
            "  }",
        ]
    return "\n".join([*lines, "}"]) + "\n"


def _dot_header(title: str) -> list[str]:
    return [
        "digraph topology {",
        f"  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.25, ranksep=0.9, "
        f"fontname={_quote(FONT)}, fontsize=16, labelloc=t, label={_quote(title)}];",
        f'  node [fontname={_quote(FONT)}, fontsize=11, margin="0.15,0.06"];',
        f'  edge [fontname={_quote(FONT)}, fontsize=10, color="#475569"];',
    ]


def _dot_lines(topology: Topology) -> Iterator[str]:
    yield from _dot_header(topology.title)
    yield from _dot_body(topology, "")
    yield "}"


def _dot_body(topology: Topology, prefix: str) -> Iterator[str]:
    """Everything inside the graph; PREFIX starts every identifier (one picture of two)."""
    yield from _dot_workloads(topology, prefix)
    yield from _dot_nodes(topology, prefix)
    yield from _dot_storage(topology, prefix)
    for link in topology.dependencies:
        yield (
            f"  {prefix}{link.source} -> {prefix}{link.target} [label={_quote(link.label)}, "
            "penwidth=1.5];"
        )
    for link in topology.volumes:
        yield (
            f"  {prefix}{link.source} -> {prefix}{link.target} [label={_quote(link.label)}, "
            'style=dashed, color="#a16207", fontcolor="#a16207"];'
        )


def _dot_workloads(topology: Topology, prefix: str = "") -> Iterator[str]:
    for index, (node_names, workloads) in enumerate(topology.groups()):
        cluster = f"cluster_{prefix}group{index}"
        yield f"  subgraph {cluster} {{"
        yield (
            f"    graph [label={_quote(_group_label(node_names, topology.placement))}, "
            'style="rounded,dashed", '
            f'color="{GROUP_LINE}", fontsize=11, labeljust=l];'
        )
        for workload in workloads:
            alert = workload.single_point_of_failure
            fill = topology.warning_fill if alert else WORKLOAD_FILL
            line = topology.warning_line if alert else "#1e3a8a"
            warning = workload.flag if alert else ""
            lines = [workload.detail, workload.replicas]
            label = _html(workload.title, lines, warning=warning, colour=topology.warning_line)
            tooltip = "; ".join(workload.warnings) or workload.title
            yield (
                f'    {prefix}{workload.id} [shape=box, style="rounded,filled", '
                f'fillcolor="{fill}", '
                f'color="{line}", label={label}, tooltip={_quote(tooltip)}];'
            )
        yield "  }"
        if not topology.group_edges:
            # Live: each workload to the nodes its pods run on (no edges clipped at the group,
            # whose layout Graphviz 2.43 cannot always route: makeCompoundEdge asserts); these
            # edges rank the workloads before the nodes, as nothing else does.
            for workload in workloads:
                for name in node_names:
                    yield (
                        f"  {prefix}{workload.id} -> {prefix}{_node_id(name)}:w "
                        '[style=dotted, arrowhead=none, color="#94a3b8"];'
                    )
            continue
        # One edge from the group to each node it may run on; the middle workload anchors it.
        anchor = workloads[len(workloads) // 2].id
        for name in node_names:
            yield (
                f"  {prefix}{anchor} -> {prefix}{_node_id(name)}:w [ltail={cluster}, style=dotted, "
                'arrowhead=none, color="#94a3b8", constraint=false];'
            )


def _dot_nodes(topology: Topology, prefix: str = "") -> Iterator[str]:
    yield f"  subgraph cluster_{prefix}nodes {{"
    yield '    graph [label="nodes", style=rounded, color="#334155", fontsize=12];'
    # The nodes form the last column, so that every edge runs the same way, towards them.
    yield "    rank=max;"
    for node in topology.nodes:
        fill = CONTROL_PLANE_FILL if node.control_plane else NODE_FILL
        if node.alert:
            fill = topology.warning_fill
        shape = "box3d"
        yield (
            f"    {prefix}{_node_id(node.name)} [shape={shape}, style=filled, "
            f'fillcolor="{fill}", '
            'margin="0.2,0.12", '
            f"label={_html(node.name, node.lines)}];"
        )
    yield "  }"


def _dot_storage(topology: Topology, prefix: str = "") -> Iterator[str]:
    for storage in topology.storage:
        yield (
            f'  {prefix}{_storage_id(storage)} [shape=cylinder, style=filled, margin="0.2,0.2", '
            f'fillcolor="{STORAGE_FILL}", label={_html(storage.name, _storage_lines(storage))}];'
        )
        if storage.local is not None:
            yield (
                f"  {prefix}{_storage_id(storage)} -> {prefix}{_node_id(storage.local.node)} "
                '[label="disk of", style=dashed, color="#a16207", fontcolor="#a16207"];'
            )


# Mermaid ------------------------------------------------------------------------------------


def _mermaid_text(title: str, lines: Iterable[str]) -> str:
    parts = [f"<b>{title}</b>", *lines]
    return '"' + "<br/>".join(part.replace('"', "#quot;") for part in parts) + '"'


def to_mermaid(topology: Topology) -> str:
    return "\n".join(_mermaid_lines(topology)) + "\n"


def to_mermaid_beside(left: Topology, right: Topology) -> str:
    """Two pictures in one flowchart, each a subgraph titled with its own title."""
    lines = [*_mermaid_header("planned and live"), *_mermaid_classes(left, "plan_")]
    lines += _mermaid_classes(right, "live_")[-1:]
    for prefix, topology in (("plan_", left), ("live_", right)):
        lines.append(f"  subgraph {prefix}picture [{_quote(topology.title)}]")
        lines += [f"  {line}" for line in _mermaid_body(topology, prefix)]
        lines.append("  end")
    return "\n".join(lines) + "\n"


def _mermaid_header(title: str) -> list[str]:
    return ["---", f"title: {_quote(title)}", "---", "flowchart LR"]


def _mermaid_classes(topology: Topology, prefix: str) -> list[str]:
    return [
        f"  classDef workload fill:{WORKLOAD_FILL},stroke:#1e3a8a",
        f"  classDef node fill:{NODE_FILL},stroke:#334155",
        f"  classDef storage fill:{STORAGE_FILL},stroke:#a16207",
        f"  classDef {prefix}spof fill:{topology.warning_fill},stroke:{topology.warning_line},"
        "stroke-width:2px",
    ]


def _mermaid_lines(topology: Topology) -> Iterator[str]:
    yield from _mermaid_header(topology.title)
    workload, node, storage, spof = _mermaid_classes(topology, "")
    yield from (workload, spof, node, storage)
    yield from _mermaid_body(topology, "")


def _mermaid_body(topology: Topology, prefix: str) -> Iterator[str]:
    """The picture's subgraphs, boxes and links; PREFIX starts every identifier."""
    groups = topology.groups()
    spof = f"{prefix}spof"
    for index, (node_names, workloads) in enumerate(groups):
        label = _quote(_group_label(node_names, topology.placement))
        yield f"  subgraph {prefix}group{index} [{label}]"
        for workload in workloads:
            extra = [workload.flag] if workload.single_point_of_failure else []
            text = _mermaid_text(workload.title, [workload.detail, workload.replicas, *extra])
            kind = spof if workload.single_point_of_failure else "workload"
            yield f"    {prefix}{workload.id}[{text}]:::{kind}"
        yield "  end"
    yield f'  subgraph {prefix}nodes ["nodes"]'
    for node in topology.nodes:
        kind = spof if node.alert else "node"
        text = _mermaid_text(node.name, node.lines)
        yield f"    {prefix}{_node_id(node.name)}[{text}]:::{kind}"
    yield "  end"
    for storage in topology.storage:
        text = _mermaid_text(storage.name, _storage_lines(storage))
        yield f"  {prefix}{_storage_id(storage)}[({text})]:::storage"
    for index, (node_names, _workloads) in enumerate(groups):
        for name in node_names:
            yield f"  {prefix}group{index} -.- {prefix}{_node_id(name)}"
    for link in topology.dependencies:
        yield f"  {prefix}{link.source} -->|{_quote(link.label)}| {prefix}{link.target}"
    for link in topology.volumes:
        yield f"  {prefix}{link.source} -.->|{_quote(link.label)}| {prefix}{link.target}"
    for storage in topology.storage:
        if storage.local is not None:
            source, target = _storage_id(storage), _node_id(storage.local.node)
            yield f'  {prefix}{source} -.->|"disk of"| {prefix}{target}'


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
    return topology_bytes(topology(dc, warnings), graph_format)


def topology_bytes(shape: Topology, graph_format: Format, beside: Topology | None = None) -> bytes:
    """A topology, planned or live, in the format asked for; BESIDE drawn first, beside it."""
    if graph_format == "mermaid":
        text = to_mermaid(shape) if beside is None else to_mermaid_beside(beside, shape)
        return text.encode("utf-8")
    dot_source = to_dot(shape) if beside is None else to_dot_beside(beside, shape)
    if graph_format == "dot":
        return dot_source.encode("utf-8")
    return render_image(dot_source, graph_format)
