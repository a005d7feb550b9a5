"""render(datacenter) -> {relative path: bytes}: pure, no I/O beyond package data, no clock.

The tree: `platform/` (the values chartgen gives the upstream charts of the platform layer, and
chartgen's charts of their custom resources), `namespaces/` (the namespaces, with their Pod
Security labels), `storage/` (the storage chart), `charts/<service>/` (one chart per service),
`kubeadm/` (node configuration) and `releases.yaml` (what `chartgen install` deploys, in order).
`render_tree` also returns the releases as data, for the GitOps writers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from chartgen import __version__, plan
from chartgen.blueprints import blueprint_values, merged_values, render_blueprint
from chartgen.charts import ChartSource, Claim, namespaces
from chartgen.charts.namespaces import RELEASE_NAME as NAMESPACES_RELEASE
from chartgen.charts.namespaces import RELEASE_NAMESPACE as NAMESPACES_RELEASE_NAMESPACE
from chartgen.charts.storage import NAMESPACE as STORAGE_NAMESPACE
from chartgen.charts.storage import RELEASE_NAME as STORAGE_RELEASE
from chartgen.emit import dump_yaml
from chartgen.errors import OperationFailed
from chartgen.kinds import kind_of
from chartgen.model import Datacenter, Service
from chartgen.model_types import Level
from chartgen.plan import Release, releases_document
from chartgen.platform import (
    HTTPROUTE_CRD,
    MONITORING_RELEASE,
    PODMONITOR_CRD,
    UPSTREAM_TIMEOUT,
    PlatformChart,
    UpstreamRelease,
    platform_plan,
    uses_gateway_api,
)
from chartgen.pod_security import check_chart_security_values, namespace_levels
from chartgen.values import merge_values

CHART_VERSION = __version__
NAMESPACES_DIR = PurePosixPath("namespaces")
STORAGE_DIR = PurePosixPath("storage")
CHARTS_DIR = PurePosixPath("charts")
PLATFORM_DIR = PurePosixPath("platform")
PLATFORM_VALUES_DIR = PLATFORM_DIR / "values"
RELEASES_FILE = PurePosixPath(plan.RELEASES_FILE)

Files = dict[PurePosixPath, bytes]


@dataclass(frozen=True)
class Rendered:
    """The whole tree, the releases its `releases.yaml` records (in install order), and the
    values of the upstream releases (what their `platform/values/` files hold)."""

    files: Files
    releases: tuple[Release, ...]
    platform_values: Mapping[str, Mapping[str, Any]]


def _service_chart(dc: Datacenter, service: Service) -> ChartSource:
    chart: ChartSource = kind_of(service).chart_source(dc, service)
    return chart


def _storage_chart(dc: Datacenter, claims: list[Claim]) -> ChartSource | None:
    from chartgen.charts import storage

    return storage.chart_source(dc, claims)


def _kubeadm_files(dc: Datacenter) -> Mapping[PurePosixPath, str]:
    from chartgen.kubeadm import render_kubeadm

    return render_kubeadm(dc)


def render(dc: Datacenter) -> Files:
    return render_tree(dc).files


def render_tree(dc: Datacenter) -> Rendered:
    source_name = PurePosixPath(dc.source).name
    files: Files = {}
    releases: list[Release] = []
    platform_values: dict[str, Mapping[str, Any]] = {}
    # The namespaces chart follows the platform releases, except those that need it (the
    # monitoring stack, whose namespaces carry Pod Security labels), which follow it.
    after_namespaces: list[Release] = []
    for piece in platform_plan(dc).releases:
        files.update(_platform_files(piece, source_name))
        release = _platform_release(piece)
        later = {NAMESPACES_RELEASE} | {entry.name for entry in after_namespaces}
        (after_namespaces if later & set(release.needs) else releases).append(release)
        if isinstance(piece, UpstreamRelease):
            platform_values[piece.name] = piece.values
    platform_names = tuple(release.name for release in releases)
    claims: list[Claim] = []
    service_charts = [(service, _service_chart(dc, service)) for service in dc.services]
    for _service, chart in service_charts:
        claims.extend(chart.claims)
    levels = namespace_levels(dc)
    namespace_chart = namespaces.chart_source(dc, levels)
    files.update(_chart_files(NAMESPACES_DIR, namespace_chart, source_name))
    releases.append(
        Release(NAMESPACES_RELEASE, NAMESPACES_RELEASE_NAMESPACE, str(NAMESPACES_DIR),
                platform_names)
    )  # fmt: skip
    releases += after_namespaces
    storage = _storage_chart(dc, claims) if dc.storage else None
    if storage is not None:
        _check_pod_security(storage, levels[STORAGE_NAMESPACE], str(STORAGE_DIR))
        files.update(_chart_files(STORAGE_DIR, storage, source_name))
        releases.append(
            Release(STORAGE_RELEASE, STORAGE_NAMESPACE, str(STORAGE_DIR), (NAMESPACES_RELEASE,))
        )
    gateway_api = uses_gateway_api(dc)
    for service, chart in service_charts:
        directory = CHARTS_DIR / service.name
        _check_pod_security(chart, levels[service.namespace], str(directory))
        files.update(_chart_files(directory, chart, source_name))
        needs = [NAMESPACES_RELEASE]
        if storage is not None and chart.claims:
            needs.append(STORAGE_RELEASE)
        routed = gateway_api and service.route_host is not None
        crds: tuple[str, ...] = (HTTPROUTE_CRD,) if routed else ()
        if _scraped(chart):
            # Its PodMonitor needs the stack's CRDs.
            needs.append(MONITORING_RELEASE)
            crds += (PODMONITOR_CRD,)
        releases.append(
            Release(service.name, service.namespace, str(directory), tuple(needs),
                    timeout=chart.timeout, crds=crds, forward_only=chart.forward_only)
        )  # fmt: skip
    for path, text in _kubeadm_files(dc).items():
        files[path] = with_header(path, text.encode("utf-8"), source_name)
    document = releases_document(tuple(releases))
    files[RELEASES_FILE] = with_header(RELEASES_FILE, dump_yaml(document).encode(), source_name)
    return Rendered(files, tuple(releases), platform_values)


def _scraped(chart: ChartSource) -> bool:
    """Whether a service chart has an exporter and a PodMonitor (`platform.monitoring`)."""
    metrics = chart.values.get("metrics")
    return isinstance(metrics, Mapping) and metrics.get("enabled") is True


def _platform_files(piece: UpstreamRelease | PlatformChart, source_name: str) -> Files:
    if isinstance(piece, PlatformChart):
        return _chart_files(PLATFORM_DIR / piece.directory, piece.source, source_name)
    path = PLATFORM_VALUES_DIR / f"{piece.name}.yaml"
    text = dump_yaml(dict(piece.values)) if piece.values else "{}\n"
    return {path: with_header(path, text.encode("utf-8"), source_name)}


def _platform_release(piece: UpstreamRelease | PlatformChart) -> Release:
    if isinstance(piece, PlatformChart):
        return Release(
            piece.name,
            piece.namespace,
            str(PLATFORM_DIR / piece.directory),
            piece.needs,
            crds=piece.crds,
            platform=True,
        )
    return Release(
        piece.name,
        piece.namespace,
        piece.pin.chart,
        piece.needs,
        repository=piece.pin.repository,
        version=piece.pin.version,
        values=str(PLATFORM_VALUES_DIR / f"{piece.name}.yaml"),
        # Their webhooks must serve (and their CRDs exist) before chartgen's charts use them.
        wait=True,
        timeout=UPSTREAM_TIMEOUT,
        platform=True,
    )


def _check_pod_security(chart: ChartSource, level: Level, name: str) -> None:
    """An enforced namespace rejects pods, not Deployments: the failure would only show as a
    rollout that never ends, so a chart whose pods break its namespace's level stops the build."""
    merged = merged_values(blueprint_values(chart.blueprint), chart.values)
    problems = check_chart_security_values(merged, level, name)
    if problems:
        listing = "\n  ".join(problem.format() for problem in problems)
        raise OperationFailed(f"pods would be refused by their namespace:\n  {listing}")


