"""Pod Security Standards: which level chartgen's pods meet, and a checker of pod specs.

Kubernetes' Pod Security admission enforces a namespace's level on pods only; a Deployment whose
pods break the level is accepted and its ReplicaSet then fails to create them, which shows up as a
timeout much later. So chartgen labels each namespace it creates with the strictest level its pods
meet (each kind's `pod_security`, proven on the rendered charts by the test suite), and this module
checks pod specs against the rules of the baseline and restricted profiles
(https://kubernetes.io/docs/concepts/security/pod-security-standards/). Problems are values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chartgen.charts.storage import NAMESPACE as STORAGE_NAMESPACE
from chartgen.kinds import kind_of
from chartgen.model import Datacenter
from chartgen.model_types import LEVELS, Level
from chartgen.platform import MONITORING_NAMESPACE, NODE_EXPORTER_NAMESPACE

# The level the storage chart's pods meet, whatever chartgen's values: the nfs provisioner
# mounts its export as an inline `nfs` volume, a type restricted does not allow.
STORAGE_LEVEL: Level = "baseline"
# node-exporter (platform.monitoring) runs in the host's network and PID namespaces and mounts
# the host's root filesystem read-only.
NODE_EXPORTER_LEVEL: Level = "privileged"

# Baseline: capabilities a container may add (the container runtimes' defaults).
_BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
_SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_SECCOMP_ALLOWED = frozenset({"RuntimeDefault", "Localhost"})
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodProblem:
    """One rule of a Pod Security profile that a pod spec breaks."""

    where: str  # the object, e.g. "Deployment/web"
    path: str  # where in the object, e.g. "spec.template.spec.containers[0].securityContext"
    level: Level  # the profile the rule belongs to
    message: str

    def format(self) -> str:
        return f"{self.where}: {self.path}: {self.message} (Pod Security {self.level})"


def level_index(level: Level) -> int:
    return LEVELS.index(level)


def weakest(levels: Sequence[Level]) -> Level:
    """The weakest of some levels (what a namespace shared by their pods can enforce)."""
    return min(levels, key=level_index) if levels else "restricted"


def namespace_levels(dc: Datacenter) -> dict[str, Level]:
    """The level of every namespace chartgen deploys into: the weakest of its charts' levels."""
    found: dict[str, list[Level]] = {}
    for service in dc.services:
        found.setdefault(service.namespace, []).append(kind_of(service).pod_security(service))
    if dc.storage:  # the storage chart exists exactly when storage classes are declared
        found.setdefault(STORAGE_NAMESPACE, []).append(STORAGE_LEVEL)
    if dc.platform.monitoring:
        # Prometheus, Grafana, the operator and kube-state-metrics meet restricted with the
        # stack's defaults; node-exporter needs the host's namespaces and filesystem.
        found.setdefault(MONITORING_NAMESPACE, []).append("restricted")
        found.setdefault(NODE_EXPORTER_NAMESPACE, []).append(NODE_EXPORTER_LEVEL)
    return {namespace: weakest(levels) for namespace, levels in sorted(found.items())}


def check_pod_spec(
    spec: Mapping[str, Any], level: Level, where: str = "Pod", path: str = "spec"
) -> list[PodProblem]:
    """The rules of `level` (and of the levels below it) that a pod spec breaks."""
    if level == "privileged":
        return []
    problems = list(_baseline(spec, where, path))
    if level == "restricted":
        problems.extend(_restricted(spec, where, path))
    return problems


def strictest_level(spec: Mapping[str, Any]) -> Level:
    """The strictest level a pod spec meets."""
    for level in reversed(LEVELS):
        if not check_pod_spec(spec, level):
            return level
    return "privileged"


