"""The platform layer: which upstream releases a datacenter gets, with the values chartgen
writes for them, and chartgen's own charts of their custom resources. Pure.

The releases, in install order: the CNI (`platform.cni`), MetalLB and its address pool,
cert-manager and its ClusterIssuer, the router (Traefik) and the Gateway, metrics-server, the
monitoring stack (kube-prometheus-stack) and its alerts and dashboards. Each
upstream chart is installed with `--wait`, so that its webhooks serve before chartgen's charts
create the custom resources they validate; each chartgen chart names the CRDs it needs, which
`chartgen install` waits for. Everything a route needs to know about the router (the Gateway's
name and listeners) is decided here too, so that `chartgen.routes` and the Gateway agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chartgen import grafana_admin
from chartgen.charts import ChartSource
from chartgen.charts.common import arch_affinity, usable_architectures
from chartgen.charts.namespaces import RELEASE_NAME as NAMESPACES_RELEASE
from chartgen.model import Datacenter, Gateway, Service
from chartgen.platform_pins import (
    CALICO_CRDS,
    CERT_MANAGER,
    CILIUM,
    FLANNEL,
    GATEWAY_API_CRDS,
    KUBE_PROMETHEUS_STACK,
    METALLB,
    METRICS_SERVER,
    MONITORING_64_BIT_ONLY,
    TIGERA_OPERATOR,
    TRAEFIK,
    ChartPin,
)

BLUEPRINT = "platform"
MONITORING_BLUEPRINT = "monitoring"  # the alerts and dashboards: a chart of their own
# helm's default of 5 minutes is short for a first pull of several images on a small board.
UPSTREAM_TIMEOUT = "10m"

LOADBALANCER_RELEASE = "chartgen-loadbalancer"
CERTIFICATES_RELEASE = "chartgen-certificates"
GATEWAY_RELEASE = "chartgen-gateway"

GATEWAY_API_RELEASE = "gateway-api"
GATEWAY_API_NAMESPACE = "gateway-system"
GATEWAY_NAME = "chartgen"
EXTERNAL_GATEWAY_NAMESPACE = "chartgen-gateway"
HTTP_LISTENER = "http"
# The router's Service without a load-balancer pool: a NodePort on every node.
HTTP_NODE_PORT = 30080
HTTPS_NODE_PORT = 30443
# Traefik's entry points listen on unprivileged ports; its Service maps 80 and 443 to them,
# and a Gateway's listeners name the entry points' ports.
TRAEFIK_WEB_PORT = 8000
TRAEFIK_WEBSECURE_PORT = 8443
TRAEFIK_CONTROLLER = "traefik.io/gateway-controller"

SELFSIGNED_ISSUER = "chartgen-selfsigned"
CA_ISSUER = "chartgen-ca"
ACME_ISSUER = "chartgen-acme"
CA_SECRET = "chartgen-ca"
GATEWAY_CRDS = (
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
)
HTTPROUTE_CRD = "httproutes.gateway.networking.k8s.io"

MONITORING_RELEASE = "monitoring"
MONITORING_NAMESPACE = "monitoring"
# node-exporter reads the host's /proc, /sys and root filesystem in the host's network and PID
# namespaces: Pod Security privileged. It gets a namespace of its own, so that Prometheus,
# Grafana and the operator keep restricted.
NODE_EXPORTER_NAMESPACE = "monitoring-nodes"
MONITORING_RULES_RELEASE = "chartgen-monitoring"
PROMETHEUS_RETENTION_SIZE = "4GB"  # Prometheus' units are powers of 1024
SERVICEMONITOR_CRD = "servicemonitors.monitoring.coreos.com"
PODMONITOR_CRD = "podmonitors.monitoring.coreos.com"
PROMETHEUSRULE_CRD = "prometheusrules.monitoring.coreos.com"
# A Gateway has at most 64 listeners: the plain HTTP one and one per HTTPS host.
MAX_TLS_HOSTS = 63


@dataclass(frozen=True)
class UpstreamRelease:
    """An upstream chart of a Helm repository, at its pinned version, with chartgen's values."""

    name: str
    namespace: str
    pin: ChartPin
    values: Mapping[str, Any]
    needs: tuple[str, ...]
    # Namespaces its subcharts deploy into besides `namespace` (made by the namespaces chart).
    other_namespaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformChart:
    """A chartgen chart of custom resources of the upstream releases."""

    name: str
    namespace: str
    directory: str  # under the tree's platform/ folder
    source: ChartSource
    needs: tuple[str, ...]
    crds: tuple[str, ...]


