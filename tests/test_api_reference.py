"""The field lists of tests/data (kubeadm, platform CRDs) and the checker that reads them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.api_reference import (
    SCALARS,
    definition_problems,
    enum_members,
    load_references,
    reference_problems,
)

DATA = Path(__file__).parent / "data"
PLATFORM = DATA / "platform"
FOLDERS = ["kubeadm", "platform"]

Path_ = tuple[str | int, ...]


def platform() -> dict[str, dict[str, Any]]:
    return load_references(PLATFORM)


def meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    return {"name": name, **({"namespace": namespace} if namespace else {})}


def changed(document: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the field at `path` set to `value`."""
    result = copy.deepcopy(document)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return result


def removed(document: dict[str, Any], path: Path_) -> dict[str, Any]:
    """A deep copy of `document` without the field at `path`."""
    result = copy.deepcopy(document)
    target: Any = result
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return result


# --- hand-written valid documents, one or more per kind --------------------------------------

GATEWAY_API = "gateway.networking.k8s.io/v1"
CERT_MANAGER = "cert-manager.io/v1"
METALLB = "metallb.io/v1beta1"
MONITORING = "monitoring.coreos.com/v1"
ALERTING = "monitoring.coreos.com/v1alpha1"

KEY_USAGES = [
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
]

GATEWAY_CLASS: dict[str, Any] = {
    "apiVersion": GATEWAY_API,
    "kind": "GatewayClass",
    "metadata": meta("traefik"),
    "spec": {"controllerName": "traefik.io/gateway-controller"},
}
GATEWAY: dict[str, Any] = {
    "apiVersion": GATEWAY_API,
    "kind": "Gateway",
    "metadata": {**meta("web", "traefik"), "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "gatewayClassName": "traefik",
        "listeners": [
            {
                "name": "http",
                "protocol": "HTTP",
                "port": 8000,
                "allowedRoutes": {"namespaces": {"from": "All"}},
            },
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": 8443,
                "hostname": "*.example.com",
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"kind": "Secret", "name": "wildcard-example-com-tls"}],
                },
                "allowedRoutes": {
                    "namespaces": {
                        "from": "Selector",
                        "selector": {"matchLabels": {"gateway-access": "true"}},
                    },
                    "kinds": [{"kind": "HTTPRoute"}],
                },
            },
        ],
        "addresses": [{"type": "IPAddress", "value": "192.168.1.240"}],
        "infrastructure": {"annotations": {"metallb.io/address-pool": "default"}},
    },
}
HTTP_ROUTE: dict[str, Any] = {
    "apiVersion": GATEWAY_API,
    "kind": "HTTPRoute",
    "metadata": meta("nextcloud", "nextcloud"),
    "spec": {
        "parentRefs": [{"name": "web", "namespace": "traefik", "sectionName": "https"}],
        "hostnames": ["cloud.example.com"],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": "nextcloud", "port": 8080}],
                "timeouts": {"request": "300s"},
            },
            {
                "matches": [{"path": {"type": "Exact", "value": "/.well-known/carddav"}}],
                "filters": [
                    {
                        "type": "RequestRedirect",
                        "requestRedirect": {
                            "path": {
                                "type": "ReplaceFullPath",
                                "replaceFullPath": "/remote.php/dav",
                            },
                            "statusCode": 301,
                        },
                    }
                ],
            },
        ],
    },
}
SELF_SIGNED: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "ClusterIssuer",
    "metadata": meta("selfsigned"),
    "spec": {"selfSigned": {}},
}
CA_ISSUER: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "ClusterIssuer",
    "metadata": meta("datacenter-ca"),
    "spec": {"ca": {"secretName": "datacenter-ca"}},
}
ACME_GATEWAY: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "ClusterIssuer",
    "metadata": meta("letsencrypt"),
    "spec": {
        "acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory",
            "email": "admin@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-account-key"},
            "solvers": [
                {
                    "http01": {
                        "gatewayHTTPRoute": {
                            "parentRefs": [
                                {
                                    "name": "web",
                                    "namespace": "traefik",
                                    "kind": "Gateway",
                                    "sectionName": "http",
                                }
                            ]
                        }
                    }
                }
            ],
        }
    },
}
ACME_INGRESS: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "Issuer",
    "metadata": meta("letsencrypt-staging", "web"),
    "spec": {
        "acme": {
            "server": "https://acme-staging-v02.api.letsencrypt.org/directory",
            "privateKeySecretRef": {"name": "letsencrypt-staging-account-key"},
            "solvers": [
                {
                    "selector": {"dnsZones": ["example.com"]},
                    "http01": {
                        "ingress": {
                            "ingressClassName": "traefik",
                            "podTemplate": {
                                "spec": {
                                    "nodeSelector": {"kubernetes.io/arch": "amd64"},
                                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                                    "tolerations": [
                                        {"key": "example.com/gpu", "operator": "Exists"}
                                    ],
                                }
                            },
                        }
                    },
                }
            ],
        }
    },
}
CA_CERTIFICATE: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "Certificate",
    "metadata": meta("datacenter-ca", "cert-manager"),
    "spec": {
        "isCA": True,
        "commonName": "datacenter CA",
        "secretName": "datacenter-ca",
        "duration": "87600h",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    },
}
SERVER_CERTIFICATE: dict[str, Any] = {
    "apiVersion": CERT_MANAGER,
    "kind": "Certificate",
    "metadata": meta("wildcard-example-com", "traefik"),
    "spec": {
        "secretName": "wildcard-example-com-tls",
        "dnsNames": ["*.example.com", "example.com"],
        "renewBefore": "720h",
        "usages": ["digital signature", "key encipherment", "server auth"],
        "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
    },
}
IP_ADDRESS_POOL: dict[str, Any] = {
    "apiVersion": METALLB,
    "kind": "IPAddressPool",
    "metadata": meta("default", "metallb-system"),
    "spec": {"addresses": ["192.168.1.240-192.168.1.250", "fd00::/120"], "autoAssign": True},
}
L2_ADVERTISEMENT: dict[str, Any] = {
    "apiVersion": METALLB,
    "kind": "L2Advertisement",
    "metadata": meta("default", "metallb-system"),
    "spec": {
        "ipAddressPools": ["default"],
        "nodeSelectors": [
            {
                "matchExpressions": [
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}
                ]
            }
        ],
        "interfaces": ["eth0"],
    },
}

