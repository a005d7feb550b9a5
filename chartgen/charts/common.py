"""Value blocks every chart shares, built from the model (data only, never template text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from chartgen.model import Node, Resources, Service
from chartgen.model_types import ARCHES, Arch
from chartgen.quantity import format_cpu

ARCH_LABEL = "kubernetes.io/arch"
HOSTNAME_LABEL = "kubernetes.io/hostname"


def arch_affinity(architectures: Iterable[Arch]) -> dict[str, Any]:
    """Required node affinity on kubernetes.io/arch (the `affinity` value of a chart)."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": ARCH_LABEL, "operator": "In", "values": list(architectures)}
                        ]
                    }
                ]
            }
        }
    }


def usable_architectures(nodes: Iterable[Node], platforms: AbstractSet[Arch]) -> list[Arch]:
    """The architectures of PLATFORMS that NODES (those that take pods) have; all of PLATFORMS
    when none has one, so that the pod stays pending there rather than failing to start."""
    node_arches = {node.arch for node in nodes}
    usable = [arch for arch in ARCHES if arch in platforms and arch in node_arches]
    return usable or [arch for arch in ARCHES if arch in platforms]


def node_affinity(architectures: Iterable[Arch], node: str | None) -> dict[str, Any]:
    """Arch affinity, narrowed to one node when a local volume pins the pod there."""
    affinity = arch_affinity(architectures)
    if node is not None:
        terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        terms["nodeSelectorTerms"][0]["matchExpressions"].append(
            {"key": HOSTNAME_LABEL, "operator": "In", "values": [node]}
        )
    return affinity


CPU_BURST = 4


def resource_block(resources: Resources) -> dict[str, Any]:
    """Requests as given; memory limit = request; CPU may burst to CPU_BURST x the request."""
    return {
        "requests": {"cpu": resources.cpu, "memory": resources.memory},
        "limits": {"cpu": format_cpu(resources.cpu_value * CPU_BURST), "memory": resources.memory},
    }


def string_map(values: Mapping[str, str]) -> dict[str, str]:
    """A copy with keys sorted, so the emitted order does not depend on the input's."""
    return {key: values[key] for key in sorted(values)}


def objects_name(service_name: str, blueprint: str) -> str:
    """The full name of a service's Kubernetes objects. A release name may start with a digit;
    the name of a Kubernetes Service (a DNS-1035 label) may not, so such a name is prefixed
    with the blueprint's (53 + 10 characters: still a 63-character label)."""
    return service_name if service_name[:1].isalpha() else f"{blueprint}-{service_name}"


def autoscaling_values(service: Service) -> dict[str, Any]:
    """The `autoscaling` value of a chart: its HorizontalPodAutoscaler from the service's own."""
    if service.autoscaling is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "minReplicas": service.replicas,
        "maxReplicas": service.autoscaling.max_replicas,
        "targetCPUUtilizationPercentage": service.autoscaling.cpu_percent,
    }
