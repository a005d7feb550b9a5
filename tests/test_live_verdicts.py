"""The live verdicts and their printing, without a cluster: kubectl's JSON and helm's records
given as values, `assess` and the renderers judged on them."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from chartgen.graph import to_dot, to_dot_beside, to_mermaid, to_mermaid_beside, topology
from chartgen.install import ReleaseStatus
from chartgen.live_render import (
    cpu_text,
    live_topology,
    memory_text,
    status_json,
    status_text,
    summary,
)
from chartgen.live_verdicts import (
    DEGRADED,
    IMAGE_DRIFT,
    MISSING,
    NO_READY_POD,
    SPOF,
    LivePod,
    Reading,
    Usage,
    assess,
    declared_workloads,
    parse_nodes,
    parse_pods,
    parse_usage,
    parse_workloads,
    selects,
    service_verdicts,
    single_point_of_failure,
)
from chartgen.plan import Release
from chartgen.validate import validate_file

SELECTOR = {"app.kubernetes.io/name": "nginx", "app.kubernetes.io/instance": "web"}

MANIFEST = """\
---
apiVersion: v1
kind: Service
metadata: {name: web-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-nginx}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: nginx, app.kubernetes.io/instance: web}
  template:
    spec:
      containers:
        - {name: nginx, image: "nginx:1.27"}
"""
AGENT = """\
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web-agent}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: agent, app.kubernetes.io/instance: web}
  template:
    spec:
      containers:
        - {name: agent, image: "agent:2"}