POD_MONITOR: dict[str, Any] = {
    "apiVersion": MONITORING,
    "kind": "PodMonitor",
    "metadata": meta("web", "web"),
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "nginx"}},
        "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
    },
}
PROMETHEUS_RULE: dict[str, Any] = {
    "apiVersion": MONITORING,
    "kind": "PrometheusRule",
    "metadata": meta("alerts", "monitoring"),
    "spec": {
        "groups": [
            {
                "name": "services",
                "rules": [
                    {
                        "alert": "Down",
                        "expr": "up == 0",
                        "for": "5m",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "down"},
                    }
                ],
            }
        ]
    },
}

ALERTMANAGER_CONFIG: dict[str, Any] = {
    "apiVersion": ALERTING,
    "kind": "AlertmanagerConfig",
    "metadata": meta("notify", "monitoring"),
    "spec": {
        "route": {
            "receiver": "mail",
            "groupBy": ["alertname", "namespace"],
            "matchers": [{"name": "severity", "matchType": "=~", "value": "warning|critical"}],
        },
        "receivers": [
            {
                "name": "mail",
                "emailConfigs": [
                    {
                        "to": "admin@example.org",
                        "smarthost": "smtp.example.org:587",
                        "authPassword": {"name": "smtp", "key": "password"},
                    }
                ],
            }
        ],
    },
}
VALID: dict[str, dict[str, Any]] = {
    "gateway-class": GATEWAY_CLASS,
    "gateway-https-listener": GATEWAY,
    "http-route": HTTP_ROUTE,
    "cluster-issuer-self-signed": SELF_SIGNED,
    "cluster-issuer-ca": CA_ISSUER,
    "cluster-issuer-acme-gateway-http-route": ACME_GATEWAY,
    "issuer-acme-ingress": ACME_INGRESS,
    "certificate-ca": CA_CERTIFICATE,
    "certificate-server": SERVER_CERTIFICATE,
    "ip-address-pool": IP_ADDRESS_POOL,
    "l2-advertisement": L2_ADVERTISEMENT,
    "l2-advertisement-empty": {
        "apiVersion": METALLB,
        "kind": "L2Advertisement",
        "metadata": meta("all", "metallb-system"),
    },
    "pod-monitor": POD_MONITOR,
    "prometheus-rule": PROMETHEUS_RULE,
    "alertmanager-config": ALERTMANAGER_CONFIG,
}


