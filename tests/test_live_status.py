"""`chartgen status` live and `chartgen graph --live` against the emulated Kubernetes API:
real helm installs the proof of concept, then the test plays scheduler, kubelet and
metrics-server by putting Nodes, Pods (placed, ready or not, restarted) and metrics there."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion

from chartgen.cli import main
from chartgen.helm_args import ChangeOptions
from chartgen.install import Session
from chartgen.install import install as install_releases
from chartgen.plan import read_plan
from chartgen.tools import find_helm
from tests.install_fixtures import (
    PROOF_OF_CONCEPT,
    StartCluster,
    cluster,
    helm_env,
    postgres,
    root_tree,
    start_emulated,
)
from tests.kube_emulator import EmulatedCluster, kubeconfig_text

__all__ = ["cluster", "helm_env", "postgres", "root_tree", "start_emulated"]

NODES = {"control1": "amd64", "worker1": "arm64", "worker2": "arm64"}


def _chartgen(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(argv))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _node(name: str, *, ready: bool = True, cordoned: bool = False) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/arch": NODES[name]}
    if name.startswith("control"):
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"unschedulable": True} if cordoned else {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "nodeInfo": {"architecture": NODES[name], "kubeletVersion": "v1.31.4"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        },
    }


def _pod(
    cluster: EmulatedCluster,
    namespace: str,
    workload: str,
    index: int,
    node: str,
    *,
    ready: bool = True,
    restarts: int = 0,
    image: str | None = None,
) -> str:
    """Pod INDEX of WORKLOAD (a Deployment or StatefulSet the release made) as its controller
    and kubelet would make it on NODE; returns its name."""
    found = cluster.objects("deployments", namespace) | cluster.objects("statefulsets", namespace)
    template = found[workload]["spec"]["template"]
    name = f"{workload}-{index}"
    containers = [dict(container) for container in template["spec"]["containers"]]
    if image is not None:
        containers[0]["image"] = image
    statuses = [{"name": c["name"], "restartCount": 0, "image": c["image"]} for c in containers]
    statuses[0]["restartCount"] = restarts
    cluster.put(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": template["metadata"]["labels"],
            },
            "spec": {"nodeName": node, "containers": containers},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "containerStatuses": statuses,
            },
        }
    )
    return name


def _node_metrics(cluster: EmulatedCluster, name: str, cpu: str, memory: str) -> None:
    cluster.put(
        {
            "apiVersion": "metrics.k8s.io/v1beta1",
            "kind": "NodeMetrics",
            "metadata": {"name": name},
            "timestamp": "2026-01-01T00:00:00Z",
            "window": "20s",
            "usage": {"cpu": cpu, "memory": memory},
        }
    )


def _pod_metrics(
    cluster: EmulatedCluster, namespace: str, name: str, cpu: str, memory: str
) -> None:
    cluster.put(
        {
            "apiVersion": "metrics.k8s.io/v1beta1",
            "kind": "PodMetrics",
            "metadata": {"name": name, "namespace": namespace},
            "timestamp": "2026-01-01T00:00:00Z",
            "window": "20s",
            "containers": [{"name": "main", "usage": {"cpu": cpu, "memory": memory}}],
        }
    )


def _install(root_tree: Path) -> None:
    result = install_releases(read_plan(root_tree), Session(find_helm().path), ChangeOptions())
    assert result.ok, result.summary()


# Where the proof of concept's pods run once all is well: (namespace, workload, nodes).
HEALTHY = [
    ("chartgen-system", "chartgen-storage-nfs-nfs", ["worker1"]),
    ("web", "web-nginx", ["worker1", "worker2"]),
    ("cloud", "cloud", ["worker1", "worker2"]),
    ("cloud", "cloud-redis", ["worker1"]),
    ("cloud", "cloud-postgresql", ["worker2"]),
]


def _running_cluster(cluster: EmulatedCluster, root_tree: Path) -> None:
    """The proof of concept installed, every pod placed and ready, metrics-server answering."""
    _install(root_tree)
    for name in NODES:
        cluster.put(_node(name))
        _node_metrics(cluster, name, "500m", "2Gi")
    for namespace, workload, nodes in HEALTHY:
        for index, node in enumerate(nodes):
            _pod_metrics(cluster, namespace, _pod(cluster, namespace, workload, index, node),
                         "20m", "64Mi")  # fmt: skip


def _services(out: str) -> dict[str, dict[str, Any]]:
    return {one["name"]: one for one in json.loads(out)["services"]}


def _rows(out: str, header: str) -> dict[str, list[str]]:
    """The rows of the status table whose header starts with HEADER, by first cell."""
    table = next(part for part in out.split("\n\n") if part.startswith(header))
    return {line.split()[0]: line.split() for line in table.splitlines()[1:]}


def _service_rows(out: str) -> dict[str, str]:
    table = next(part for part in out.split("\n\n") if part.startswith("SERVICE"))
    return {line.split()[1]: line for line in table.splitlines()[1:]}


def test_live_status_of_a_healthy_cluster(
    cluster: EmulatedCluster, root_tree: Path, snapshot_text: SnapshotAssertion
) -> None:
    _running_cluster(cluster, root_tree)
    code, out, err = _chartgen("status", "--output", "json", str(root_tree))
    assert code == 0, err
    # The JSON exactly as printed, but for helm's time of each deployment.
    assert re.sub(r'"updated": "[^"]+"', '"updated": "<time>"', out) == snapshot_text
    status = json.loads(out)
    assert status["healthy"] is True
    services = _services(out)
    assert services["web-nginx"]["nodes"] == ["worker1", "worker2"]
    assert services["web-nginx"]["verdicts"] == []
    # one replica on one node: a single point of failure, yet the service answers (exit 0)
    assert services["cloud-postgresql"]["verdicts"] == ["single point of failure"]
    assert services["cloud-postgresql"]["imagesRunning"] == ["docker.io/library/postgres:17.6"]
    assert services["cloud-postgresql"]["imageDrift"] is False
    assert services["web-nginx"]["usage"] == {"cpuMillicores": 40, "memoryBytes": 128 * 2**20}
    worker1 = next(node for node in status["nodes"] if node["name"] == "worker1")
    assert worker1 == {
        "name": "worker1",
        "ready": True,
        "architecture": "arm64",
        "kubeletVersion": "v1.31.4",
        "controlPlane": False,
        "cordoned": False,
        "pods": 4,
        "allocatable": {"cpuMillicores": 4000, "memoryBytes": 8 * 2**30},
        "usage": {"cpuMillicores": 500, "memoryBytes": 2 * 2**30},
    }

    code, out, err = _chartgen("status", str(root_tree))
    assert code == 0, err
    nodes = _rows(out, "NODE")
    assert nodes["worker1"] == ["worker1", "yes", "arm64", "v1.31.4", "4", "500m", "(12%)",
                                "2048Mi", "(25%)", "schedulable"]  # fmt: skip
    assert _rows(out, "RELEASE")["web"][3] == "deployed"
    assert _service_rows(out)["deployment/web-nginx"].split()[2:5] == [
        "2/2", "worker1,worker2", "0"
    ]  # fmt: skip
    assert out.endswith(
        "healthy; single point of failure: chartgen-storage deployment/chartgen-storage-nfs-nfs,"
        " cloud deployment/cloud-redis, cloud statefulset/cloud-postgresql\n"
    )


def test_live_verdicts_and_exit_codes(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing installed: every release is reported, and the exit code says so.
    for name in NODES:
        cluster.put(_node(name))
    code, out, err = _chartgen("status", str(root_tree))
    assert code == 1, err
    assert _rows(out, "RELEASE")["web"][1:] == ["web", "not", "installed", "no"]
    assert "unhealthy: release chartgen-namespaces not deployed; " in out
    assert "SERVICE" not in out

    _running_cluster(cluster, root_tree)
    # Both Nextcloud pods land on worker1 although the file asked for 2 replicas on 2 nodes;
    # the second one restarts and is not ready; worker2 is cordoned, control1 not Ready.
    _pod(cluster, "cloud", "cloud", 1, "worker1", ready=False, restarts=4)
    cluster.put(_node("worker2", cordoned=True))
    cluster.put(_node("control1", ready=False))
    # A web pod runs an image that DIR does not declare (someone ran `kubectl set image`).
    _pod(cluster, "web", "web-nginx", 1, "worker2", image="docker.io/library/nginx:1.25")
    code, out, err = _chartgen("status", "--output", "json", str(root_tree))
    assert code == 0, err  # degraded, a SPOF, a drift: still serving
    services = _services(out)
    assert services["cloud"]["nodes"] == ["worker1"]
    assert services["cloud"]["verdicts"] == ["single point of failure", "fewer ready than desired"]
    assert (services["cloud"]["ready"], services["cloud"]["desired"]) == (1, 2)
    assert services["cloud"]["restarts"] == 4
    assert services["web-nginx"]["verdicts"] == ["image differs from DIR"]
    assert services["web-nginx"]["imageDrift"] is True
    assert "docker.io/library/nginx:1.25" in services["web-nginx"]["imagesRunning"]
    nodes = {node["name"]: node for node in json.loads(out)["nodes"]}
    assert (nodes["worker2"]["cordoned"], nodes["control1"]["ready"]) == (True, False)

    code, out, err = _chartgen("status", str(root_tree))
    assert code == 0, err
    rows = _service_rows(out)
    assert rows["deployment/cloud"].split()[2:5] == ["1/2", "worker1", "4"]
    assert rows["deployment/cloud"].endswith("single point of failure, fewer ready than desired")
    assert "docker.io/library/nginx:1.25" in rows["deployment/web-nginx"]
    assert "(DIR: docker.io/nginxinc/nginx-unprivileged:" in rows["deployment/web-nginx"]
    assert _rows(out, "NODE")["worker2"][-1] == "cordoned"
    assert _rows(out, "NODE")["control1"][1] == "no"

    # Redis has no ready pod left: the health check fails.
    _pod(cluster, "cloud", "cloud-redis", 0, "worker1", ready=False)
    code, out, err = _chartgen("status", str(root_tree))
    assert code == 1
    assert out.splitlines()[-1].startswith("unhealthy: cloud deployment/cloud-redis: no ready pod")
    code, out, err = _chartgen("status", "--output", "json", str(root_tree))
    assert code == 1
    assert json.loads(out)["healthy"] is False
    assert _services(out)["cloud-redis"]["down"] is True

    # The picture of the same cluster: nodes with their pods, what is wrong now in red (alone:
    # there is no datacenter.yaml in the current folder to draw beside it).
    monkeypatch.chdir(tmp_path)
    code, out, err = _chartgen("graph", "--live", "--dir", str(root_tree), "--format", "dot")
    assert code == 0, err
    assert "live: 3 nodes, 5 services, 3 single points of failure" in out
    worker1 = next(line for line in out.splitlines() if line.strip().startswith("node_worker1 "))
    assert "cloud-0" in worker1 and "cloud-1 (not ready)" in worker1 and "web-nginx-0" in worker1
    cloud = next(line for line in out.splitlines() if "svc_cloud_2fDeployment_2fcloud " in line)
    assert 'fillcolor="#fca5a5"' in cloud and "single point of failure" in cloud
    web = next(line for line in out.splitlines() if "svc_web_2fDeployment_2fweb_2dnginx " in line)
    assert 'fillcolor="#fca5a5"' in web and "image differs from DIR" in web
    redis = next(
        line for line in out.splitlines() if "svc_cloud_2fDeployment_2fcloud_2dredis " in line
    )
    assert "no ready pod" in redis
    control1 = next(line for line in out.splitlines() if line.strip().startswith("node_control1 "))
    assert 'fillcolor="#fca5a5"' in control1 and "NOT READY" in control1
    assert re.search(r'label="runs on worker1"', out)
    assert "svc_cloud_2fDeployment_2fcloud -> node_worker1:w [style=dotted" in out
    assert "svc_cloud_2fDeployment_2fcloud -> node_worker2" not in out


def test_usage_is_unknown_without_a_metrics_api(
    start_emulated: StartCluster, root_tree: Path
) -> None:
    cluster = start_emulated(metrics_api=False)
    _running_cluster_without_metrics(cluster, root_tree)
    code, out, err = _chartgen("status", "--output", "json", str(root_tree))
    assert code == 0, err
    status = json.loads(out)
    assert status["metrics"]["available"] is False
    assert "not found" in status["metrics"]["error"].lower()  # kubectl's words for the 404
    assert {node["name"]: node["usage"] for node in status["nodes"]} == dict.fromkeys(NODES)
    assert all(one["usage"] is None for one in status["services"])
    code, out, err = _chartgen("status", str(root_tree))
    assert code == 0, err
    assert _rows(out, "NODE")["worker1"][5:7] == ["unknown", "unknown"]
    assert "usage unknown: metrics API: " in out


def _running_cluster_without_metrics(cluster: EmulatedCluster, root_tree: Path) -> None:
    _install(root_tree)
    for name in NODES:
        cluster.put(_node(name))
    for namespace, workload, nodes in HEALTHY:
        for index, node in enumerate(nodes):
            _pod(cluster, namespace, workload, index, node)


def test_graph_live_beside_the_planned_picture(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path
) -> None:
    _running_cluster(cluster, root_tree)
    _pod(cluster, "cloud", "cloud", 1, "worker1")
    live = ["graph", str(PROOF_OF_CONCEPT), "--live", "--dir", str(root_tree)]
    code, out, err = _chartgen(*live, "--format", "dot")
    assert code == 0, err
    assert "subgraph cluster_plan_picture {" in out and "subgraph cluster_live_picture {" in out
    planned, running = out.split("subgraph cluster_live_picture {")
    # planned: cloud may run on both workers; live: both its pods sit on worker1, in red
    assert 'label="may run on worker1, worker2"' in planned
    cloud = next(
        line for line in running.splitlines() if "live_svc_cloud_2fDeployment_2fcloud [" in line
    )
    assert 'fillcolor="#fca5a5"' in cloud and "single point of failure" in cloud
    assert "live_svc_cloud_2fDeployment_2fcloud -> live_node_worker1:w" in running
    assert "live_svc_cloud_2fDeployment_2fcloud -> live_node_worker2" not in running
    assert 'fillcolor="#fdba74"' in planned  # the file's own warnings stay orange
    code, out, err = _chartgen(*live, "--format", "mermaid")
    assert code == 0, err
    assert "classDef live_spof fill:#fca5a5" in out and "classDef plan_spof fill:#fdba74" in out
    picture = tmp_path / "live.png"
    code, _out, err = _chartgen(*live, "-o", str(picture))
    assert code == 0, err
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    keep = os.environ.get("CHARTGEN_KEEP_LIVE_PNG")
    if keep:  # for a person to look at
        Path(keep).write_bytes(picture.read_bytes())


def _read_until(fd: int, pattern: bytes, seen: bytearray, timeout: float = 240) -> None:
    """Reads FD into SEEN until PATTERN shows (a frame of installed releases runs a dozen helm
    commands: slow when the whole suite runs in parallel)."""
    deadline = time.monotonic() + timeout
    while pattern not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{pattern!r} not seen in {bytes(seen[-2000:])!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: the program ended
                break
            if not chunk:
                break
            seen += chunk


def _watch_argv(root_tree: Path) -> list[str]:
    return [sys.executable, "-m", "chartgen", "status", "--watch", "--interval", "0.2",
            str(root_tree)]  # fmt: skip


def test_watch_redraws_in_place_on_a_terminal(cluster: EmulatedCluster, root_tree: Path) -> None:
    cluster.put(_node("worker1"))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        _watch_argv(root_tree), stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True
    )
    os.close(terminal)
    seen = bytearray()
    try:
        _read_until(controller, b"unhealthy: release", seen)
        assert seen.startswith(b"\x1b[?25l\x1b[2J\x1b[H")  # cursor hidden, screen cleared
        # The next frame shows a node that joined, drawn over the first one from the top.
        cluster.put(_node("worker2"))
        _read_until(controller, b"worker2", seen)
        last = bytes(seen).rsplit(b"\x1b[H", 1)[1]
        assert b"worker1" in last and b"\x1b[K" in last
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=120) == 1  # the last frame: releases not deployed
        _read_until(controller, b"\x1b[?25h", seen, timeout=10)  # the cursor is back
        assert b"Traceback" not in seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


def test_watch_prints_plain_frames_to_a_pipe_and_exits_with_the_last_code(
    cluster: EmulatedCluster, root_tree: Path
) -> None:
    _running_cluster(cluster, root_tree)
    process = subprocess.Popen(
        _watch_argv(root_tree), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        seen = bytearray()
        assert process.stdout is not None
        _read_until(process.stdout.fileno(), b"\nhealthy", seen)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = (bytes(seen) + out).decode()
    assert process.returncode == 0, err
    assert "\x1b" not in text
    assert text.startswith(f"chartgen status {root_tree}, every 0.2s: ")
    assert b"Traceback" not in err


def test_watch_fails_at_once_on_what_no_frame_can_fix(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = _chartgen("status", "--watch", str(tmp_path / "absent"))
    assert (code, out) == (1, "")
    assert err == f"chartgen: {tmp_path / 'absent'} does not exist: run `chartgen build` first\n"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-file"))
    code, out, err = _chartgen("status", "--watch", str(root_tree))
    assert (code, out) == (1, "")
    assert err.startswith("chartgen: no kubeconfig: none of the files in KUBECONFIG exists")


def test_an_unreachable_cluster_is_one_clear_error(
    helm_env: dict[str, str], root_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "dead"
    kubeconfig.write_text(kubeconfig_text("http://127.0.0.1:9"))  # nothing listens there
    code, out, err = _chartgen("status", "--kubeconfig", str(kubeconfig), str(root_tree))
    assert (code, out) == (1, "")
    assert err.startswith("chartgen: cluster unreachable: ")
