"""A Helm chart repository on loopback, serving stand-ins of the platform's upstream charts.

The real repositories are out of reach from the test suite. A stand-in has the name and
version of the pinned chart, declares the same CustomResourceDefinitions (minimal schemas that
keep every field), in its `crds/` folder or, like the charts that install them on a value, among
its templates, and records the values it was installed with in a ConfigMap
(`RELEASE-values` in the release's namespace, `data["values.json"]`), so that a test can see
what reached helm. `helm package` and `helm repo index` make the repository, which a thread
serves over HTTP on 127.0.0.1 until it is stopped; the paths it was asked for are kept.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from chartgen.tools import find_helm


@dataclass(frozen=True)
class CrdSpec:
    """One served version of a kind, declared by a CustomResourceDefinition."""

    group: str
    version: str
    kind: str
    plural: str
    scope: str = "Namespaced"  # or "Cluster"

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"


# The kinds of the CRDs the pinned charts bring that chartgen's charts use.
KNOWN_CRDS = {
    crd.name: crd
    for crd in (
        CrdSpec("metallb.io", "v1beta1", "IPAddressPool", "ipaddresspools"),
        CrdSpec("metallb.io", "v1beta1", "L2Advertisement", "l2advertisements"),
        CrdSpec("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers", "Cluster"),
        CrdSpec("cert-manager.io", "v1", "Certificate", "certificates"),
        CrdSpec("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", "Cluster"),
        CrdSpec("gateway.networking.k8s.io", "v1", "Gateway", "gateways"),
        CrdSpec("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
        CrdSpec("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors"),
        CrdSpec("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules"),
    )
}


@dataclass(frozen=True)
class StandInChart:
    """A chart to publish: its CRDs go to `crds/`, or to `templates/` if `in_templates`."""

    name: str
    version: str
    crds: tuple[CrdSpec, ...] = ()
    app_version: str | None = None  # the chart's version when None
    in_templates: bool = False


@dataclass
class ChartRepository:
    """A repository being served: `url` for `helm --repo`, `served` the paths asked for."""

    url: str
    folder: Path  # the served folder: the packaged charts and index.yaml
    served: list[str] = field(default_factory=list)  # request paths, in order
    _server: http.server.ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def publish(self, *charts: StandInChart) -> None:
        """Adds CHARTS (new versions, say) to the repository and indexes it again."""
        sources = self.folder.parent / "sources"
        for chart in charts:
            _helm("package", str(write_chart(sources, chart)), "--destination", str(self.folder))
        _helm("repo", "index", str(self.folder), "--url", self.url)

    def fetched(self, chart: str, version: str) -> bool:
        """Whether helm downloaded that chart's archive."""
        return f"/{chart}-{version}.tgz" in self.served

    def stop(self) -> None:
        """Stops serving (the folder stays); calling it again does nothing."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=30)


def crd_document(crd: CrdSpec) -> dict[str, object]:
    """A minimal valid apiextensions.k8s.io/v1 CustomResourceDefinition for CRD."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd.name},
        "spec": {
            "group": crd.group,
            "scope": crd.scope,
            "names": {
                "kind": crd.kind,
                "plural": crd.plural,
                "singular": crd.kind.lower(),
                "listKind": f"{crd.kind}List",
            },
            "versions": [
                {
                    "name": crd.version,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


# The values a stand-in was installed with, for the tests to read back.
_VALUES_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-values
  namespace: {{ .Release.Namespace }}
data:
  values.json: {{ toJson .Values | quote }}
  chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
"""


def write_chart(root: Path, chart: StandInChart) -> Path:
    """Writes CHART's sources under ROOT; returns the chart's folder."""
    folder = root / f"{chart.name}-{chart.version}" / chart.name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "templates").mkdir(parents=True)
    app_version = chart.version if chart.app_version is None else chart.app_version
    (folder / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: {chart.name}\nversion: {chart.version}\n"
        f"appVersion: {json.dumps(app_version)}\n"
        f"description: stand-in of {chart.name} for tests\n"
    )
    (folder / "templates" / "values.yaml").write_text(_VALUES_CONFIGMAP)
    if chart.crds:
        crds = folder / ("templates" if chart.in_templates else "crds")
        crds.mkdir(exist_ok=True)
        for crd in chart.crds:
            (crds / f"crd-{crd.name}.yaml").write_text(json.dumps(crd_document(crd)) + "\n")
    return folder


def _helm(*argv: str) -> None:
    done = subprocess.run(
        [str(find_helm().path), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


class _Handler(http.server.SimpleHTTPRequestHandler):
    served: list[str]

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.append(self.path)

    def log_message(self, format: str, *args: object) -> None:  # http.server's name
        pass  # quiet: the requests are kept in `served`


def start_repository(root: Path, charts: Sequence[StandInChart] = ()) -> ChartRepository:
    """Packages CHARTS into ROOT/repository and serves it on loopback; `.stop()` it after."""
    public = root / "repository"
    public.mkdir(parents=True)
    served: list[str] = []
    handler = type("Handler", (_Handler,), {"served": served})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(public))
    )
    url = f"http://127.0.0.1:{server.server_address[1]}"
    repository = ChartRepository(url, public, served, server)
    try:
        repository.publish(*charts)
    except BaseException:
        server.server_close()
        raise
    repository._thread = threading.Thread(target=server.serve_forever, daemon=True)
    repository._thread.start()
    return repository


@contextmanager
def serve_charts(root: Path, charts: Sequence[StandInChart]) -> Iterator[ChartRepository]:
    """Packages CHARTS into ROOT/repository and serves it on loopback while the block runs."""
    repository = start_repository(root, charts)
    try:
        yield repository
    finally:
        repository.stop()
