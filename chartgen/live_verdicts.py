"""What the cluster says, read into values, and the verdicts drawn from it: pure functions.

`chartgen.live` runs kubectl and helm; everything it gets back comes here: kubectl's JSON is
parsed into typed values (`parse_nodes`, `parse_pods`, `parse_workloads`, `parse_usage`), the
workloads DIR declares are read from the manifest helm renders from DIR (`declared_workloads`),
and `assess` matches the two and judges: a release that is not deployed, a service with no
ready pod, a single point of failure (every ready pod on one node, whatever the file asked
for), an image that is not the one DIR declares. No I/O, no clock: each verdict has its unit
test without a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from chartgen.quantity import parse_quantity

if TYPE_CHECKING:
    from chartgen.install import ReleaseStatus

INSTANCE_LABEL = "app.kubernetes.io/instance"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})

SPOF = "single point of failure"
NO_READY_POD = "no ready pod"
MISSING = "missing"
DEGRADED = "fewer ready than desired"
IMAGE_DRIFT = "image differs from DIR"
NOT_DEPLOYED = "not deployed"

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Usage:
    """CPU in cores and memory in bytes, as metrics-server measures them."""

    cpu: Fraction
    memory: Fraction


@dataclass(frozen=True)
class LiveNode:
    name: str
    ready: bool
    arch: str
    kubelet: str
    cordoned: bool
    control_plane: bool
    cpu: Fraction | None  # allocatable
    memory: Fraction | None


@dataclass(frozen=True)
class LivePod:
    namespace: str
    name: str
    labels: Labels
    node: str | None
    phase: str
    ready: bool
    restarts: int
    images: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Holds a place on its node (not finished)."""
        return self.phase not in _FINISHED_PHASES


@dataclass(frozen=True)
class LiveWorkload:
    namespace: str
    kind: str
    name: str
    instance: str
    desired: int | None
    selector: Labels


@dataclass(frozen=True)
class DeclaredWorkload:
    """A Deployment, StatefulSet or DaemonSet as DIR's charts render it."""

    kind: str
    name: str
    replicas: int | None  # None: a DaemonSet (one per eligible node)
    selector: Labels
    images: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """Everything read from the cluster for one frame."""

    releases: tuple[ReleaseStatus, ...]
    nodes: tuple[LiveNode, ...]
    pods: tuple[LivePod, ...]
    workloads: tuple[LiveWorkload, ...]
    node_usage: Mapping[str, Usage] | None  # None: the metrics API did not answer
    pod_usage: Mapping[tuple[str, str], Usage] | None
    metrics_error: str = ""


@dataclass(frozen=True)
class PodPlace:
    name: str
    node: str | None
    ready: bool
    restarts: int


@dataclass(frozen=True)
class ServiceStatus:
    release: str
    namespace: str
    kind: str
    name: str
    desired: int | None
    ready: int
    pods: tuple[PodPlace, ...]
    nodes: tuple[str, ...]  # where its ready pods run
    restarts: int
    images_running: tuple[str, ...]
    images_declared: tuple[str, ...] | None  # None: DIR's manifest could not be read
    usage: Usage | None
    verdicts: tuple[str, ...]  # empty: all is well

    @property
    def down(self) -> bool:
        return NO_READY_POD in self.verdicts or MISSING in self.verdicts

    @property
    def single_point_of_failure(self) -> bool:
        return SPOF in self.verdicts

    @property
    def image_drift(self) -> bool | None:
        if self.images_declared is None or not self.images_running:
            return None
        return IMAGE_DRIFT in self.verdicts


@dataclass(frozen=True)
class NodeStatus:
    node: LiveNode
    pods: int
    usage: Usage | None
    service_pods: tuple[tuple[str, PodPlace], ...]  # (service name, pod) of the releases


@dataclass(frozen=True)
class LiveStatus:
    releases: tuple[ReleaseStatus, ...]
    services: tuple[ServiceStatus, ...]
    nodes: tuple[NodeStatus, ...]
    metrics: bool
    metrics_error: str

    @property
    def not_deployed(self) -> tuple[str, ...]:
        return tuple(one.release.name for one in self.releases if not release_deployed(one))

    @property
    def healthy(self) -> bool:
        """Every release deployed and every service with a ready pod: exit code 0."""
        return not self.not_deployed and not any(service.down for service in self.services)


# Reading kubectl's JSON ----------------------------------------------------------------------