def pod_specs(item: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(where, path, pod spec) of the pods a Kubernetes object makes; nothing for other kinds."""
    kind = item.get("kind")
    name = (item.get("metadata") or {}).get("name", "?")
    where = f"{kind}/{name}"
    spec = item.get("spec") or {}
    if kind == "Pod":
        yield where, "spec", spec
    elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        yield where, "spec.template.spec", (spec.get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        yield (
            where,
            "spec.jobTemplate.spec.template.spec",
            (job.get("template") or {}).get("spec") or {},
        )


def check_objects(objects: Sequence[Mapping[str, Any]], level: Level) -> list[PodProblem]:
    """The problems of every pod the objects make, against `level`."""
    problems: list[PodProblem] = []
    for item in objects:
        for where, path, spec in pod_specs(item):
            problems.extend(check_pod_spec(spec, level, where, path))
    return problems


# --- the profiles ---------------------------------------------------------------------------


def _containers(spec: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in _CONTAINER_LISTS:
        for index, container in enumerate(spec.get(field) or []):
            yield f"{path}.{field}[{index}]", container


def _contexts(spec: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The pod's security context, then each container's (empty mappings where unset)."""
    yield f"{path}.securityContext", spec.get("securityContext") or {}
    for where, container in _containers(spec, path):
        yield f"{where}.securityContext", container.get("securityContext") or {}


def _baseline(spec: Mapping[str, Any], where: str, path: str) -> Iterator[PodProblem]:
    def problem(at: str, message: str) -> PodProblem:
        return PodProblem(where, at, "baseline", message)

    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            yield problem(f"{path}.{field}", "host namespaces are not allowed")
    for index, volume in enumerate(spec.get("volumes") or []):
        if "hostPath" in volume:
            yield problem(f"{path}.volumes[{index}]", "hostPath volumes are not allowed")
    for sysctl in (spec.get("securityContext") or {}).get("sysctls") or []:
        if sysctl.get("name") not in _SAFE_SYSCTLS:
            yield problem(
                f"{path}.securityContext.sysctls", f"sysctl {sysctl.get('name')} is not allowed"
            )
    for at, context in _contexts(spec, path):
        yield from _baseline_context(at, context, problem)
    for at, container in _containers(spec, path):
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            yield problem(f"{at}.securityContext.privileged", "privileged containers")
        added = set((context.get("capabilities") or {}).get("add") or [])
        if added - _BASELINE_CAPABILITIES:
            extra = ", ".join(sorted(added - _BASELINE_CAPABILITIES))
            yield problem(f"{at}.securityContext.capabilities.add", f"adds {extra}")
        if context.get("procMount", "Default") != "Default":
            yield problem(f"{at}.securityContext.procMount", "only the Default /proc mount")
        for port_index, port in enumerate(container.get("ports") or []):
            if port.get("hostPort"):
                yield problem(f"{at}.ports[{port_index}].hostPort", "host ports are not allowed")


def _baseline_context(
    at: str, context: Mapping[str, Any], problem: Callable[[str, str], PodProblem]
) -> Iterator[PodProblem]:
    if (context.get("windowsOptions") or {}).get("hostProcess"):
        yield problem(f"{at}.windowsOptions.hostProcess", "host processes are not allowed")
    if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
        yield problem(f"{at}.seccompProfile.type", "the Unconfined seccomp profile")
    apparmor = (context.get("appArmorProfile") or {}).get("type")
    if apparmor not in (None, "RuntimeDefault", "Localhost"):
        yield problem(f"{at}.appArmorProfile.type", f"AppArmor profile {apparmor}")
    selinux = context.get("seLinuxOptions") or {}
    if selinux.get("type", "") not in _SELINUX_TYPES:
        yield problem(f"{at}.seLinuxOptions.type", f"SELinux type {selinux['type']}")
    if selinux.get("user") or selinux.get("role"):
        yield problem(f"{at}.seLinuxOptions", "custom SELinux user or role")


def _restricted(spec: Mapping[str, Any], where: str, path: str) -> Iterator[PodProblem]:
    def problem(at: str, message: str) -> PodProblem:
        return PodProblem(where, at, "restricted", message)

    for index, volume in enumerate(spec.get("volumes") or []):
        kinds = set(volume) - {"name"}
        if not kinds <= _RESTRICTED_VOLUMES:
            yield problem(
                f"{path}.volumes[{index}]", f"volume type {', '.join(sorted(kinds))} not allowed"
            )
    pod = spec.get("securityContext") or {}
    pod_non_root = pod.get("runAsNonRoot") is True
    pod_seccomp = (pod.get("seccompProfile") or {}).get("type") in _SECCOMP_ALLOWED
    if pod.get("runAsUser") == 0:
        yield problem(f"{path}.securityContext.runAsUser", "runs as uid 0")
    for at, container in _containers(spec, path):
        context = container.get("securityContext") or {}
        here = f"{at}.securityContext"
        if context.get("allowPrivilegeEscalation") is not False:
            yield problem(f"{here}.allowPrivilegeEscalation", "must be false")
        non_root = context.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            yield problem(f"{here}.runAsNonRoot", "must be true (here or on the pod)")
        if context.get("runAsUser") == 0:
            yield problem(f"{here}.runAsUser", "runs as uid 0")
        seccomp = (context.get("seccompProfile") or {}).get("type")
        if seccomp not in _SECCOMP_ALLOWED and not (seccomp is None and pod_seccomp):
            yield problem(
                f"{here}.seccompProfile.type", "must be RuntimeDefault or Localhost (or the pod's)"
            )
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield problem(f"{here}.capabilities.drop", "must drop ALL")
        added = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            yield problem(f"{here}.capabilities.add", f"adds {', '.join(sorted(added))}")


def check_chart_security_values(
    values: Mapping[str, Any], level: Level, chart: str
) -> list[PodProblem]:
    """The build-time check: the main workload's security contexts, as a chart's merged values
    set them, against its namespace's level. It needs no helm; what the templates hard-code
    is proven by the tests on `helm template` output."""
    spec = {
        "securityContext": values.get("podSecurityContext") or {},
        "containers": [{"name": "main", "securityContext": values.get("securityContext") or {}}],
    }
    return check_pod_spec(spec, level, where=f"chart {chart}", path="values")