PlatformRelease = UpstreamRelease | PlatformChart


@dataclass(frozen=True)
class PlatformPlan:
    """The platform releases, in install order."""

    releases: tuple[PlatformRelease, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(release.name for release in self.releases)

    @property
    def namespaces(self) -> frozenset[str]:
        found = {release.namespace for release in self.releases}
        for release in self.releases:
            if isinstance(release, UpstreamRelease):
                found.update(release.other_namespaces)
        return frozenset(found)


# --- the router and its routes ------------------------------------------------------------


def routed_services(dc: Datacenter) -> tuple[Service, ...]:
    """The services that ask for a host name, in file order."""
    return tuple(service for service in dc.services if service.route_host is not None)


def tls_hosts(dc: Datacenter) -> tuple[str, ...]:
    """Every host served over HTTPS, sorted, each once."""
    return tuple(sorted({str(s.route_host) for s in routed_services(dc) if s.route_tls}))


def gateway_namespace(gateway: Gateway) -> str:
    return "traefik" if gateway.controller == "traefik" else EXTERNAL_GATEWAY_NAMESPACE


def https_listener(host: str) -> str:
    """The Gateway listener of one HTTPS host (a listener name is at most 253 characters)."""
    name = f"https-{host}"
    if len(name) <= 253:
        return name
    return f"https-{hashlib.sha256(host.encode()).hexdigest()[:16]}"


def certificate_secret(host: str) -> str:
    name = f"tls-{host}"
    if len(name) <= 253:
        return name
    return f"tls-{hashlib.sha256(host.encode()).hexdigest()[:16]}"


def cluster_issuer(dc: Datacenter) -> str | None:
    certificates = dc.platform.certificates
    if certificates is None:
        return None
    return ACME_ISSUER if certificates.issuer == "acme" else CA_ISSUER


def uses_gateway_api(dc: Datacenter) -> bool:
    gateway = dc.platform.gateway
    return gateway is not None and gateway.api == "gateway"


# --- the plan -------------------------------------------------------------------------------


def platform_plan(dc: Datacenter) -> PlatformPlan:
    """The platform releases of DC in install order; none without a `platform` key."""
    platform = dc.platform
    if not platform.enabled:
        return PlatformPlan()
    releases: list[PlatformRelease] = list(cni_releases(dc)) if platform.cni else []
    first = (releases[-1].name,) if releases else ()
    gateway = platform.gateway
    gateway_api = gateway is not None and gateway.api == "gateway"
    crds_release: tuple[str, ...] = ()
    if gateway_api and gateway is not None and gateway.controller == "traefik":
        # Traefik's chart no longer brings the Gateway API CRDs; Traefik and cert-manager's
        # Gateway support both read them at start.
        releases.append(
            UpstreamRelease(GATEWAY_API_RELEASE, GATEWAY_API_NAMESPACE, GATEWAY_API_CRDS,
                            _gateway_api_crds(), first)
        )  # fmt: skip
        crds_release = (GATEWAY_API_RELEASE,)
    if platform.pool:
        releases.append(UpstreamRelease("metallb", "metallb-system", METALLB, _metallb(), first))
        pool = {"loadBalancer": {"enabled": True, "addresses": list(platform.pool)}}
        releases.append(
            _chart(dc, LOADBALANCER_RELEASE, "metallb-system", "loadbalancer", ("metallb",),
                   METALLB.crds, pool)
        )  # fmt: skip
    certificates = platform.certificates
    if certificates is not None:
        acme_through_gateway = certificates.issuer == "acme" and gateway_api
        needs = first + (crds_release if acme_through_gateway else ())
        releases.append(
            UpstreamRelease("cert-manager", "cert-manager", CERT_MANAGER,
                            _cert_manager(acme_through_gateway), needs)
        )  # fmt: skip
        releases.append(
            _chart(dc, CERTIFICATES_RELEASE, "cert-manager", "certificates", ("cert-manager",),
                   CERT_MANAGER.crds, {"issuers": _issuers(dc)})
        )  # fmt: skip
    if gateway is not None and gateway.controller == "traefik":
        needs = first + crds_release + ((LOADBALANCER_RELEASE,) if platform.pool else ())
        releases.append(UpstreamRelease("traefik", "traefik", TRAEFIK, _traefik(dc), needs))
    if gateway is not None and gateway_api:
        needs = ("traefik",) if gateway.controller == "traefik" else first
        crds: tuple[str, ...] = GATEWAY_CRDS
        if certificates is not None:
            needs += (CERTIFICATES_RELEASE,)
            crds += ("certificates.cert-manager.io",)
        releases.append(
            _chart(dc, GATEWAY_RELEASE, gateway_namespace(gateway), "gateway", needs, crds,
                   {"gateway": _gateway_values(dc, gateway)})
        )  # fmt: skip
    if platform.metrics:
        releases.append(
            UpstreamRelease("metrics-server", "kube-system", METRICS_SERVER, _metrics(), first)
        )
    if platform.monitoring:
        # Its namespaces carry their Pod Security levels (restricted, and privileged for
        # node-exporter) from the namespaces chart, which therefore goes first.
        releases.append(
            UpstreamRelease(MONITORING_RELEASE, MONITORING_NAMESPACE, KUBE_PROMETHEUS_STACK,
                            _monitoring(dc), (*first, NAMESPACES_RELEASE),
                            (NODE_EXPORTER_NAMESPACE,))
        )  # fmt: skip
        releases.append(
            _chart(dc, MONITORING_RULES_RELEASE, MONITORING_NAMESPACE, "monitoring",
                   (MONITORING_RELEASE,), (PROMETHEUSRULE_CRD,), monitoring_values(dc),
                   MONITORING_BLUEPRINT)
        )  # fmt: skip
    return PlatformPlan(tuple(releases))


def _chart(
    dc: Datacenter,
    name: str,
    namespace: str,
    directory: str,
    needs: tuple[str, ...],
    crds: tuple[str, ...],
    values: dict[str, Any],
    blueprint: str = BLUEPRINT,
) -> PlatformChart:
    source = ChartSource(blueprint=blueprint, values=values, app_version=f"1.{dc.cluster.minor}")
    return PlatformChart(name, namespace, directory, source, needs, crds)


def cni_releases(dc: Datacenter) -> tuple[UpstreamRelease, ...]:
    """The releases of `cluster.cni` (with `platform.cni`), first of all."""
    cluster = dc.cluster
    if cluster.cni == "flannel":
        values: dict[str, Any] = {"podCidr": cluster.pod_subnet}
        return (UpstreamRelease("flannel", "kube-flannel", FLANNEL, values, ()),)
    if cluster.cni == "calico":
        values = {
            "installation": {
                "enabled": True,
                "calicoNetwork": {
                    "ipPools": [
                        {
                            "cidr": cluster.pod_subnet,
                            "encapsulation": "VXLANCrossSubnet",
                            "natOutgoing": "Enabled",
                            "nodeSelector": "all()",
                        }
                    ]
                },
            }
        }
        # From Calico 3.32 the operator's chart ships no CRDs: a chart of their own goes first.
        return (
            UpstreamRelease("calico-crds", "tigera-operator", CALICO_CRDS, {}, ()),
            UpstreamRelease(
                "tigera-operator", "tigera-operator", TIGERA_OPERATOR, values, ("calico-crds",)
            ),
        )
    host, port = cluster.control_plane_endpoint.rsplit(":", 1)
    values = {
        # kubeadm skips kube-proxy with cilium: Cilium serves Services itself, and reaches the
        # API server directly (no Service IP works before it runs).
        "kubeProxyReplacement": True,
        "k8sServiceHost": host,
        "k8sServicePort": int(port),
        # The per-node ranges kube-controller-manager carves out of the pod subnet.
        "ipam": {"mode": "kubernetes"},
        # Two operators keep apart on different nodes: one node has room for one.
        "operator": {"replicas": 2 if len(dc.nodes) > 1 else 1},
    }
    return (UpstreamRelease("cilium", "kube-system", CILIUM, values, ()),)


def _metallb() -> dict[str, Any]:
    # L2 mode only: MetalLB's native speaker; neither FRR-K8s (the default BGP backend since
    # 0.16) nor the FRR sidecar is needed.
    return {"frrk8s": {"enabled": False}, "speaker": {"frr": {"enabled": False}}}


def _cert_manager(gateway_api: bool) -> dict[str, Any]:
    values: dict[str, Any] = {"crds": {"enabled": True, "keep": True}}
    if gateway_api:
        # The ACME HTTP-01 solver of a Gateway (`gatewayHTTPRoute`) needs Gateway API
        # support, which reads the Gateway API CRDs when the controller starts.
        values["config"] = {"gatewayAPI": {"enabled": True}}
    return values


def _gateway_api_crds() -> dict[str, Any]:
    return {"crds": {"gatewayAPI": {"enabled": True, "channel": "standard"},
                     "envoyGateway": {"enabled": False}}}  # fmt: skip


def _metrics() -> dict[str, Any]:
    # kubeadm's kubelets serve self-signed certificates, which metrics-server cannot verify
    # (the chart's own arguments already prefer the nodes' InternalIP).
    return {
        "args": ["--kubelet-insecure-tls"],
    }


def _traefik(dc: Datacenter) -> dict[str, Any]:
    platform = dc.platform
    gateway = platform.gateway
    assert gateway is not None
    service: dict[str, Any]
    if platform.pool:
        service = {
            "annotations": {"metallb.io/loadBalancerIPs": str(gateway.address)},
            # The client's address reaches Traefik (and Nextcloud's logs and brute-force
            # protection); MetalLB then announces the IP from a node that runs a Traefik pod.
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
        }
    else:
        service = {"spec": {"type": "NodePort"}}
    web: dict[str, Any] = {"port": TRAEFIK_WEB_PORT, "exposedPort": 80}
    websecure: dict[str, Any] = {"port": TRAEFIK_WEBSECURE_PORT, "exposedPort": 443}
    if not platform.pool:
        web["nodePort"] = HTTP_NODE_PORT
        websecure["nodePort"] = HTTPS_NODE_PORT
    routed = routed_services(dc)
    if gateway.api == "ingress" and routed and all(service.route_tls for service in routed):
        # An Ingress cannot ask for a redirect without a controller's annotation: with every
        # host on HTTPS, Traefik's HTTP entry point redirects instead.
        web["http"] = {
            "redirections": {
                "entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}
            }
        }
    replicas = 2 if len(dc.pod_nodes) > 1 else 1
    return {
        "deployment": {"replicas": replicas},
        "podDisruptionBudget": {"enabled": replicas > 1, "maxUnavailable": 1},
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"memory": "256Mi"},
        },
        "service": service,
        "ports": {"web": web, "websecure": websecure},
        "providers": {
            "kubernetesCRD": {"enabled": False},
            "kubernetesIngress": {"enabled": gateway.api == "ingress"},
            "kubernetesGateway": {"enabled": gateway.api == "gateway"},
        },
        # chartgen's gateway chart makes the GatewayClass and the Gateway.
        "gatewayClass": {"enabled": False},
        "gateway": {"enabled": False},
        "ingressClass": {
            "enabled": gateway.api == "ingress",
            "name": gateway.class_name,
            "isDefaultClass": False,
        },
    }