def _items(stdout: bytes | str) -> list[dict[str, Any]]:
    document = json.loads(stdout)
    items = document.get("items") if isinstance(document, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


def _labels(mapping: Any) -> Labels:
    if not isinstance(mapping, dict):
        return ()
    return tuple(sorted((str(key), str(value)) for key, value in mapping.items()))


def _quantity(text: Any) -> Fraction | None:
    if text is None:
        return None
    try:
        return parse_quantity(str(text))
    except ValueError:
        return None


def _condition(status: dict[str, Any], kind: str) -> bool:
    return any(
        condition.get("type") == kind and condition.get("status") == "True"
        for condition in status.get("conditions") or []
    )


def _parts(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An object's metadata, spec and status (empty when absent)."""
    return item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}


def parse_nodes(stdout: bytes | str) -> tuple[LiveNode, ...]:
    nodes = []
    for item in _items(stdout):
        metadata, spec, status = _parts(item)
        info = status.get("nodeInfo") or {}
        labels = metadata.get("labels") or {}
        allocatable = status.get("allocatable") or {}
        nodes.append(
            LiveNode(
                name=str(metadata.get("name", "")),
                ready=_condition(status, "Ready"),
                arch=str(info.get("architecture") or labels.get("kubernetes.io/arch") or ""),
                kubelet=str(info.get("kubeletVersion") or ""),
                cordoned=bool(spec.get("unschedulable")),
                control_plane=CONTROL_PLANE_LABEL in labels,
                cpu=_quantity(allocatable.get("cpu")),
                memory=_quantity(allocatable.get("memory")),
            )
        )
    return tuple(sorted(nodes, key=lambda node: node.name))


def parse_pods(stdout: bytes | str) -> tuple[LivePod, ...]:
    pods = []
    for item in _items(stdout):
        metadata, spec, status = _parts(item)
        statuses = status.get("containerStatuses") or []
        pods.append(
            LivePod(
                namespace=str(metadata.get("namespace", "")),
                name=str(metadata.get("name", "")),
                labels=_labels(metadata.get("labels")),
                node=spec.get("nodeName") or None,
                phase=str(status.get("phase") or "Pending"),
                ready=_condition(status, "Ready"),
                restarts=sum(int(one.get("restartCount") or 0) for one in statuses),
                images=tuple(str(c.get("image", "")) for c in spec.get("containers") or []),
            )
        )
    return tuple(sorted(pods, key=lambda pod: (pod.namespace, pod.name)))


def parse_workloads(stdout: bytes | str) -> tuple[LiveWorkload, ...]:
    """Deployments, StatefulSets and DaemonSets of a `kubectl get a,b,c -o json` List."""
    workloads = []
    for item in _items(stdout):
        kind = item.get("kind")
        if kind not in WORKLOAD_KINDS:
            continue
        metadata, spec = item.get("metadata", {}), item.get("spec", {})
        if kind == "DaemonSet":
            desired = (item.get("status") or {}).get("desiredNumberScheduled")
        else:
            desired = spec.get("replicas", 1)
        workloads.append(
            LiveWorkload(
                namespace=str(metadata.get("namespace", "")),
                kind=str(kind),
                name=str(metadata.get("name", "")),
                instance=str((metadata.get("labels") or {}).get(INSTANCE_LABEL, "")),
                desired=desired if isinstance(desired, int) else None,
                selector=_labels((spec.get("selector") or {}).get("matchLabels")),
            )
        )
    return tuple(workloads)


def parse_usage(stdout: bytes | str) -> dict[tuple[str, str], Usage]:
    """NodeMetrics or PodMetrics by (namespace, name): a pod's usage is its containers' sum."""
    usage: dict[tuple[str, str], Usage] = {}
    for item in _items(stdout):
        metadata = item.get("metadata") or {}
        parts = [item["usage"]] if "usage" in item else [
            container.get("usage") or {} for container in item.get("containers") or []
        ]  # fmt: skip
        cpu = sum((_quantity(part.get("cpu")) or Fraction(0) for part in parts), Fraction(0))
        memory = sum((_quantity(part.get("memory")) or Fraction(0) for part in parts), Fraction(0))
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name", "")))
        usage[key] = Usage(cpu, memory)
    return usage


def declared_workloads(manifest: str) -> tuple[DeclaredWorkload, ...] | None:
    """The workloads of a rendered manifest (what DIR would deploy); None when unreadable."""
    if not manifest:
        return None
    try:
        documents = list(YAML(typ="safe", pure=True).load_all(manifest))
    except YAMLError:
        return None
    declared = []
    for document in documents:
        if not isinstance(document, dict) or document.get("kind") not in WORKLOAD_KINDS:
            continue
        spec = document.get("spec") or {}
        pod_spec = ((spec.get("template") or {}).get("spec")) or {}
        replicas = None if document["kind"] == "DaemonSet" else spec.get("replicas", 1)
        declared.append(
            DeclaredWorkload(
                kind=str(document["kind"]),
                name=str((document.get("metadata") or {}).get("name", "")),
                replicas=replicas if isinstance(replicas, int) else None,
                selector=_labels((spec.get("selector") or {}).get("matchLabels")),
                images=tuple(str(c.get("image", "")) for c in pod_spec.get("containers") or []),
            )
        )
    return tuple(declared)


# Verdicts ------------------------------------------------------------------------------------


def release_deployed(status: ReleaseStatus) -> bool:
    return status.installed and status.status == "deployed"


def selects(selector: Labels, pod: LivePod) -> bool:
    """A workload's matchLabels select the pod (an empty selector selects nothing)."""
    return bool(selector) and set(selector) <= set(pod.labels)


def single_point_of_failure(ready_nodes: Sequence[str | None]) -> bool:
    """Every ready pod on one and the same node: losing that node stops the service."""
    return bool(ready_nodes) and len(set(ready_nodes)) == 1


def service_verdicts(
    present: bool,
    desired: int | None,
    ready_nodes: Sequence[str | None],
    running: Sequence[str],
    declared: Sequence[str] | None,
) -> tuple[str, ...]:
    """What is wrong with one service, most serious first; () when nothing is."""
    if not present:
        return (MISSING,)
    verdicts: list[str] = []
    if not ready_nodes and desired != 0:
        verdicts.append(NO_READY_POD)
    elif single_point_of_failure(ready_nodes):
        verdicts.append(SPOF)
    if ready_nodes and desired is not None and len(ready_nodes) < desired:
        verdicts.append(DEGRADED)
    if declared is not None and running and set(running) != set(declared):
        verdicts.append(IMAGE_DRIFT)
    return tuple(verdicts)


def _sum_usage(usages: Iterable[Usage | None]) -> Usage | None:
    known = list(usages)
    if not known or any(usage is None for usage in known):
        return None
    return Usage(
        sum((u.cpu for u in known if u is not None), Fraction(0)),
        sum((u.memory for u in known if u is not None), Fraction(0)),
    )


def _service(
    release: ReleaseStatus,
    kind: str,
    name: str,
    live: LiveWorkload | None,
    declared: DeclaredWorkload | None,
    has_manifest: bool,
    reading: Reading,
) -> ServiceStatus:
    namespace = release.release.namespace
    selector = live.selector if live is not None else declared.selector if declared else ()
    pods = [
        pod
        for pod in reading.pods
        if pod.namespace == namespace and selects(selector, pod) and pod.active
    ]
    ready_nodes = [pod.node for pod in pods if pod.ready]
    desired = live.desired if live is not None else declared.replicas if declared else None
    running = sorted({image for pod in pods if pod.phase == "Running" for image in pod.images})
    images_declared = declared.images if declared is not None else None
    if images_declared is None and has_manifest:
        images_declared = ()  # DIR no longer declares it
    pod_usage = reading.pod_usage
    usage = (
        _sum_usage(pod_usage.get((namespace, pod.name)) for pod in pods)
        if pod_usage is not None and pods
        else None
    )
    return ServiceStatus(
        release=release.release.name,
        namespace=namespace,
        kind=kind,
        name=name,
        desired=desired,
        ready=len(ready_nodes),
        pods=tuple(PodPlace(pod.name, pod.node, pod.ready, pod.restarts) for pod in pods),
        nodes=tuple(sorted({node for node in ready_nodes if node is not None})),
        restarts=sum(pod.restarts for pod in pods),
        images_running=tuple(running),
        images_declared=images_declared,
        usage=usage,
        verdicts=service_verdicts(live is not None, desired, ready_nodes, running, images_declared),
    )


def release_services(release: ReleaseStatus, reading: Reading) -> list[ServiceStatus]:
    """The workloads of one deployed release: those DIR declares, then any other the cluster
    runs with the release's instance label."""
    if not release_deployed(release):
        return []
    declared = declared_workloads(release.manifest) or ()
    namespace = release.release.namespace
    live = {
        (one.kind, one.name): one
        for one in reading.workloads
        if one.namespace == namespace and one.instance == release.release.name
    }
    keys = [(one.kind, one.name) for one in declared]
    keys += sorted(key for key in live if key not in keys)
    by_key = {(one.kind, one.name): one for one in declared}
    has_manifest = bool(release.manifest)
    return [
        _service(release, kind, name, live.get((kind, name)), by_key.get((kind, name)),
                 has_manifest, reading)
        for kind, name in keys
    ]  # fmt: skip


def assess(reading: Reading) -> LiveStatus:
    services = [one for release in reading.releases for one in release_services(release, reading)]
    nodes = []
    for node in reading.nodes:
        on_node = [
            (service.name, pod) for service in services for pod in service.pods
            if pod.node == node.name
        ]  # fmt: skip
        nodes.append(
            NodeStatus(
                node=node,
                pods=sum(1 for pod in reading.pods if pod.node == node.name and pod.active),
                usage=None if reading.node_usage is None else reading.node_usage.get(node.name),
                service_pods=tuple(on_node),
            )
        )
    return LiveStatus(
        releases=reading.releases,
        services=tuple(services),
        nodes=tuple(nodes),
        metrics=reading.node_usage is not None,
        metrics_error=reading.metrics_error,
    )