# --- the field lists themselves ---------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_reference_type_names_resolve(folder: str) -> None:
    """Every kind, field type and required field of the lists is defined."""
    references = load_references(DATA / folder)
    assert references
    assert definition_problems(references) == []


def test_platform_covers_the_expected_kinds() -> None:
    kinds = {version: reference["kinds"] for version, reference in platform().items()}
    assert kinds == {
        GATEWAY_API: ["GatewayClass", "Gateway", "HTTPRoute"],
        CERT_MANAGER: ["ClusterIssuer", "Issuer", "Certificate"],
        METALLB: ["IPAddressPool", "L2Advertisement"],
        MONITORING: ["PodMonitor", "PrometheusRule"],
        ALERTING: ["AlertmanagerConfig"],
    }
    for reference in platform().values():
        assert "github.com/" in reference["reference"]
        assert " tag v" in reference["reference"]
        for kind in reference["kinds"]:
            top = reference["types"][kind]
            assert set(top) == {"apiVersion", "kind", "metadata", "spec"}, kind
            assert top["metadata"] == "ObjectMeta"


def test_readme_lists_every_platform_file() -> None:
    readme = (PLATFORM / "README.md").read_text(encoding="utf-8")
    for path in PLATFORM.glob("*.yaml"):
        assert f"| `{path.name}` |" in readme
    for version in platform():
        assert f"`{version}`" in readme


def test_definition_problems_are_reported() -> None:
    broken = {
        "example.io/v1": {
            "file": "broken.yaml",
            "kinds": ["Thing", "Missing"],
            "types": {"Thing": {"spec": "ThingSpec", "items": "[]map[string]Nope"}},
            "required": {"Thing": ["spec", "extra"], "Ghost": ["x"]},
        }
    }
    assert definition_problems(broken) == [
        "broken.yaml: kind Missing has no type",
        "broken.yaml: Thing.spec: ThingSpec",
        "broken.yaml: Thing.items: []map[string]Nope",
        "broken.yaml: Thing.extra is required but not a field",
        "broken.yaml: required fields of unknown type Ghost",
    ]


def test_an_api_version_in_two_files_is_refused(tmp_path: Path) -> None:
    text = "apiVersion: example.io/v1\nreference: x\nkinds: []\ntypes: {}\n"
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.yaml: example\.io/v1 is also in a\.yaml"):
        load_references(tmp_path)


def test_a_file_may_cover_several_versions(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: [example.io/v1, example.io/v1beta1]\nreference: x\nkinds: [Thing]\n"
        "types: {Thing: {apiVersion: string, kind: string}}\n",
        encoding="utf-8",
    )
    references = load_references(tmp_path)
    assert set(references) == {"example.io/v1", "example.io/v1beta1"}
    for version in references:
        assert reference_problems({"apiVersion": version, "kind": "Thing"}, references) == []


