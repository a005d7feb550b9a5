"""The `nginx` kind: a web server serving a default page or the user's own site."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chartgen.charts import ChartSource
from chartgen.charts.common import (
    arch_affinity,
    autoscaling_values,
    objects_name,
    resource_block,
    string_map,
)
from chartgen.images import NGINX, NGINX_EXPORTER
from chartgen.kinds import BuildContext, Kind, schema_fragment
from chartgen.loader import Document
from chartgen.model import Datacenter, ImageOverride, Resources, Service
from chartgen.model_types import Level
from chartgen.problems import Problem
from chartgen.routes import route_values
from chartgen.rule_support import error_at, service_path

BLUEPRINT = "nginx"
DEFAULT_SERVICE_PORT = 80
DEFAULT_RESOURCES = Resources(cpu="50m", memory="64Mi")


@dataclass(frozen=True)
class SiteFile:
    path: str  # relative to the site's root
    content: str


@dataclass(frozen=True)
class Site:
    """The user's content instead of the default page: an image holding it, or files."""

    image: ImageOverride | None
    files: tuple[SiteFile, ...]


@dataclass(frozen=True)
class NginxService(Service):
    site: Site | None


def build(
    raw: Mapping[str, Any], common: Mapping[str, Any], _context: BuildContext
) -> NginxService:
    site = raw.get("site")
    image = site.get("image") if site else None
    return NginxService(
        **common,
        site=Site(
            image=ImageOverride(image["repository"], image["tag"]) if image else None,
            files=tuple(
                SiteFile(entry["path"], entry["content"]) for entry in site.get("files", [])
            ),
        )
        if site
        else None,
    )


def pod_security(_service: NginxService) -> Level:
    return "restricted"


KNOWN_REPOSITORIES = frozenset({"nginxinc/nginx-unprivileged"})
# A ConfigMap holds at most 1 MiB (etcd's object limit, minus room for the object itself).
MAX_SITE_BYTES = 1_000_000


def rules(_dc: Datacenter, service: NginxService, doc: Document) -> Iterator[Problem]:
    if service.site is None:
        return
    first: dict[str, int] = {}
    for index, file in enumerate(service.site.files):
        if file.path in first:
            yield error_at(
                doc,
                service_path(service, "site", "files", index, "path"),
                f'"{file.path}" is given twice (first at site.files[{first[file.path]}])',
            )
        first.setdefault(file.path, index)
    size = sum(len(file.content.encode("utf-8")) for file in service.site.files)
    if size > MAX_SITE_BYTES:
        yield error_at(
            doc,
            service_path(service, "site", "files"),
            f"the site's files hold {size} bytes; a ConfigMap holds at most {MAX_SITE_BYTES}: "
            "put a larger site in an image (site.image)",
        )


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
        "autoscaling": autoscaling_values(service),
        # Spread and a drain-friendly budget only mean something once there can be 2 pods.
        "podDisruptionBudget": {"enabled": service.peak_replicas > 1},
        "topologySpread": {"enabled": service.peak_replicas > 1},
        "affinity": arch_affinity(service.architectures),
        # The test pod needs busybox wget, which an overriding image may lack: keep the catalog's.
        "test": {"image": {"repository": NGINX.repository, "tag": NGINX.tag}},
    }
    if service.site is not None:
        values["site"] = _site(service.site)
    if dc.platform.monitoring:
        values["metrics"] = {
            "enabled": True,
            "image": {"repository": NGINX_EXPORTER.repository, "tag": NGINX_EXPORTER.tag},
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


def _site(site: Site) -> dict[str, Any]:
    if site.image is not None:
        return {"image": {"repository": site.image.repository, "tag": site.image.tag}}
    return {"files": [{"path": file.path, "content": file.content} for file in site.files]}


KIND = Kind(
    name="nginx",
    schema=schema_fragment("nginx"),
    images=(NGINX,),
    default_resources=DEFAULT_RESOURCES,
    build=build,
    chart_source=chart_source,
    pod_security=pod_security,
    rules=rules,
    known_repositories=KNOWN_REPOSITORIES,
)
