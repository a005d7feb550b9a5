"""The nginx chart: values for the `nginx` blueprint from one nginx service."""

from __future__ import annotations

from typing import Any

from chartgen.charts import ChartSource
from chartgen.charts.common import arch_affinity, objects_name, resource_block, string_map
from chartgen.images import NGINX
from chartgen.model import Datacenter, NginxService
from chartgen.routes import route_values

BLUEPRINT = "nginx"
DEFAULT_SERVICE_PORT = 80


def chart_source(dc: Datacenter, service: NginxService) -> ChartSource:
    """The chart of one nginx service (user data only ever lands in these values)."""
    repository, tag = (
        (service.image.repository, service.image.tag)
        if service.image
        else (NGINX.repository, NGINX.tag)
    )
    values: dict[str, Any] = {
        "replicaCount": service.replicas,
        "image": {"repository": repository, "tag": tag},
        "podAnnotations": string_map(service.annotations),
        "page": {"title": f"{service.name} ({dc.cluster.name})"},
        "service": {"port": service.expose.port if service.expose else DEFAULT_SERVICE_PORT},
        **route_values(dc, service),
        "resources": resource_block(service.resources),
        "autoscaling": _autoscaling(service),
        # Spread and a drain-friendly budget only mean something once there can be 2 pods.
        "podDisruptionBudget": {"enabled": service.peak_replicas > 1},
        "topologySpread": {"enabled": service.peak_replicas > 1},
        "affinity": arch_affinity(service.architectures),
        # The test pod needs busybox wget, which an overriding image may lack: keep the catalog's.
        "test": {"image": {"repository": NGINX.repository, "tag": NGINX.tag}},
    }
    name = objects_name(service.name, BLUEPRINT)
    if name != service.name:
        # Left alone, the chart would name its objects "<release>-nginx": not a Service name.
        values["fullnameOverride"] = name
    return ChartSource(blueprint=BLUEPRINT, values=values, app_version=app_version(tag))


def app_version(tag: str) -> str:
    """The application version of an image tag: "1.29.1-alpine" -> "1.29.1"."""
    version, _, _variant = tag.partition("-")
    return version or tag


def _autoscaling(service: NginxService) -> dict[str, Any]:
    if service.autoscaling is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "minReplicas": service.replicas,
        "maxReplicas": service.autoscaling.max_replicas,
        "targetCPUUtilizationPercentage": service.autoscaling.cpu_percent,
    }