def test_enum_members_that_look_like_integers_are_integers() -> None:
    assert enum_members("enum[301,302,Exact,*,digital signature]") == [
        301,
        302,
        "Exact",
        "*",
        "digital signature",
    ]


@pytest.mark.parametrize(
    ("scalar", "good", "bad"),
    [
        ("int32", [0, -5, 65535, 2**31 - 1], [2**31, True, "1", 1.0]),
        ("int64", [2**40], [2**63, False]),
        ("duration", ["10m0s", "2160h", "1.5h", "300ms"], ["10 minutes", "", 10]),
        ("gatewayDuration", ["300s", "1h30m", "500ms"], ["1.5h", "123456s", "10us", 5]),
        ("quantity", ["100m", "128Mi", "1.5", "2e3", 4], ["128MB", "lots", True, 1.5]),
        ("base64", ["", "aGVsbG8=", "aGk="], ["not base64!", "abc"]),
        ("object", [{}, {"a": [1]}], [[], "x"]),
        ("any", [None, 1, "x", [], {}], []),
    ],
)
def test_scalars(scalar: str, good: list[Any], bad: list[Any]) -> None:
    check = SCALARS[scalar]
    assert [value for value in good if not check(value)] == []
    assert [value for value in bad if check(value)] == []


# --- valid documents --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VALID))
def test_valid_document_has_no_problems(name: str) -> None:
    assert reference_problems(VALID[name], platform()) == []


def test_every_platform_kind_has_a_valid_example() -> None:
    covered = {(document["apiVersion"], document["kind"]) for document in VALID.values()}
    expected = {
        (version, kind) for version, reference in platform().items() for kind in reference["kinds"]
    }
    assert covered == expected


