"""The Nextcloud stack chart: values for blueprints/nextcloud from one `nextcloud` service.

Everything here is data taken from the model; the blueprint's templates decide the objects.
Names the chart gives to its claims are mirrored here (see `name_prefix`) because the storage
chart creates local PersistentVolumes for them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from chartgen import images
from chartgen.charts import AccessMode, ChartSource, Claim
from chartgen.charts.common import (
    arch_affinity,
    node_affinity,
    objects_name,
    resource_block,
    string_map,
)
from chartgen.model import (
    POSTGRES_RESOURCES,
    REDIS_RESOURCES,
    WEB_FRONT_RESOURCES,
    Datacenter,
    NextcloudService,
    Volume,
)
from chartgen.model_types import ARCHES, Arch
from chartgen.routes import route_values, scheme

BLUEPRINT = "nextcloud"

# The chart's `nextcloud.prefix` helper: the full name cut to 41 characters, "-" trimmed.
_PREFIX_LENGTH = 41
# One PHP-FPM child per 64Mi of the container's memory request, never fewer than 8.
_MEMORY_PER_FPM_CHILD = Fraction(64 * 2**20)
_MIN_FPM_CHILDREN = 8


def chart_source(dc: Datacenter, service: NextcloudService) -> ChartSource:
    """The values and claims of the chart of one Nextcloud service."""
    data_class = dc.storage_class(service.storage.storage_class)
    database_class = dc.storage_class(service.database_storage.storage_class)
    data_node = data_class.local.node if data_class and data_class.local else None
    database_node = database_class.local.node if database_class and database_class.local else None
    scaled = service.peak_replicas > 1
    access_mode: AccessMode = "ReadWriteMany" if scaled else "ReadWriteOnce"
    image = service.image or images.NEXTCLOUD
    app_affinity = node_affinity(service.architectures, data_node)

    values: dict[str, Any] = {
        "fullnameOverride": objects_name(service.name, BLUEPRINT),
        "replicaCount": service.replicas,
        "image": {"repository": image.repository, "tag": image.tag},
        "nextcloud": {
            "host": service.host,
            # The router's pods (Traefik, or another implementation's) run in the pod network.
            "trustedProxies": [dc.cluster.pod_subnet],
            "overwriteProtocol": scheme(service),
        },
        "php": {"fpm": fpm_pool(service.resources.memory_value)},
        "web": {
            "kind": service.web,
            "apache": {"image": _image(images.HTTPD)},
            "nginx": {"image": _image(images.NGINX)},
            "resources": resource_block(WEB_FRONT_RESOURCES),
        },
        "credentials": {
            "image": _image(images.KUBECTL),
            "affinity": arch_affinity(credentials_architectures(dc, service)),
        },
        "persistence": {
            "storageClass": data_class.name if data_class else "",
            "accessMode": access_mode,
            "size": service.storage.size,
        },
        "postgresql": {
            "image": _image(images.POSTGRES),
            "persistence": {
                "storageClass": database_class.name if database_class else "",
                "size": service.database_storage.size,
            },
            "affinity": node_affinity(service.architectures, database_node),
            "podAnnotations": string_map(service.annotations),
            "resources": resource_block(POSTGRES_RESOURCES),
        },
        "redis": {
            "enabled": service.redis,
            "image": _image(images.REDIS),
            "affinity": arch_affinity(service.architectures),
            "podAnnotations": string_map(service.annotations),
            "resources": resource_block(REDIS_RESOURCES),
        },
        "cron": {"resources": resource_block(service.resources)},
        "upgradeJob": {"resources": resource_block(service.resources)},
        "podAnnotations": string_map(service.annotations),
        "resources": resource_block(service.resources),
        "service": {"port": service.expose.port if service.expose else 80},
        **route_values(dc, service),
        "affinity": app_affinity,
    }
    if service.autoscaling is not None:
        values["autoscaling"] = {
            "enabled": True,
            "minReplicas": service.replicas,
            "maxReplicas": service.autoscaling.max_replicas,
            "targetCPUUtilizationPercentage": service.autoscaling.cpu_percent,
        }
    claims = (
        _claim(service, data_claim_name(service.name), service.storage, dc, access_mode),
        _claim(service, database_claim_name(service.name), service.database_storage, dc),
    )
    return ChartSource(
        blueprint=BLUEPRINT,
        values=values,
        app_version=nextcloud_version(image.tag),
        claims=tuple(claim for claim in claims if claim is not None),
    )


def fpm_pool(memory_request: Fraction) -> dict[str, int]:
    """pm.* of the FPM pool: children from the memory request, spare counts in between."""
    children = max(_MIN_FPM_CHILDREN, int(memory_request // _MEMORY_PER_FPM_CHILD))
    min_spare = max(1, children // 8)
    start = max(min_spare, children // 4)
    return {
        "maxChildren": children,
        "startServers": start,
        "minSpareServers": min_spare,
        "maxSpareServers": max(start, children // 2),
    }


def credentials_architectures(dc: Datacenter, service: NextcloudService) -> list[Arch]:
    """Where the kubectl hook Job may run: the service's architectures the image has, else
    any schedulable node's the image has (the Job is not part of the service's workload)."""
    platforms = images.KUBECTL.platforms
    wanted = [arch for arch in service.architectures if arch in platforms]
    if wanted:
        return wanted
    node_arches = {node.arch for node in dc.pod_nodes}
    fallback = [arch for arch in ARCHES if arch in platforms and arch in node_arches]
    return fallback or [arch for arch in ARCHES if arch in platforms]


def name_prefix(service_name: str) -> str:
    """The chart's `nextcloud.prefix` helper, for the fullnameOverride a service's chart gets."""
    return objects_name(service_name, BLUEPRINT)[:_PREFIX_LENGTH].rstrip("-")


def data_claim_name(service_name: str) -> str:
    return f"{name_prefix(service_name)}-data"


def database_claim_name(service_name: str) -> str:
    """The claim of the StatefulSet's volumeClaimTemplate `data`, pod 0."""
    return f"data-{name_prefix(service_name)}-postgresql-0"


def nextcloud_version(tag: str) -> str:
    """'31.0.9-fpm' -> '31.0.9' (a tag without a variant is kept whole)."""
    return tag.split("-", 1)[0] or tag


def _claim(
    service: NextcloudService,
    name: str,
    volume: Volume,
    dc: Datacenter,
    access_mode: AccessMode = "ReadWriteOnce",
) -> Claim | None:
    storage = dc.storage_class(volume.storage_class)
    if storage is None:
        return None
    return Claim(
        namespace=service.namespace,
        name=name,
        storage_class=storage.name,
        size=volume.size,
        access_mode=access_mode,
    )


def _image(image: images.Image) -> dict[str, str]:
    return {"repository": image.repository, "tag": image.tag}
