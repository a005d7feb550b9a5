"""The upstream charts of the platform layer, pinned: repository, chart, version, and why.

Like `chartgen.images` for images: one place to move a version, with the reason for each pin.
The values chartgen writes for a chart (`chartgen.platform`) use that version's keys, read in
its own values.yaml; move a pin only after reading the new version's values and CRDs again.
`crds` names the CustomResourceDefinitions the chart installs that chartgen's own charts use.
"""

from __future__ import annotations

from dataclasses import dataclass

from chartgen.model_types import Arch


@dataclass(frozen=True)
class ChartPin:
    repository: str  # Helm chart repository URL
    chart: str
    version: str
    app_version: str
    platforms: frozenset[Arch]  # architectures its images are published for
    reason: str
    crds: tuple[str, ...] = ()


_ALL: frozenset[Arch] = frozenset({"amd64", "arm64", "arm"})
_64_BIT: frozenset[Arch] = frozenset({"amd64", "arm64"})

# Read for each: the chart's Chart.yaml, values.yaml and templates at the pinned tag (the
# newest stable one of the project, 2026-12-03), and the CRDs chartgen's charts write.
METALLB = ChartPin(
    "https://metallb.github.io/metallb",
    "metallb",
    "0.16.1",
    "v0.16.1",
    _ALL,
    "newest stable; L2 mode with the native speaker (FRR-K8s, its new default, is turned off); "
    "its CRDs are templates of a subchart, so upgrades move them too",
    ("ipaddresspools.metallb.io", "l2advertisements.metallb.io"),
)
CERT_MANAGER = ChartPin(
    "https://charts.jetstack.io",
    "cert-manager",
    "v1.21.1",
    "v1.21.1",
    _ALL,
    "newest stable; `crds.enabled` installs the CRDs with the chart and `crds.keep` keeps "
    "them (and every certificate) on uninstall; `config.gatewayAPI` is new in 1.21",
    ("clusterissuers.cert-manager.io", "certificates.cert-manager.io"),
)
GATEWAY_API_CRDS = ChartPin(
    "oci://docker.io/envoyproxy",
    "gateway-crds-helm",
    "v1.8.3",
    "v1.5.1",
    _ALL,
    "Traefik's chart stopped shipping the Gateway API CRDs (40.2.0) and its README asks for "
    "Gateway API v1.5.1: Envoy Gateway's CRD chart v1.8.3 holds exactly that standard channel, "
    "as templates that upgrades move (helm 4 applies them server-side, as they need)",
    (
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
    ),
)
TRAEFIK = ChartPin(
    "https://traefik.github.io/charts",
    "traefik",
    "41.3.0",
    "v3.7.11",
    _ALL,
    "newest stable; Traefik 3 implements the Gateway API standard channel; its defaults "
    "meet Pod Security restricted; keys of 41.x (`service.spec`, `ports.web.http`)",
)
METRICS_SERVER = ChartPin(
    "https://kubernetes-sigs.github.io/metrics-server/",
    "metrics-server",
    "3.13.1",
    "0.8.1",
    _ALL,
    "newest chart release (metrics-server 0.9.0 has no chart yet)",
)
FLANNEL = ChartPin(
    "https://flannel-io.github.io/flannel/",
    "flannel",
    "v0.28.9",
    "v0.28.9",
    _ALL,
    "newest stable; the only CNI here with 32-bit ARM images",
)
CALICO_CRDS = ChartPin(
    "https://docs.tigera.io/calico/charts",
    "crd.projectcalico.org.v1",
    "v3.32.1",
    "v3.32.1",
    _ALL,
    "from 3.32, Calico's CRDs are a chart of their own, installed before the operator",
)
TIGERA_OPERATOR = ChartPin(
    "https://docs.tigera.io/calico/charts",
    "tigera-operator",
    "v3.32.1",
    "v3.32.1",
    _64_BIT,
    "newest stable release of Calico's operator chart",
)
CILIUM = ChartPin(
    "https://helm.cilium.io/",
    "cilium",
    "1.20.0",
    "1.20.0",
    _64_BIT,
    "newest stable; kube-proxy replacement with the API server reached directly",
)

# Images of kube-prometheus-stack 88.5.3 with its values as chartgen sets them, read at their
# tags: built for amd64, arm64 and armv7 are the Prometheus Operator and its config reloader
# v0.93.1 (scripts/push-docker-image.sh CPU_ARCHS), Prometheus v3.14.0 and node-exporter
# v1.12.1, both distroless, and Alertmanager v0.34.0 (Makefile(.common) DOCKER_ARCHS),
# kube-state-metrics v2.20.0 (Makefile ALL_ARCH) and k8s-sidecar 2.10.1 (docker-bake.hcl).
KUBE_PROMETHEUS_STACK = ChartPin(
    "https://prometheus-community.github.io/helm-charts",
    "kube-prometheus-stack",
    "88.5.3",
    "v0.93.1",
    _ALL,
    "newest stable; Prometheus Operator v0.93.1 (its CRDs in the crds subchart's crds/ folder, "
    "which helm installs before the templates and never upgrades), Grafana chart 12.11.1 (its "
    "admin login from chartgen.grafana_admin's Secret), kube-state-metrics 8.4.0, "
    "node-exporter 4.56.1; every image runs on amd64, arm64 and armv7 except those of "
    "MONITORING_64_BIT_ONLY",
    (
        "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
    ),
)
# Kept on 64-bit nodes: the admission webhook's certificate Jobs (ghcr.io/jkroepke/
# kube-webhook-certgen 1.8.7: its .goreleaser.yaml, last read at v1.7.3, builds amd64, arm64
# and s390x), pre-install hooks that would fail the release on a 32-bit ARM node; and Grafana
# 13.2.0, whose release workflow has an armv7 job that could not be checked at that tag.
MONITORING_64_BIT_ONLY: frozenset[Arch] = _64_BIT

PINS: tuple[ChartPin, ...] = (
    METALLB,
    CERT_MANAGER,
    GATEWAY_API_CRDS,
    TRAEFIK,
    METRICS_SERVER,
    FLANNEL,
    CALICO_CRDS,
    TIGERA_OPERATOR,
    CILIUM,
    KUBE_PROMETHEUS_STACK,
)
