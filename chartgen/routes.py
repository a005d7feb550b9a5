"""How a service's host reaches it: the one place that decides between an HTTPRoute on the
platform's Gateway and an Ingress, for every chart (`ingress` and `httpRoute` values).

- `platform.gateway.api: gateway`: an HTTPRoute on the Gateway's HTTPS listener of the host (and
  one on the plain HTTP listener that redirects to HTTPS), or on the HTTP listener alone without
  TLS. No Ingress.
- `platform.gateway.api: ingress`: an Ingress with the router's `ingressClassName`; with TLS, a
  certificate requested through cert-manager's own Ingress annotation. No controller's
  annotations, ever.
- No router (no `platform`): an Ingress for the cluster's default IngressClass, as format v1 did
  (and a warning that nothing in the file serves it).
"""

from __future__ import annotations

from typing import Any

from chartgen.model import Datacenter, Service
from chartgen.platform import (
    GATEWAY_NAME,
    HTTP_LISTENER,
    certificate_secret,
    cluster_issuer,
    gateway_namespace,
    https_listener,
)

CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"


def scheme(service: Service) -> str:
    return "https" if service.route_tls else "http"


def route_values(dc: Datacenter, service: Service) -> dict[str, Any]:
    """The `ingress` and `httpRoute` values of the service's chart."""
    host = service.route_host
    gateway = dc.platform.gateway
    off: dict[str, Any] = {"enabled": False}
    if host is None:
        return {"ingress": off, "httpRoute": off}
    path = service.route_path
    if gateway is not None and gateway.api == "gateway":
        return {
            "ingress": off,
            "httpRoute": {
                "enabled": True,
                "host": host,
                "path": path,
                "gateway": {"name": GATEWAY_NAME, "namespace": gateway_namespace(gateway)},
                "httpListener": HTTP_LISTENER,
                "httpsListener": https_listener(host) if service.route_tls else "",
            },
        }
    ingress: dict[str, Any] = {
        "enabled": True,
        "className": gateway.class_name if gateway is not None else "",
        "host": host,
        "path": path,
    }
    issuer = cluster_issuer(dc)
    if service.route_tls and issuer is not None:
        ingress["annotations"] = {CLUSTER_ISSUER_ANNOTATION: issuer}
        ingress["tls"] = [{"secretName": certificate_secret(host), "hosts": [host]}]
    return {"ingress": ingress, "httpRoute": off}
