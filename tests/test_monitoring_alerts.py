"""chartgen's alerts fire when they should and only then: `promtool test rules` evaluates the
rendered PrometheusRule over series shaped like kube-state-metrics' and the kubelet's.

Each scene puts a case that must fire beside cases that must not: another namespace than the
services', a healthy twin, a service scaled to zero, a pod that is not ready.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.chart_support import build, documents, helm
from tests.conftest import CASES

MONITORED = CASES / "valid" / "platform-monitoring" / "datacenter.yaml"
# The case's services live in namespaces api, cloud and web.
NAMESPACE = "cloud"


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("monitored") / "generated"
    build(MONITORED, out)
    chart = out / "platform" / "monitoring"
    objects = documents(helm("template", "chartgen-monitoring", str(chart), "-n", "monitoring"))
    (rule,) = [item for item in objects if item["kind"] == "PrometheusRule"]
    path = out.parent / "rules.yaml"
    YAML(typ="safe", pure=True).dump(rule["spec"], path)
    return path


def _promtool(rules_file: Path, tests: list[dict[str, Any]]) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: Debian package prometheus (scripts/debian-packages.txt)"
    path = rules_file.parent / "tests.yaml"
    document = {"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": tests}
    YAML(typ="safe", pure=True).dump(document, path)
    result = subprocess.run(
        [promtool, "test", "rules", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _alert(labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "exp_labels": labels,
        "exp_annotations": {"summary": summary, "description": description},
    }


def test_a_service_without_ready_pods(rules_file: Path) -> None:
    def deployment(namespace: str, name: str, wanted: int, available: int) -> list[Any]:
        labels = {"namespace": namespace, "deployment": name}
        return [
            _series("kube_deployment_spec_replicas", labels, f"{wanted}+0x20"),
            _series("kube_deployment_status_replicas_available", labels, f"{available}+0x20"),
        ]

    statefulset = {"namespace": NAMESPACE, "statefulset": "cloud-postgresql"}
    series = [
        *deployment(NAMESPACE, "cloud-redis", 1, 0),  # fires
        *deployment(NAMESPACE, "cloud", 2, 1),  # degraded, still serving
        *deployment("web", "web-nginx", 0, 0),  # scaled to zero on purpose
        *deployment("kube-system", "coredns", 2, 0),  # not a chartgen service
        _series("kube_statefulset_replicas", statefulset, "1+0x20"),
        _series("kube_statefulset_status_replicas_ready", statefulset, "1+0x5 0+0x15"),
    ]
    summary = "A service has no ready pod."
    _promtool(rules_file, [{
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            # `for: 5m`: pending before, firing after
            {"eval_time": "4m", "alertname": "ChartgenServiceWithoutReadyPods", "exp_alerts": []},
            {
                "eval_time": "6m",
                "alertname": "ChartgenServiceWithoutReadyPods",
                "exp_alerts": [
                    _alert({"severity": "critical", "namespace": NAMESPACE,
                            "deployment": "cloud-redis"}, summary,
                           f"{NAMESPACE}/cloud-redis wants replicas but none is ready."),
                ],
            },
            {
                "eval_time": "12m",
                "alertname": "ChartgenServiceWithoutReadyPods",
                "exp_alerts": [
                    _alert({"severity": "critical", "namespace": NAMESPACE,
                            "deployment": "cloud-redis"}, summary,
                           f"{NAMESPACE}/cloud-redis wants replicas but none is ready."),
                    _alert({"severity": "critical", "namespace": NAMESPACE,
                            "statefulset": "cloud-postgresql"}, summary,
                           f"{NAMESPACE}/cloud-postgresql wants replicas but none is ready."),
                ],
            },
        ],
    }])  # fmt: skip


def test_every_ready_replica_on_one_node(rules_file: Path) -> None:
    def pod(namespace: str, owner: str, pod: str, node: str, ready: str) -> list[Any]:
        info = {"namespace": namespace, "pod": pod, "node": node,
                "created_by_kind": "ReplicaSet", "created_by_name": owner}  # fmt: skip
        status = {"namespace": namespace, "pod": pod, "condition": "true"}
        return [
            _series("kube_pod_info", info, "1+0x30"),
            _series("kube_pod_status_ready", status, ready),
        ]

    ready = "1+0x30"
    series = [
        *pod(NAMESPACE, "cloud-7d9f", "cloud-7d9f-a", "worker1", ready),  # fires
        *pod(NAMESPACE, "cloud-7d9f", "cloud-7d9f-b", "worker1", ready),
        *pod("web", "web-nginx-5c4b", "web-nginx-5c4b-a", "worker1", ready),  # spread
        *pod("web", "web-nginx-5c4b", "web-nginx-5c4b-b", "worker2", ready),
        *pod("api", "api-6f8d", "api-6f8d-a", "worker2", ready),  # the other pod not ready
        *pod("api", "api-6f8d", "api-6f8d-b", "worker2", "0+0x30"),
        *pod("kube-system", "coredns-1a2b", "coredns-1a2b-a", "worker1", ready),  # not ours
        *pod("kube-system", "coredns-1a2b", "coredns-1a2b-b", "worker1", ready),
    ]
    firing = _alert(
        {"severity": "warning", "namespace": NAMESPACE, "created_by_kind": "ReplicaSet",
         "created_by_name": "cloud-7d9f"},
        "Every ready replica of a service runs on one node.",
        f"{NAMESPACE}/cloud-7d9f: every ready pod is on one node, which is then a single point "
        "of failure.",
    )  # fmt: skip
    _promtool(rules_file, [{
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "14m", "alertname": "ChartgenReplicasOnOneNode", "exp_alerts": []},
            {"eval_time": "16m", "alertname": "ChartgenReplicasOnOneNode",
             "exp_alerts": [firing]},
        ],
    }])  # fmt: skip


def test_a_volume_almost_full(rules_file: Path) -> None:
    def claim(namespace: str, name: str, available: str) -> list[Any]:
        labels = {"namespace": namespace, "persistentvolumeclaim": name}
        return [
            _series("kubelet_volume_stats_available_bytes", labels, available),
            _series("kubelet_volume_stats_capacity_bytes", labels, "1000+0x20"),
        ]

    series = [
        *claim(NAMESPACE, "cloud-data", "50+0x20"),  # 5 % free: fires
        *claim(NAMESPACE, "cloud-backup", "500+0x20"),  # half free
        *claim("monitoring", "grafana", "10+0x20"),  # not a service's
    ]
    firing = _alert(
        {"severity": "warning", "namespace": NAMESPACE, "persistentvolumeclaim": "cloud-data"},
        "A volume is almost full.",
        f"{NAMESPACE}/cloud-data has 5% free.",
    )
    _promtool(rules_file, [{
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": "ChartgenVolumeAlmostFull", "exp_alerts": []},
            {"eval_time": "11m", "alertname": "ChartgenVolumeAlmostFull", "exp_alerts": [firing]},
        ],
    }])  # fmt: skip


def test_a_backup_late_or_never_made(rules_file: Path) -> None:
    """An hourly schedule, evaluated 3 hours in (time() = 10800): late after 2 hours without a
    success (one period plus an hour)."""

    def cronjob(name: str, created: int, last_success: int | None) -> list[Any]:
        labels = {"namespace": NAMESPACE, "cronjob": name}
        found = [
            _series("kube_cronjob_created", labels, f"{created}+0x200"),
            _series("kube_cronjob_status_last_schedule_time", labels, "7200+0x200"),
            _series("kube_cronjob_next_schedule_time", labels, "10800+0x200"),
        ]
        if last_success is not None:
            found.append(
                _series("kube_cronjob_status_last_successful_time", labels,
                        f"{last_success}+0x200")
            )  # fmt: skip
        return found

    series = [
        *cronjob("cloud-backup", 0, 1800),  # last success 2.5 hours ago: late
        *cronjob("files-backup", 0, None),  # created 3 hours ago, never succeeded: late
        *cronjob("photos-backup", 9000, None),  # created half an hour ago: not yet
        *cronjob("mail-backup", 0, 7200),  # succeeded an hour ago
        *cronjob("cloud-cleanup", 0, 0),  # not a backup
    ]
    summary = "A backup is older than its schedule."
    _promtool(rules_file, [{
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{
            "eval_time": "3h",
            "alertname": "ChartgenBackupLate",
            "exp_alerts": [
                _alert({"severity": "warning", "namespace": NAMESPACE, "cronjob": "cloud-backup"},
                       summary, f"{NAMESPACE}/cloud-backup: no successful backup for 2h 30m 0s."),
                _alert({"severity": "warning", "namespace": NAMESPACE, "cronjob": "files-backup"},
                       summary, f"{NAMESPACE}/files-backup: no successful backup for 3h 0m 0s."),
            ],
        }],
    }])  # fmt: skip