def _chart_files(directory: PurePosixPath, chart: ChartSource, source_name: str) -> Files:
    context = {
        "chart_version": CHART_VERSION,
        "app_version": chart.app_version,
        "chartgen_version": __version__,
    }
    files: Files = {}
    for relative, data in render_blueprint(chart.blueprint, context).items():
        if relative == PurePosixPath("values.yaml"):
            merged = merge_values(data.decode("utf-8"), chart.values, chart.blueprint)
            data = merged.encode("utf-8")
        files[directory / relative] = with_header(directory / relative, data, source_name)
    return files


def _hash_comment(text: str) -> bytes:
    return f"# {text}\n".encode()


def _go_template_comment(text: str) -> bytes:
    return f"{{{{- /* {text} */ -}}}}\n".encode()


def _html_comment(text: str) -> bytes:
    return f"<!-- {text} -->\n".encode()


_HEADERS: dict[str, Callable[[str], bytes]] = {
    ".yaml": _hash_comment,
    ".yml": _hash_comment,
    ".helmignore": _hash_comment,
    ".md": _html_comment,
}


def with_header(path: PurePosixPath, data: bytes, source_name: str) -> bytes:
    """Prefixes the "generated by chartgen" line where the file's format has comments.

    Files under a chart's templates/ go through Helm's template engine: they get a Go template
    comment that trims around itself, since a `#` line followed by `{{-` would swallow the
    next line into the comment. Config formats with other comment syntaxes (php.ini) and JSON
    get none.
    """
    text = f"generated by chartgen from {source_name}; do not edit"
    if "templates" in path.parts:
        return _go_template_comment(text) + data
    key = path.name if path.name.startswith(".") else path.suffix
    make = _HEADERS.get(key)
    return data if make is None else make(text) + data
