"""`chartgen status` printed: the tables for people, the JSON for programs (pure).

The JSON shape is documented in the README ("Live status"); its keys only ever grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from chartgen.live_verdicts import (
    LiveStatus,
    NodeStatus,
    ServiceStatus,
    Usage,
    release_deployed,
)
from chartgen.text_table import table

if TYPE_CHECKING:
    from chartgen.graph import NodeBox, Topology, Workload
    from chartgen.install import ReleaseStatus

LIVE_FILL = "#fca5a5"  # red: what is wrong now, not a prediction
LIVE_LINE = "#b91c1c"


def cpu_text(cores: Fraction) -> str:
    millis = round(cores * 1000)
    return f"{millis}m" if millis < 10000 else f"{millis / 1000:.1f}"


def memory_text(size: Fraction) -> str:
    mebibytes = size / 2**20
    return f"{round(mebibytes)}Mi" if mebibytes < 10240 else f"{float(mebibytes / 1024):.1f}Gi"


def _share(used: Fraction, total: Fraction | None) -> str:
    return f" ({round(100 * used / total)}%)" if total else ""


def releases_table(statuses: Sequence[ReleaseStatus]) -> str:
    rows = [
        [
            one.release.name,
            one.release.namespace,
            "" if one.revision is None else str(one.revision),
            one.status,
            one.chart,
            {True: "yes", False: "no", None: "unknown"}[one.matches],
        ]
        for one in statuses
    ]
    return table(["RELEASE", "NAMESPACE", "REVISION", "STATUS", "CHART", "MATCHES DIR"], rows)


def _images(service: ServiceStatus) -> str:
    running = ",".join(service.images_running) or "-"
    if service.image_drift:
        return f"{running} (DIR: {','.join(service.images_declared or ()) or 'none'})"
    return running


def _usage_cells(usage: Usage | None) -> list[str]:
    if usage is None:
        return ["unknown", "unknown"]
    return [cpu_text(usage.cpu), memory_text(usage.memory)]


def services_table(services: Sequence[ServiceStatus]) -> str:
    rows = [
        [
            one.release,
            f"{one.kind.lower()}/{one.name}",
            f"{one.ready}/{'?' if one.desired is None else one.desired}",
            ",".join(one.nodes) or "-",
            str(one.restarts),
            *_usage_cells(one.usage),
            _images(one),
            ", ".join(one.verdicts) or "ok",
        ]
        for one in services
    ]
    header = ["SERVICE", "WORKLOAD", "READY", "NODES", "RESTARTS", "CPU", "MEMORY", "IMAGE"]
    return table([*header, "VERDICT"], rows)


def _node_usage(one: NodeStatus) -> list[str]:
    if one.usage is None:
        return ["unknown", "unknown"]
    return [
        cpu_text(one.usage.cpu) + _share(one.usage.cpu, one.node.cpu),
        memory_text(one.usage.memory) + _share(one.usage.memory, one.node.memory),
    ]


def nodes_table(nodes: Sequence[NodeStatus]) -> str:
    rows = [
        [
            one.node.name,
            "yes" if one.node.ready else "no",
            one.node.arch,
            one.node.kubelet,
            str(one.pods),
            *_node_usage(one),
            "cordoned" if one.node.cordoned else "schedulable",
        ]
        for one in nodes
    ]
    header = ["NODE", "READY", "ARCH", "KUBELET", "PODS", "CPU", "MEMORY", "SCHEDULING"]
    return table(header, rows)


def summary(status: LiveStatus) -> str:
    """The last line: healthy, or what makes the exit code 1 (and the SPOFs, which do not)."""
    problems = [f"release {name} not deployed" for name in status.not_deployed]
    problems += [
        f"{one.release} {one.kind.lower()}/{one.name}: {one.verdicts[0]}"
        for one in status.services
        if one.down
    ]
    spofs = [f"{one.release} {one.kind.lower()}/{one.name}" for one in status.services
             if one.single_point_of_failure]  # fmt: skip
    tail = f"; single point of failure: {', '.join(spofs)}" if spofs else ""
    if problems:
        return f"unhealthy: {'; '.join(problems)}{tail}\n"
    return f"healthy{tail}\n"


def status_text(status: LiveStatus) -> str:
    parts = [releases_table(status.releases)]
    if status.services:
        parts.append(services_table(status.services))
    parts.append(nodes_table(status.nodes) if status.nodes else "no nodes\n")
    metrics = "" if status.metrics else f"usage unknown: metrics API: {status.metrics_error}\n"
    return "\n".join(parts) + "\n" + metrics + summary(status)


def frame_text(status: LiveStatus | None, error: str, heading: str) -> str:
    """One `--watch` frame: a heading (what, how often, when), then the status or the error
    that kept it from being read."""
    body = status_text(status) if status is not None else f"error: {error}\n"
    return f"{heading}\n\n{body}"


# JSON ----------------------------------------------------------------------------------------


def _usage_json(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {"cpuMillicores": round(usage.cpu * 1000), "memoryBytes": round(usage.memory)}


def release_json(one: ReleaseStatus) -> dict[str, Any]:
    return {
        "name": one.release.name,
        "namespace": one.release.namespace,
        "installed": one.installed,
        "deployed": release_deployed(one),
        "revision": one.revision,
        "status": one.status,
        "chart": one.chart,
        "appVersion": one.app_version,
        "updated": one.updated,
        "matchesDir": one.matches,
        "detail": one.detail,
    }


def service_json(one: ServiceStatus) -> dict[str, Any]:
    return {
        "release": one.release,
        "namespace": one.namespace,
        "kind": one.kind,
        "name": one.name,
        "desired": one.desired,
        "ready": one.ready,
        "nodes": list(one.nodes),
        "pods": [
            {"name": pod.name, "node": pod.node, "ready": pod.ready, "restarts": pod.restarts}
            for pod in one.pods
        ],
        "restarts": one.restarts,
        "imagesRunning": list(one.images_running),
        "imagesDeclared": None if one.images_declared is None else list(one.images_declared),
        "imageDrift": one.image_drift,
        "singlePointOfFailure": one.single_point_of_failure,
        "down": one.down,
        "usage": _usage_json(one.usage),
        "verdicts": list(one.verdicts),
    }


def node_json(one: NodeStatus) -> dict[str, Any]:
    node = one.node
    return {
        "name": node.name,
        "ready": node.ready,
        "architecture": node.arch,
        "kubeletVersion": node.kubelet,
        "controlPlane": node.control_plane,
        "cordoned": node.cordoned,
        "pods": one.pods,
        "allocatable": _usage_json(Usage(node.cpu, node.memory))
        if node.cpu is not None and node.memory is not None
        else None,
        "usage": _usage_json(one.usage),
    }


def status_json(status: LiveStatus) -> dict[str, Any]:
    return {
        "healthy": status.healthy,
        "releases": [release_json(one) for one in status.releases],
        "services": [service_json(one) for one in status.services],
        "nodes": [node_json(one) for one in status.nodes],
        "metrics": {"available": status.metrics, "error": status.metrics_error},
    }


# The live picture (`chartgen graph --live`) -------------------------------------------------


def _node_box(one: NodeStatus) -> NodeBox:
    from chartgen.graph import NodeBox

    node = one.node
    lines = [f"{'control-plane' if node.control_plane else 'worker'}, {node.arch}, {node.kubelet}"]
    lines.append(("Ready" if node.ready else "NOT READY") + (", cordoned" if node.cordoned else ""))
    cpu, memory = _node_usage(one)
    lines.append(f"cpu {cpu}, memory {memory}, {one.pods} pods")
    lines += [
        f"{pod.name}" + ("" if pod.ready else " (not ready)") for _service, pod in one.service_pods
    ]
    return NodeBox(node.name, tuple(lines), node.control_plane, alert=not node.ready)


def _workload(one: ServiceStatus) -> Workload:
    from chartgen.graph import Workload, identifier

    desired = "?" if one.desired is None else str(one.desired)
    placed = sorted({pod.node for pod in one.pods if pod.node is not None})
    return Workload(
        id=identifier("svc", f"{one.namespace}/{one.kind}/{one.name}"),
        title=one.name,
        detail=f"{one.kind.lower()} of release {one.release}",
        replicas=f"{one.ready}/{desired} ready, {one.restarts} restarts",
        nodes=tuple(placed),
        warnings=one.verdicts,
        flag=", ".join(one.verdicts),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def live_topology(status: LiveStatus) -> Topology:
    """The running cluster in the shape of `chartgen graph`: the nodes with the pods on them,
    each service linked to the nodes its pods run on, what is wrong now in red."""
    from chartgen.graph import Topology

    spofs = sum(1 for one in status.services if one.single_point_of_failure)
    title = (
        f"live: {_count(len(status.nodes), 'node')}, {_count(len(status.services), 'service')}, "
        f"{spofs} single point{'s' if spofs != 1 else ''} of failure"
    )
    return Topology(
        title=title,
        nodes=tuple(_node_box(one) for one in status.nodes),
        workloads=tuple(_workload(one) for one in status.services),
        storage=(),
        dependencies=(),
        volumes=(),
        warning_fill=LIVE_FILL,
        warning_line=LIVE_LINE,
        placement="runs on",
        group_edges=False,
    )