def _issuers(dc: Datacenter) -> dict[str, Any]:
    certificates = dc.platform.certificates
    assert certificates is not None
    values: dict[str, Any] = {
        "selfSigned": {"enabled": certificates.issuer == "selfsigned", "name": SELFSIGNED_ISSUER},
        "ca": {
            "enabled": certificates.issuer == "selfsigned",
            "name": CA_ISSUER,
            "secretName": CA_SECRET,
            "commonName": f"{dc.cluster.name} chartgen CA",
        },
        "acme": {"enabled": certificates.issuer == "acme", "name": ACME_ISSUER},
    }
    if certificates.acme is not None:
        gateway = dc.platform.gateway
        solver: dict[str, Any]
        if gateway is not None and gateway.api == "gateway":
            solver = {
                "gatewayHTTPRoute": {
                    "parentRefs": [
                        {
                            "name": GATEWAY_NAME,
                            "namespace": gateway_namespace(gateway),
                            "kind": "Gateway",
                            "sectionName": HTTP_LISTENER,
                        }
                    ]
                }
            }
        else:
            class_name = gateway.class_name if gateway is not None else ""
            solver = {"ingress": {"ingressClassName": class_name}}
        values["acme"].update(
            {
                "email": certificates.acme.email,
                "server": certificates.acme.server,
                "http01": solver,
            }
        )
    return values