"""


def _list(*items: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)})


def _node(name: str, ready: str = "True", **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": extra.get("labels", {})},
        "spec": extra.get("spec", {}),
        "status": {
            "conditions": [{"type": "Ready", "status": ready}],
            "nodeInfo": extra.get("info", {"architecture": "arm64", "kubeletVersion": "v1.31.4"}),
            "allocatable": {"cpu": "4", "memory": "8Gi"},
        },
    }


def _pod(
    name: str,
    node: str | None,
    *,
    ready: bool = True,
    namespace: str = "web",
    labels: dict[str, str] | None = None,
    phase: str = "Running",
    image: str = "nginx:1.27",
    restarts: tuple[int, ...] = (0,),
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or SELECTOR},
        "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": image}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"restartCount": count} for count in restarts],
        },
    }


def _deployment(
    name: str = "web-nginx", replicas: int = 2, instance: str = "web"
) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "web",
            "labels": {"app.kubernetes.io/instance": instance},
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": SELECTOR}},
    }


def _release(status: str = "deployed", manifest: str = MANIFEST) -> ReleaseStatus:
    installed = status != "not installed"
    return ReleaseStatus(
        Release("web", "web", "web"), installed, 1 if installed else None, status,
        "nginx-0.1.0", "1.27", "", True, manifest=manifest,
    )  # fmt: skip


def _reading(
    pods: list[dict[str, Any]],
    workloads: list[dict[str, Any]],
    release: ReleaseStatus | None = None,
    metrics: bool = True,
) -> Reading:
    nodes = parse_nodes(_list(_node("worker1"), _node("worker2")))
    parsed = parse_pods(_list(*pods))
    node_usage = {"worker1": Usage(Fraction(1, 2), Fraction(2**30))} if metrics else None
    pod_usage = (
        {(pod.namespace, pod.name): Usage(Fraction(1, 100), Fraction(2**20)) for pod in parsed}
        if metrics
        else None
    )
    return Reading(
        (release or _release(),),
        nodes,
        parsed,
        parse_workloads(_list(*workloads)),
        node_usage,
        pod_usage,
        "" if metrics else "Error from server (NotFound)",
    )


def _web(reading: Reading) -> Any:
    return next(one for one in assess(reading).services if one.name == "web-nginx")


# Verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [([], False), (["a"], True), (["a", "a"], True), (["a", "b"], False), ([None], True)],
)
def test_single_point_of_failure_is_every_ready_pod_on_one_node(
    nodes: list[str | None], expected: bool
) -> None:
    assert single_point_of_failure(nodes) is expected


@pytest.mark.parametrize(
    ("present", "desired", "ready", "running", "declared", "expected"),
    [
        (False, 2, [], [], ["a"], (MISSING,)),
        (True, 2, [], [], ["a"], (NO_READY_POD,)),
        (True, 0, [], [], ["a"], ()),  # scaled to zero on purpose
        (True, 2, ["n1", "n2"], ["a"], ["a"], ()),
        (True, 2, ["n1", "n1"], ["a"], ["a"], (SPOF,)),
        (True, 1, ["n1"], ["a"], ["a"], (SPOF,)),
        (True, 3, ["n1", "n2"], ["a"], ["a"], (DEGRADED,)),
        (True, 2, ["n1"], ["a"], ["a"], (SPOF, DEGRADED)),
        (True, 2, ["n1", "n2"], ["b"], ["a"], (IMAGE_DRIFT,)),
        (True, 2, ["n1", "n2"], ["a", "b"], ["a"], (IMAGE_DRIFT,)),  # a rollout under way
        (True, 2, ["n1", "n2"], ["b"], None, ()),  # DIR's manifest unknown: no judgement
        (True, None, ["n1", "n2"], ["a"], ["a"], ()),  # a DaemonSet without status
    ],
)
def test_service_verdicts(
    present: bool,
    desired: int | None,
    ready: list[str],
    running: list[str],
    declared: list[str] | None,
    expected: tuple[str, ...],
) -> None:
    assert service_verdicts(present, desired, ready, running, declared) == expected


def test_a_selector_selects_pods_that_carry_all_its_labels() -> None:
    pod = LivePod("web", "p", (("a", "1"), ("b", "2")), "n", "Running", True, 0, ())
    assert selects((("a", "1"),), pod)
    assert not selects((("a", "1"), ("c", "3")), pod)
    assert not selects((), pod)  # a workload without selector claims nothing


# Reading kubectl's JSON ----------------------------------------------------------------------


def test_nodes_are_read_with_ready_arch_kubelet_cordon_and_role() -> None:
    nodes = parse_nodes(
        _list(
            _node("w2", "False", spec={"unschedulable": True}),
            _node(
                "cp",
                labels={"node-role.kubernetes.io/control-plane": "", "kubernetes.io/arch": "amd64"},
                info={"kubeletVersion": "v1.30.1"},
            ),
        )
    )
    assert [(n.name, n.ready, n.arch, n.kubelet, n.cordoned, n.control_plane) for n in nodes] == [
        ("cp", True, "amd64", "v1.30.1", False, True),  # the arch from its label when needed
        ("w2", False, "arm64", "v1.31.4", True, False),
    ]
    assert (nodes[0].cpu, nodes[0].memory) == (Fraction(4), Fraction(8 * 2**30))


def test_pods_are_read_with_node_readiness_and_restarts_of_all_containers() -> None:
    (pod,) = parse_pods(_list(_pod("p", None, ready=False, restarts=(2, 3), phase="Pending")))
    assert (pod.node, pod.ready, pod.restarts, pod.phase, pod.images) == (
        None, False, 5, "Pending", ("nginx:1.27",)
    )  # fmt: skip


def test_workloads_are_read_and_other_kinds_skipped() -> None:
    daemon = {
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "web"},
        "spec": {"selector": {"matchLabels": {"a": "1"}}},
        "status": {"desiredNumberScheduled": 3},
    }
    default = _deployment()
    del default["spec"]["replicas"]
    workloads = parse_workloads(_list(daemon, default, {"kind": "Service", "metadata": {}}))
    assert [(w.kind, w.name, w.desired, w.instance) for w in workloads] == [
        ("DaemonSet", "agent", 3, ""),
        ("Deployment", "web-nginx", 1, "web"),  # Kubernetes' default of one replica
    ]


def test_usage_of_nodes_and_of_pods_summed_over_containers() -> None:
    nodes = parse_usage(
        _list({"metadata": {"name": "w1"}, "usage": {"cpu": "250m", "memory": "1Gi"}})
    )
    assert nodes == {("", "w1"): Usage(Fraction(1, 4), Fraction(2**30))}
    pods = parse_usage(
        _list(
            {
                "metadata": {"name": "p", "namespace": "web"},
                "containers": [
                    {"usage": {"cpu": "1500000n", "memory": "10Mi"}},
                    {"usage": {"cpu": "2m", "memory": "6Mi"}},
                ],
            }
        )
    )
    assert pods == {("web", "p"): Usage(Fraction(35, 10000), Fraction(16 * 2**20))}


def test_declared_workloads_come_from_the_manifest() -> None:
    declared = declared_workloads(MANIFEST + AGENT)
    assert declared is not None
    assert [(d.kind, d.name, d.replicas, d.images) for d in declared] == [
        ("Deployment", "web-nginx", 2, ("nginx:1.27",)),
        ("DaemonSet", "web-agent", None, ("agent:2",)),
    ]
    assert declared_workloads("") is None
    assert declared_workloads("a: [unclosed") is None


# assess --------------------------------------------------------------------------------------


def test_spread_ready_pods_are_healthy() -> None:
    reading = _reading([_pod("a", "worker1"), _pod("b", "worker2")], [_deployment()])
    web = _web(reading)
    assert (web.ready, web.desired, web.nodes, web.verdicts) == (2, 2, ("worker1", "worker2"), ())
    assert web.usage == Usage(Fraction(2, 100), Fraction(2 * 2**20))
    assert web.image_drift is False


def test_two_replicas_on_one_node_are_a_single_point_of_failure() -> None:
    reading = _reading([_pod("a", "worker1"), _pod("b", "worker1")], [_deployment()])
    status = assess(reading)
    web = _web(reading)
    assert web.single_point_of_failure and web.verdicts == (SPOF,)
    assert status.healthy  # a SPOF still serves: exit code 0
    assert summary(status).endswith("single point of failure: web deployment/web-nginx\n")


def test_not_ready_finished_and_foreign_pods_do_not_count() -> None:
    pods = [
        _pod("a", "worker1"),
        _pod("b", "worker2", ready=False, restarts=(7,)),
        _pod("old", "worker2", phase="Succeeded"),
        _pod("other", "worker2", namespace="elsewhere"),  # same labels, other namespace
    ]
    reading = _reading(pods, [_deployment()])
    web = _web(reading)
    assert (web.ready, web.restarts, [pod.name for pod in web.pods]) == (1, 7, ["a", "b"])
    assert web.verdicts == (SPOF, DEGRADED)
    nodes = {one.node.name: one for one in assess(reading).nodes}
    assert nodes["worker2"].pods == 2  # b and other; the finished pod holds no place
    assert [(name, pod.name) for name, pod in nodes["worker2"].service_pods] == [("web-nginx", "b")]


def test_no_ready_pod_fails_the_health_check() -> None:
    status = assess(_reading([_pod("a", "worker1", ready=False)], [_deployment()]))
    assert not status.healthy
    assert summary(status) == "unhealthy: web deployment/web-nginx: no ready pod\n"


def test_a_declared_workload_absent_from_the_cluster_is_missing() -> None:
    status = assess(_reading([], [_deployment()], _release(manifest=MANIFEST + AGENT)))
    agent = next(one for one in status.services if one.name == "web-agent")
    assert agent.verdicts == (MISSING,) and agent.down and agent.desired is None
    assert not status.healthy


def test_a_workload_dir_no_longer_declares_shows_with_an_image_drift() -> None:
    pods = [_pod("x", "worker1", labels={"app": "x"}), _pod("y", "worker2", labels={"app": "x"})]
    extra = _deployment("leftover", 2)
    extra["spec"]["selector"]["matchLabels"] = {"app": "x"}
    status = assess(_reading(pods, [_deployment(), extra]))
    assert [one.name for one in status.services] == ["web-nginx", "leftover"]
    leftover = status.services[-1]
    assert (leftover.images_declared, leftover.verdicts) == ((), (IMAGE_DRIFT,))


def test_a_release_of_another_instance_is_not_mixed_in() -> None:
    status = assess(_reading([], [_deployment("cloud", instance="cloud")]))
    assert "cloud" not in [one.name for one in status.services]


def test_a_release_not_deployed_fails_and_has_no_services() -> None:
    for state in ("not installed", "failed", "pending-upgrade"):
        status = assess(_reading([_pod("a", "worker1")], [_deployment()], _release(state)))
        assert status.not_deployed == ("web",) and status.services == ()
        assert not status.healthy
        assert summary(status) == "unhealthy: release web not deployed\n"


def test_without_metrics_usage_is_unknown_not_an_error() -> None:
    status = assess(_reading([_pod("a", "worker1")], [_deployment()], metrics=False))
    assert not status.metrics and all(one.usage is None for one in status.nodes)
    assert all(one.usage is None for one in status.services)
    text = status_text(status)
    assert "usage unknown: metrics API: Error from server (NotFound)\n" in text
    document = status_json(status)
    assert document["metrics"] == {"available": False, "error": "Error from server (NotFound)"}
    assert document["nodes"][0]["usage"] is None


def test_a_node_without_its_metrics_is_unknown_and_a_partly_measured_service_too() -> None:
    reading = _reading([_pod("a", "worker1"), _pod("b", "worker2")], [_deployment()])
    pod_usage = dict(reading.pod_usage or {})
    del pod_usage[("web", "b")]
    reading = Reading(
        reading.releases, reading.nodes, reading.pods, reading.workloads,
        reading.node_usage, pod_usage,
    )  # fmt: skip
    status = assess(reading)
    assert {one.node.name: one.usage for one in status.nodes}["worker2"] is None
    assert _web(reading).usage is None


# Printing ------------------------------------------------------------------------------------


def test_quantities_are_printed_short() -> None:
    assert [cpu_text(Fraction(1, 4)), cpu_text(Fraction(12)), cpu_text(Fraction(0))] == [
        "250m", "12.0", "0m"
    ]  # fmt: skip
    assert [memory_text(Fraction(3 * 2**20)), memory_text(Fraction(12 * 2**30))] == [
        "3Mi", "12.0Gi"
    ]  # fmt: skip


def test_status_table() -> None:
    pods = [_pod("a", "worker1"), _pod("b", "worker1", image="nginx:1.25", restarts=(2,))]
    text = status_text(assess(_reading(pods, [_deployment()])))
    assert text.splitlines()[:2] == [
        "RELEASE  NAMESPACE  REVISION  STATUS    CHART        MATCHES DIR",
        "web      web        1         deployed  nginx-0.1.0  yes",
    ]
    services = text.split("\n\n")[1].splitlines()
    assert services[0].split() == [
        "SERVICE", "WORKLOAD", "READY", "NODES", "RESTARTS", "CPU", "MEMORY", "IMAGE", "VERDICT"
    ]  # fmt: skip
    assert services[1].split()[:8] == [
        "web", "deployment/web-nginx", "2/2", "worker1", "2", "20m", "2Mi",
        "nginx:1.25,nginx:1.27",
    ]  # fmt: skip
    assert services[1].endswith(
        "(DIR: nginx:1.27)  single point of failure, image differs from DIR"
    )
    nodes = text.split("\n\n")[2].splitlines()
    assert nodes[1].split() == [
        "worker1", "yes", "arm64", "v1.31.4", "2", "500m", "(12%)", "1024Mi", "(12%)",
        "schedulable",
    ]  # fmt: skip
    assert nodes[2].split()[5:7] == ["unknown", "unknown"]


def test_status_json_shape_is_documented_in_the_readme() -> None:
    document = status_json(assess(_reading([_pod("a", "worker1")], [_deployment()])))
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Live status as JSON", 1)[1].split("\n## ", 1)[0]
    keys = set(document) | set(document["releases"][0]) | set(document["services"][0])
    keys |= set(document["nodes"][0]) | set(document["metrics"])
    keys |= set(document["services"][0]["pods"][0]) | set(document["nodes"][0]["allocatable"])
    spellings = ("`{}`", "`{}[]`", '"{}"')
    undocumented = sorted(
        key for key in keys if not any(form.format(key) in section for form in spellings)
    )
    assert undocumented == []


def test_live_topology_draws_nodes_with_their_pods_and_what_is_wrong_in_red() -> None:
    reading = _reading([_pod("a", "worker1"), _pod("b", "worker1", ready=False)], [_deployment()])
    shape = live_topology(assess(reading))
    assert shape.title == "live: 2 nodes, 1 service, 1 single point of failure"
    dot = to_dot(shape)
    web = next(line for line in dot.splitlines() if "svc_web_2fDeployment_2fweb_2dnginx [" in line)
    assert 'fillcolor="#fca5a5"' in web
    assert "single point of failure, fewer ready than desired" in web
    assert "1/2 ready, 0 restarts" in web
    worker1 = next(line for line in dot.splitlines() if line.strip().startswith("node_worker1 "))
    assert "<br/>a<br/>b (not ready)>" in worker1
    assert 'label="runs on worker1"' in dot
    assert "svc_web_2fDeployment_2fweb_2dnginx -> node_worker1:w" in dot
    assert "ltail" not in dot
    mermaid = to_mermaid(shape)
    assert "classDef spof fill:#fca5a5,stroke:#b91c1c" in mermaid
    assert ":::spof" in mermaid


def test_the_live_picture_beside_the_planned_one_keeps_their_identifiers_apart() -> None:
    validation = validate_file(str(Path(__file__).parent.parent / "datacenter.yaml"))
    assert validation.datacenter is not None
    planned = topology(validation.datacenter, validation.problems)
    live = live_topology(assess(_reading([_pod("a", "worker1")], [_deployment()])))
    dot = to_dot_beside(planned, live)
    defined = [
        line.split()[0] for line in dot.splitlines() if line.startswith("      ") and " [" in line
        if "->" not in line and not line.strip().startswith("graph")
    ]  # fmt: skip
    assert len(defined) == len(set(defined))
    assert {name.split("_")[0] for name in defined} == {"plan", "live"}
    # both nodes called worker1, one in each picture
    assert "plan_node_worker1 [" in dot and "live_node_worker1 [" in dot
    assert to_dot(planned).count("node_worker1 [") == 1
    assert f"label={chr(34)}{planned.title}{chr(34)}" in dot
    mermaid = to_mermaid_beside(planned, live)
    assert "live_svc_web_2fDeployment_2fweb_2dnginx[" in mermaid
    assert "plan_svc_web[" in mermaid and "  subgraph plan_picture [" in mermaid
    assert "live_node_worker1[" in mermaid and ":::live_spof" in mermaid
