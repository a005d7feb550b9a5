"""Reads the live state of the cluster: the one module that asks kubectl about it.

`chartgen status` and `chartgen graph --live` come here. The releases' records come from
helm through `chartgen.install` (with the manifest DIR would deploy, rendered by the cluster);
Nodes, Pods, the releases' Deployments / StatefulSets / DaemonSets (selected by the chart label
app.kubernetes.io/instance = release name, in the release's namespace) and metrics-server's
NodeMetrics and PodMetrics come from kubectl with `-o json`, run by `_Kubectl`, the one runner.
kubectl honours KUBECONFIG itself; --kubeconfig and --kube-context are passed on as given.
What was read is judged by `chartgen.live_verdicts` (pure); nothing here prints.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import OperationFailed
from chartgen.helm_args import Connection, kubectl_connection_flags
from chartgen.live_verdicts import (
    INSTANCE_LABEL,
    LiveStatus,
    LiveWorkload,
    Reading,
    Usage,
    assess,
    parse_nodes,
    parse_pods,
    parse_usage,
    parse_workloads,
    release_deployed,
)
from chartgen.plan import Plan, Release

KUBECTL_TIMEOUT_SECONDS = 60
METRICS_NODES = "/apis/metrics.k8s.io/v1beta1/nodes"
METRICS_PODS = "/apis/metrics.k8s.io/v1beta1/pods"
WORKLOAD_RESOURCES = "deployments.apps,statefulsets.apps,daemonsets.apps"


def nodes_argv() -> list[str]:
    return ["get", "nodes", "--output", "json"]


def pods_argv() -> list[str]:
    """Every pod of the cluster: the releases' own, and the count of pods on each node."""
    return ["get", "pods", "--all-namespaces", "--output", "json"]


def workloads_argv(release: Release) -> list[str]:
    return [
        "get",
        WORKLOAD_RESOURCES,
        "--namespace",
        release.namespace,
        "--selector",
        f"{INSTANCE_LABEL}={release.name}",
        "--output",
        "json",
    ]


def raw_argv(path: str) -> list[str]:
    return ["get", "--raw", path]


@dataclass(frozen=True)
class _Kubectl:
    """Runs kubectl against the chosen cluster; the only place a kubectl process starts."""

    path: Path
    connection: Connection

    def run(self, argv: list[str]) -> bytes:
        full = [str(self.path), *argv, *kubectl_connection_flags(self.connection)]
        try:
            done = subprocess.run(
                full, capture_output=True, timeout=KUBECTL_TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise _KubectlFailed(f"cannot run {self.path}: {error}") from error
        if done.returncode != 0:
            raise _KubectlFailed(_last_line(done.stderr) or f"kubectl exited {done.returncode}")
        return done.stdout


class _KubectlFailed(Exception):
    pass


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")


def read_status(plan: Plan, helm: Path, kubectl: Path, connection: Connection) -> LiveStatus:
    """One frame: helm's records of every release, the cluster's objects, the verdicts."""
    from chartgen.install import Session
    from chartgen.install import status as release_status

    releases = release_status(plan, Session(helm, connection))
    runner = _Kubectl(kubectl, connection)
    deployed = [one.release for one in releases if release_deployed(one)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        nodes = pool.submit(runner.run, nodes_argv())
        pods = pool.submit(runner.run, pods_argv())
        workloads = [pool.submit(runner.run, workloads_argv(one)) for one in deployed]
        node_metrics = pool.submit(runner.run, raw_argv(METRICS_NODES))
        pod_metrics = pool.submit(runner.run, raw_argv(METRICS_PODS))
        try:
            read_nodes = parse_nodes(nodes.result())
            read_pods = parse_pods(pods.result())
            read_workloads: tuple[LiveWorkload, ...] = tuple(
                workload for future in workloads for workload in parse_workloads(future.result())
            )
        except _KubectlFailed as failed:
            raise OperationFailed(f"kubectl: {failed}") from None
        node_usage: dict[str, Usage] | None
        pod_usage: dict[tuple[str, str], Usage] | None
        try:
            # No metrics-server (or one not answering): usage is unknown, not an error.
            by_node = parse_usage(node_metrics.result())
            node_usage = {name: usage for (_, name), usage in by_node.items()}
            pod_usage = parse_usage(pod_metrics.result())
            metrics_error = ""
        except (_KubectlFailed, ValueError) as failed:
            node_usage, pod_usage, metrics_error = None, None, str(failed)
    return assess(
        Reading(
            releases, read_nodes, read_pods, read_workloads, node_usage, pod_usage, metrics_error
        )
    )