def _gateway_values(dc: Datacenter, gateway: Gateway) -> dict[str, Any]:
    traefik = gateway.controller == "traefik"
    issuer = cluster_issuer(dc)
    namespaces = {service.namespace for service in routed_services(dc)}
    certificates = dc.platform.certificates
    if certificates is not None and certificates.issuer == "acme":
        # cert-manager's HTTP-01 solver routes the challenge from the Certificate's namespace,
        # the Gateway's own.
        namespaces.add(gateway_namespace(gateway))
    hosts = [
        {
            "host": host,
            "listener": https_listener(host),
            "secretName": certificate_secret(host),
        }
        for host in tls_hosts(dc)
    ]
    values: dict[str, Any] = {
        "enabled": True,
        "name": GATEWAY_NAME,
        "className": gateway.class_name,
        "gatewayClass": {"create": traefik, "controllerName": TRAEFIK_CONTROLLER},
        "httpPort": TRAEFIK_WEB_PORT if traefik else 80,
        "httpsPort": TRAEFIK_WEBSECURE_PORT if traefik else 443,
        "routeNamespaces": sorted(namespaces),
        "tlsHosts": hosts,
        "issuer": issuer or "",
        # Traefik's own Service takes the address; another implementation is asked for it.
        "address": gateway.address if (gateway.address and not traefik) else "",
    }
    return values