# --- rejections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        # unknown fields
        (
            changed(GATEWAY, ("spec", "listeners", 1, "tls", "certificateRef"), {"name": "x"}),
            ["Gateway.spec.listeners[1].tls.certificateRef: unknown field of ListenerTLSConfig"],
        ),
        (
            changed(HTTP_ROUTE, ("status",), {"parents": []}),
            ["HTTPRoute.status: unknown field of HTTPRoute"],
        ),
        (
            changed(CA_CERTIFICATE, ("metadata", "uid"), "1234"),
            ["Certificate.metadata.uid: unknown field of ObjectMeta"],
        ),
        (
            changed(ACME_GATEWAY, ("spec", "acme", "solvers", 0, "http01", "gateway"), {}),
            [
                "ClusterIssuer.spec.acme.solvers[0].http01.gateway: "
                "unknown field of ACMEHTTP01Solver"
            ],
        ),
        (
            changed(L2_ADVERTISEMENT, ("spec", "ipAddressPool"), "default"),
            ["L2Advertisement.spec.ipAddressPool: unknown field of L2AdvertisementSpec"],
        ),
        # wrong types
        (
            changed(GATEWAY, ("spec", "listeners", 0, "port"), "8000"),
            ["Gateway.spec.listeners[0].port: '8000' is not a int32"],
        ),
        (
            changed(HTTP_ROUTE, ("spec", "hostnames"), "cloud.example.com"),
            ["HTTPRoute.spec.hostnames: expected a list, got 'cloud.example.com'"],
        ),
        (
            changed(HTTP_ROUTE, ("spec", "rules", 0, "timeouts", "request"), "1.5h"),
            ["HTTPRoute.spec.rules[0].timeouts.request: '1.5h' is not a gatewayDuration"],
        ),
        (
            changed(CA_CERTIFICATE, ("spec", "isCA"), "true"),
            ["Certificate.spec.isCA: 'true' is not a bool"],
        ),
        (
            changed(CA_CERTIFICATE, ("spec", "duration"), "10 years"),
            ["Certificate.spec.duration: '10 years' is not a duration"],
        ),
        (
            changed(SELF_SIGNED, ("spec", "selfSigned"), True),
            ["ClusterIssuer.spec.selfSigned: expected a SelfSignedIssuer object, got True"],
        ),
        (
            changed(
                ACME_INGRESS,
                (
                    "spec",
                    "acme",
                    "solvers",
                    0,
                    "http01",
                    "ingress",
                    "podTemplate",
                    "spec",
                    "resources",
                    "requests",
                    "memory",
                ),
                "64MB",
            ),
            [
                "Issuer.spec.acme.solvers[0].http01.ingress.podTemplate.spec.resources.requests"
                ".memory: '64MB' is not a quantity"
            ],
        ),
        (
            changed(IP_ADDRESS_POOL, ("metadata", "labels"), {"tier": 1}),
            ["IPAddressPool.metadata.labels.tier: 1 is not a string"],
        ),
        (
            changed(L2_ADVERTISEMENT, ("spec", "nodeSelectors"), {"matchLabels": {}}),
            ["L2Advertisement.spec.nodeSelectors: expected a list, got {'matchLabels': {}}"],
        ),
        # bad enum values
        (
            changed(GATEWAY, ("spec", "listeners", 1, "tls", "mode"), "terminate"),
            [
                "Gateway.spec.listeners[1].tls.mode: 'terminate' is not one of "
                "['Terminate', 'Passthrough']"
            ],
        ),
        (
            changed(
                GATEWAY, ("spec", "listeners", 0, "allowedRoutes", "namespaces", "from"), "None"
            ),
            [
                "Gateway.spec.listeners[0].allowedRoutes.namespaces.from: 'None' is not one of "
                "['All', 'Selector', 'Same']"
            ],
        ),
        (
            changed(
                HTTP_ROUTE,
                ("spec", "rules", 1, "filters", 0, "requestRedirect", "statusCode"),
                "301",
            ),
            [
                "HTTPRoute.spec.rules[1].filters[0].requestRedirect.statusCode: '301' is not "
                "one of [301, 302, 303, 307, 308]"
            ],
        ),
        (
            changed(CA_CERTIFICATE, ("spec", "privateKey", "algorithm"), "EC"),
            [
                "Certificate.spec.privateKey.algorithm: "
                "'EC' is not one of ['RSA', 'ECDSA', 'Ed25519']"
            ],
        ),
        (
            changed(SERVER_CERTIFICATE, ("spec", "usages", 2), "serverAuth"),
            [f"Certificate.spec.usages[2]: 'serverAuth' is not one of {KEY_USAGES}"],
        ),
        # missing required fields
        (
            removed(GATEWAY, ("spec", "gatewayClassName")),
            ["Gateway.spec.gatewayClassName: required field of GatewaySpec is missing"],
        ),
        (
            removed(GATEWAY, ("spec",)),
            ["Gateway.spec: required field of Gateway is missing"],
        ),
        (
            removed(HTTP_ROUTE, ("spec", "parentRefs", 0, "name")),
            ["HTTPRoute.spec.parentRefs[0].name: required field of ParentReference is missing"],
        ),
        (
            removed(HTTP_ROUTE, ("spec", "rules", 1, "filters", 0, "type")),
            [
                "HTTPRoute.spec.rules[1].filters[0].type: "
                "required field of HTTPRouteFilter is missing"
            ],
        ),
        (
            removed(CA_ISSUER, ("spec", "ca", "secretName")),
            ["ClusterIssuer.spec.ca.secretName: required field of CAIssuer is missing"],
        ),
        (
            removed(ACME_GATEWAY, ("spec", "acme", "privateKeySecretRef")),
            [
                "ClusterIssuer.spec.acme.privateKeySecretRef: "
                "required field of ACMEIssuer is missing"
            ],
        ),
        (
            removed(CA_CERTIFICATE, ("spec", "issuerRef", "name")),
            ["Certificate.spec.issuerRef.name: required field of IssuerReference is missing"],
        ),
        (
            removed(IP_ADDRESS_POOL, ("spec", "addresses")),
            ["IPAddressPool.spec.addresses: required field of IPAddressPoolSpec is missing"],
        ),
        (
            removed(L2_ADVERTISEMENT, ("metadata", "name")),
            ["L2Advertisement.metadata.name: required field of ObjectMeta is missing"],
        ),
        (
            removed(
                L2_ADVERTISEMENT, ("spec", "nodeSelectors", 0, "matchExpressions", 0, "operator")
            ),
            [
                "L2Advertisement.spec.nodeSelectors[0].matchExpressions[0].operator: "
                "required field of LabelSelectorRequirement is missing"
            ],
        ),
        # several problems, in document order, then the missing fields
        (
            removed(
                changed(
                    changed(GATEWAY, ("spec", "listeners", 0, "port"), 0.5),
                    ("spec", "listeners", 0, "proto"),
                    "HTTP",
                ),
                ("spec", "listeners", 0, "protocol"),
            ),
            [
                "Gateway.spec.listeners[0].port: 0.5 is not a int32",
                "Gateway.spec.listeners[0].proto: unknown field of Listener",
                "Gateway.spec.listeners[0].protocol: required field of Listener is missing",
            ],
        ),
        # unknown versions and kinds
        (
            changed(GATEWAY, ("apiVersion",), "gateway.networking.k8s.io/v1beta1"),
            ["apiVersion 'gateway.networking.k8s.io/v1beta1' has no reference field list"],
        ),
        (
            changed(HTTP_ROUTE, ("kind",), "GRPCRoute"),
            ["gateway.networking.k8s.io/v1 has no kind 'GRPCRoute'"],
        ),
        # the monitoring objects: a PodMonitor must select its pods, a rule must have an expr
        (
            removed(POD_MONITOR, ("spec", "selector")),
            ["PodMonitor.spec.selector: required field of PodMonitorSpec is missing"],
        ),
        (
            changed(POD_MONITOR, ("spec", "podMetricsEndpoints", 0, "scheme"), "ftp"),
            [
                "PodMonitor.spec.podMetricsEndpoints[0].scheme: 'ftp' is not one of "
                "['http', 'https', 'HTTP', 'HTTPS']"
            ],
        ),
        (
            removed(PROMETHEUS_RULE, ("spec", "groups", 0, "rules", 0, "expr")),
            ["PrometheusRule.spec.groups[0].rules[0].expr: required field of Rule is missing"],
        ),
        (
            changed(PROMETHEUS_RULE, ("spec", "groups", 0, "rules", 0, "severity"), "high"),
            ["PrometheusRule.spec.groups[0].rules[0].severity: unknown field of Rule"],
        ),
        (
            changed(ALERTMANAGER_CONFIG, ("spec", "route", "matchers", 0, "matchType"), "=="),
            [
                "AlertmanagerConfig.spec.route.matchers[0].matchType: '==' is not one of "
                "['!=', '=', '=~', '!~']"
            ],
        ),
        (
            removed(
                ALERTMANAGER_CONFIG,
                ("spec", "receivers", 0, "emailConfigs", 0, "authPassword", "key"),
            ),
            [
                "AlertmanagerConfig.spec.receivers[0].emailConfigs[0].authPassword.key: required "
                "field of SecretKeySelector is missing"
            ],
        ),
        (
            changed(
                ALERTMANAGER_CONFIG,
                ("spec", "receivers", 0, "emailConfigs", 0, "password"),
                "hunter2",
            ),
            [
                "AlertmanagerConfig.spec.receivers[0].emailConfigs[0].password: unknown field of "
                "EmailConfig"
            ],
        ),
    ],
)
def test_invalid_document_is_rejected(document: dict[str, Any], problems: list[str]) -> None:
    assert reference_problems(document, platform()) == problems


def test_example_documents_are_not_modified_by_the_rejection_cases() -> None:
    assert GATEWAY["spec"]["listeners"][0]["port"] == 8000
    assert "status" not in HTTP_ROUTE