# --- monitoring ---------------------------------------------------------------------------


def _monitoring(dc: Datacenter) -> dict[str, Any]:
    # Every ServiceMonitor, PodMonitor and PrometheusRule of the cluster is read, whatever its
    # labels: chartgen's charts then need not carry a label naming this release.
    every: dict[str, Any] = {
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
    }
    sixty_four_bit = arch_affinity(usable_architectures(dc.pod_nodes, MONITORING_64_BIT_ONLY))
    return {
        # Short object names: monitoring-prometheus, monitoring-grafana, ...
        "fullnameOverride": MONITORING_RELEASE,
        # kubeadm binds these components' metrics to 127.0.0.1: Prometheus could never reach
        # them and their "target down" alerts would fire forever.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheus": {
            "prometheusSpec": {
                **every,
                # Its data sits on an emptyDir of the node's disk (NFS is no storage for its
                # database): besides the stack's 10 days, a cap in bytes, so that a busy
                # cluster cannot fill a small board's SD card.
                "retentionSize": PROMETHEUS_RETENTION_SIZE,
                "resources": {
                    "requests": {"cpu": "200m", "memory": "512Mi"},
                    "limits": {"memory": "2Gi"},
                },
            }
        },
        # An AlertmanagerConfig in the stack's own namespace receives every namespace's alerts
        # (elsewhere, only its namespace's): where the README's way to be notified goes.
        "alertmanager": {
            "alertmanagerSpec": {
                "alertmanagerConfigMatcherStrategy": {
                    "type": "OnNamespaceExceptForAlertmanagerNamespace"
                }
            }
        },
        "prometheusOperator": {"admissionWebhooks": {"patch": {"affinity": sixty_four_bit}}},
        "prometheus-node-exporter": {"namespaceOverride": NODE_EXPORTER_NAMESPACE},
        "grafana": {
            **grafana_admin.grafana_values(),
            "affinity": sixty_four_bit,
            # Its connection test (run by `helm test` only) would break Pod Security restricted.
            "testFramework": {"enabled": False},
        },
        "extraManifests": grafana_admin.hook_manifests(dc, MONITORING_NAMESPACE),
    }


def monitoring_values(dc: Datacenter) -> dict[str, Any]:
    """What the chartgen-monitoring chart gets: the namespaces its alerts watch, and the
    service types that get a dashboard."""
    namespaces = sorted({service.namespace for service in dc.services})
    types = sorted({service.type for service in dc.services})
    return {
        "enabled": True,
        # Namespace names are DNS labels: no character of a regular expression's syntax.
        "namespaces": "|".join(namespaces),
        "dashboards": types,
        "volumeFreeRatio": 0.1,
    }
