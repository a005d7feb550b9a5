"""The platform layer: the releases of the upstream charts (order, pins, values chartgen writes
for them) and what chartgen's own charts render around them (pool, issuers, Gateway, routes).

The upstream charts cannot be rendered here (their repositories are out of reach): their
values are checked against the keys their pinned versions define (tests/data/platform-values),
and the install lifecycle is tested against charts of the same names served on loopback
(tests/test_install_platform.py). Every custom resource chartgen renders is checked against
the upstream CRDs in tests/test_generated.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartgen.plan import Release
from chartgen.platform_pins import PINS
from chartgen.render import render_tree
from tests.chart_support import build, documents, helm, load_datacenter
from tests.conftest import CASES, REPO

VALID = CASES / "valid"
VALUES_KEYS = Path(__file__).parent / "data" / "platform-values.yaml"


@dataclass(frozen=True)
class Tree:
    """A built case: its releases, the values of its upstream releases, its rendered charts."""

    out: Path
    releases: dict[str, Release]
    values: Mapping[str, Mapping[str, Any]]

    def objects(self, release: str) -> list[dict[str, Any]]:
        entry = self.releases[release]
        return list(
            documents(
                helm("template", entry.name, str(self.out / entry.chart), "-n", entry.namespace)
            )
        )

    def one(self, release: str, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [
            item
            for item in self.objects(release)
            if item["kind"] == kind and (name is None or item["metadata"]["name"] == name)
        ]
        assert len(found) == 1, [item["metadata"]["name"] for item in found]
        return found[0]

    def all(self, release: str, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.objects(release) if item["kind"] == kind]


def _tree(source: Path, out: Path) -> Tree:
    build(source, out)
    rendered = render_tree(load_datacenter(source))
    return Tree(out, {r.name: r for r in rendered.releases}, rendered.platform_values)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    return _tree(REPO / "datacenter.yaml", tmp_path_factory.mktemp("root") / "generated")


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    source = VALID / "platform-calico-acme-nodeport" / "datacenter.yaml"
    return _tree(source, tmp_path_factory.mktemp("acme") / "generated")


@pytest.fixture(scope="module")
def ingress(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    source = VALID / "platform-cilium-ingress" / "datacenter.yaml"
    return _tree(source, tmp_path_factory.mktemp("ingress") / "generated")


@pytest.fixture(scope="module")
def external(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    source = VALID / "platform-external-gateway" / "datacenter.yaml"
    return _tree(source, tmp_path_factory.mktemp("external") / "generated")


# --- the releases -------------------------------------------------------------------------


def test_the_platform_goes_first_in_the_order_of_the_issue(root: Tree) -> None:
    names = list(root.releases)
    assert names == [
        "flannel",
        "gateway-api",
        "metallb",
        "chartgen-loadbalancer",
        "cert-manager",
        "chartgen-certificates",
        "traefik",
        "chartgen-gateway",
        "metrics-server",
        "chartgen-namespaces",
        "chartgen-storage",
        "web",
        "cloud",
    ]
    platform = [name for name, release in root.releases.items() if release.platform]
    assert platform == names[:9]
    assert set(root.releases["chartgen-namespaces"].needs) == set(platform)
    assert root.releases["traefik"].needs == ("flannel", "gateway-api", "chartgen-loadbalancer")
    assert root.releases["chartgen-gateway"].needs == ("traefik", "chartgen-certificates")


def test_upstream_releases_are_pinned_repository_charts_with_a_values_file(root: Tree) -> None:
    pins = {(pin.repository, pin.chart): pin for pin in PINS}
    upstream = [release for release in root.releases.values() if release.repository]
    assert {release.name for release in upstream} == {
        "flannel", "gateway-api", "metallb", "cert-manager", "traefik", "metrics-server",
    }  # fmt: skip
    for release in upstream:
        assert release.repository is not None
        pin = pins[(release.repository, release.chart)]
        assert release.version == pin.version
        assert release.values == f"platform/values/{release.name}.yaml"
        assert (root.out / release.values).is_file()
        # Webhooks serve and CRDs exist before chartgen's charts use them.
        assert release.wait
        assert release.timeout == "10m"


def test_chartgen_charts_wait_for_the_crds_they_use(root: Tree) -> None:
    assert root.releases["chartgen-loadbalancer"].crds == (
        "ipaddresspools.metallb.io",
        "l2advertisements.metallb.io",
    )
    assert "clusterissuers.cert-manager.io" in root.releases["chartgen-certificates"].crds
    assert set(root.releases["chartgen-gateway"].crds) == {
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "certificates.cert-manager.io",
    }
    for service in ("web", "cloud"):
        assert root.releases[service].crds == ("httproutes.gateway.networking.k8s.io",)


def test_a_v1_file_has_no_platform(tmp_path: Path) -> None:
    tree = _tree(VALID / "mytinydc" / "datacenter.yaml", tmp_path / "generated")
    assert list(tree.releases) == ["chartgen-namespaces", "chartgen-storage", "web", "cloud"]
    assert not (tmp_path / "generated" / "platform").exists()
    assert tree.one("cloud", "Ingress")["spec"].get("ingressClassName") is None


# --- the values of the upstream charts ----------------------------------------------------


def _leaf_paths(value: Any, known: set[str], prefix: str = "") -> Iterator[str]:
    """Dotted paths of what chartgen sets; a mapping the chart takes whole (annotations, a
    Service spec) is one leaf when the reference lists it."""
    if isinstance(value, dict) and value and prefix not in known:
        for key, item in value.items():
            yield from _leaf_paths(item, known, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


def _known_keys() -> dict[str, set[str]]:
    data = YAML(typ="safe", pure=True).load(VALUES_KEYS.read_text(encoding="utf-8"))
    return {chart: set(entry["keys"]) for chart, entry in data["charts"].items()}


@pytest.mark.parametrize(
    "case",
    [
        "platform-mytinydc",
        "platform-calico-acme-nodeport",
        "platform-cilium-ingress",
        "platform-monitoring",
    ],
)
def test_every_value_key_exists_in_the_pinned_chart(case: str) -> None:
    rendered = render_tree(load_datacenter(VALID / case / "datacenter.yaml"))
    known = _known_keys()
    for release in rendered.releases:
        if release.repository is None:
            continue
        reference = known[f"{release.chart}@{release.version}"]
        for path in _leaf_paths(dict(rendered.platform_values[release.name]), reference):
            if path:
                assert path in reference, f"{release.name}: {path} is not a value of the chart"


def test_the_reference_covers_every_pin() -> None:
    known = _known_keys()
    assert {f"{pin.chart}@{pin.version}" for pin in PINS} == set(known)


def test_metallb_runs_l2_only(root: Tree) -> None:
    assert root.values["metallb"] == {
        "frrk8s": {"enabled": False},
        "speaker": {"frr": {"enabled": False}},
    }


def test_traefik_takes_the_gateway_address_from_the_pool(root: Tree) -> None:
    values = root.values["traefik"]
    assert values["service"] == {
        "annotations": {"metallb.io/loadBalancerIPs": "192.168.1.200"},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
    }
    assert values["providers"]["kubernetesGateway"] == {"enabled": True}
    assert values["providers"]["kubernetesIngress"] == {"enabled": False}
    # chartgen's gateway chart writes the GatewayClass and the Gateway itself.
    assert values["gatewayClass"] == {"enabled": False}
    assert values["gateway"] == {"enabled": False}
    assert values["ports"]["web"] == {"port": 8000, "exposedPort": 80}
    assert values["ports"]["websecure"] == {"port": 8443, "exposedPort": 443}
    assert values["deployment"] == {"replicas": 2}
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}


def test_without_a_pool_traefik_listens_on_node_ports(acme: Tree) -> None:
    values = acme.values["traefik"]
    assert values["service"] == {"spec": {"type": "NodePort"}}
    assert values["ports"]["web"]["nodePort"] == 30080
    assert values["ports"]["websecure"]["nodePort"] == 30443
    assert "metallb" not in acme.releases
    assert acme.releases["traefik"].needs == ("tigera-operator", "gateway-api")


def test_cert_manager_keeps_its_crds_and_reads_gateways_for_acme(root: Tree, acme: Tree) -> None:
    assert root.values["cert-manager"] == {"crds": {"enabled": True, "keep": True}}
    assert acme.values["cert-manager"]["config"] == {"gatewayAPI": {"enabled": True}}
    # Gateway support reads the Gateway API CRDs when cert-manager starts.
    assert "gateway-api" in acme.releases["cert-manager"].needs
    assert "gateway-api" not in root.releases["cert-manager"].needs


def test_metrics_server_reaches_kubeadm_kubelets(root: Tree) -> None:
    assert "--kubelet-insecure-tls" in root.values["metrics-server"]["args"]
    assert root.releases["metrics-server"].namespace == "kube-system"


def test_the_cni_gets_the_pod_subnet(root: Tree, acme: Tree, ingress: Tree) -> None:
    assert root.values["flannel"] == {"podCidr": "10.244.0.0/16"}
    assert root.releases["flannel"].namespace == "kube-flannel"
    assert acme.releases["tigera-operator"].needs == ("calico-crds",)
    (pool,) = acme.values["tigera-operator"]["installation"]["calicoNetwork"]["ipPools"]
    assert pool["cidr"] == "10.32.0.0/16"
    assert pool["natOutgoing"] == "Enabled"
    cilium = ingress.values["cilium"]
    assert cilium["kubeProxyReplacement"] is True
    assert (cilium["k8sServiceHost"], cilium["k8sServicePort"]) == ("192.168.50.2", 6443)
    assert cilium["ipam"] == {"mode": "kubernetes"}


def test_platform_cni_false_installs_no_cni(external: Tree) -> None:
    assert not any(name in external.releases for name in ("flannel", "calico-crds", "cilium"))
    assert "traefik" not in external.releases and "gateway-api" not in external.releases


# --- chartgen's charts of custom resources ------------------------------------------------


def test_the_pool_is_announced_in_l2(root: Tree) -> None:
    pool = root.one("chartgen-loadbalancer", "IPAddressPool")
    assert pool["metadata"]["namespace"] == "metallb-system"
    assert pool["spec"] == {"addresses": ["192.168.1.200-192.168.1.220"]}
    advertisement = root.one("chartgen-loadbalancer", "L2Advertisement")
    assert advertisement["spec"] == {"ipAddressPools": [pool["metadata"]["name"]]}


def test_selfsigned_makes_a_ca_in_the_cluster_and_no_key_in_git(root: Tree) -> None:
    objects = root.objects("chartgen-certificates")
    issuers = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "ClusterIssuer"}
    assert issuers == {
        "chartgen-selfsigned": {"selfSigned": {}},
        "chartgen-ca": {"ca": {"secretName": "chartgen-ca"}},
    }
    (ca,) = [o for o in objects if o["kind"] == "Certificate"]
    assert ca["metadata"]["namespace"] == "cert-manager"  # where a ca ClusterIssuer reads it
    assert ca["spec"]["isCA"] is True
    assert ca["spec"]["issuerRef"] == {
        "name": "chartgen-selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io",
    }  # fmt: skip
    assert not [o for o in objects if o["kind"] == "Secret"]


def test_acme_solves_http01_through_the_gateway(acme: Tree) -> None:
    (issuer,) = acme.all("chartgen-certificates", "ClusterIssuer")
    spec = issuer["spec"]["acme"]
    assert spec["email"] == "admin@example.org"
    assert spec["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert spec["solvers"] == [
        {
            "http01": {
                "gatewayHTTPRoute": {
                    "parentRefs": [
                        {
                            "name": "chartgen",
                            "namespace": "traefik",
                            "kind": "Gateway",
                            "sectionName": "http",
                        }
                    ]
                }
            }
        }
    ]


def test_acme_challenges_may_attach_from_the_gateways_namespace(acme: Tree, root: Tree) -> None:
    def allowed(tree: Tree) -> set[str]:
        (http,) = [
            listener
            for listener in tree.one("chartgen-gateway", "Gateway")["spec"]["listeners"]
            if listener["name"] == "http"
        ]
        (expression,) = http["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"]
        return set(expression["values"])

    # cert-manager's solver route lives beside the Certificate, in the Gateway's namespace.
    assert allowed(acme) == {"blog", "status", "files", "traefik"}
    assert allowed(root) == {"web", "cloud"}


def test_the_gateway_has_an_https_listener_and_certificate_per_host(root: Tree) -> None:
    gateway_class = root.one("chartgen-gateway", "GatewayClass")
    assert gateway_class["spec"] == {"controllerName": "traefik.io/gateway-controller"}
    gateway = root.one("chartgen-gateway", "Gateway")
    assert gateway["metadata"]["namespace"] == "traefik"
    assert gateway["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"]
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    assert set(listeners) == {"http", "https-cloud.mytinydc.lan", "https-web.mytinydc.lan"}
    # Traefik matches listeners to its entry points by their ports.
    assert listeners["http"]["port"] == 8000
    https = listeners["https-cloud.mytinydc.lan"]
    assert (https["port"], https["protocol"], https["hostname"]) == (
        8443, "HTTPS", "cloud.mytinydc.lan",
    )  # fmt: skip
    assert https["tls"]["certificateRefs"] == [
        {"kind": "Secret", "group": "", "name": "tls-cloud.mytinydc.lan"}
    ]
    selector = https["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"]
    assert selector == [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["cloud", "web"]}
    ]
    certificates = {
        c["spec"]["secretName"]: c["spec"] for c in root.all("chartgen-gateway", "Certificate")
    }
    assert set(certificates) == {"tls-cloud.mytinydc.lan", "tls-web.mytinydc.lan"}
    assert certificates["tls-web.mytinydc.lan"]["dnsNames"] == ["web.mytinydc.lan"]
    assert certificates["tls-web.mytinydc.lan"]["issuerRef"]["name"] == "chartgen-ca"


def test_an_external_gateway_keeps_its_class_and_asks_for_the_address(external: Tree) -> None:
    assert external.all("chartgen-gateway", "GatewayClass") == []
    gateway = external.one("chartgen-gateway", "Gateway")
    assert gateway["metadata"]["namespace"] == "chartgen-gateway"
    assert gateway["spec"]["gatewayClassName"] == "envoy"
    assert gateway["spec"]["addresses"] == [{"type": "IPAddress", "value": "172.20.0.101"}]
    assert [listener["port"] for listener in gateway["spec"]["listeners"]] == [80]
    assert external.all("chartgen-gateway", "Certificate") == []
    assert external.releases["chartgen-gateway"].needs == ()


# --- routes -------------------------------------------------------------------------------


def test_a_tls_host_gets_an_https_route_and_a_redirect(root: Tree) -> None:
    assert root.all("web", "Ingress") == []
    routes = {r["metadata"]["name"]: r["spec"] for r in root.all("web", "HTTPRoute")}
    # The chart's full name: "<release>-nginx", as its Service.
    assert set(routes) == {"web-nginx", "web-nginx-redirect"}
    main = routes["web-nginx"]
    assert main["parentRefs"] == [
        {"name": "chartgen", "namespace": "traefik", "sectionName": "https-web.mytinydc.lan"}
    ]
    assert main["hostnames"] == ["web.mytinydc.lan"]
    service = root.one("web", "Service")
    assert main["rules"][0]["backendRefs"] == [{"name": service["metadata"]["name"], "port": 80}]
    redirect = routes["web-nginx-redirect"]
    assert redirect["parentRefs"][0]["sectionName"] == "http"
    assert redirect["rules"][0]["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]


def test_a_plain_http_host_is_routed_on_the_http_listener(acme: Tree) -> None:
    (route,) = acme.all("status", "HTTPRoute")
    assert route["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert "filters" not in route["spec"]["rules"][0]
    gateway = acme.one("chartgen-gateway", "Gateway")
    names = [listener["name"] for listener in gateway["spec"]["listeners"]]
    assert "https-status.lab.example.org" not in names
    assert "https-blog.example.org" in names


def test_nextcloud_follows_the_real_scheme(root: Tree, acme: Tree) -> None:
    (route,) = [
        r for r in root.all("cloud", "HTTPRoute") if "redirect" not in r["metadata"]["name"]
    ]
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "cloud"
    php = _nextcloud_config(root, "cloud")
    assert "'overwriteprotocol' => 'https'," in php
    assert "'overwrite.cli.url' => 'https://cloud.mytinydc.lan'," in php
    notes = helm("install", "cloud", str(root.out / "charts/cloud"), "-n", "cloud", "--dry-run")
    assert "URL: https://cloud.mytinydc.lan/" in notes


def test_nextcloud_over_plain_http_says_http(tmp_path: Path) -> None:
    source = (VALID / "platform-calico-acme-nodeport" / "datacenter.yaml").read_text()
    source = source.replace("    web: nginx\n", "    web: nginx\n    expose: {tls: false}\n")
    (tmp_path / "datacenter.yaml").write_text(source)
    tree = _tree(tmp_path / "datacenter.yaml", tmp_path / "generated")
    php = _nextcloud_config(tree, "files")
    assert "'overwriteprotocol' => 'http'," in php
    assert "'overwrite.cli.url' => 'http://files.example.org'," in php


def test_the_ingress_api_uses_the_class_and_cert_manager_without_controller_annotations(
    ingress: Tree,
) -> None:
    assert "chartgen-gateway" not in ingress.releases
    assert "gateway-api" not in ingress.releases
    shop = ingress.one("shop", "Ingress")
    assert shop["spec"]["ingressClassName"] == "traefik"
    assert shop["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "chartgen-ca"}
    assert shop["spec"]["tls"] == [
        {"secretName": "tls-shop.ingress.lan", "hosts": ["shop.ingress.lan"]}
    ]
    (rule,) = shop["spec"]["rules"]
    assert rule["http"]["paths"][0]["path"] == "/store"
    values = ingress.values["traefik"]
    assert values["providers"]["kubernetesIngress"] == {"enabled": True}
    assert values["providers"]["kubernetesGateway"] == {"enabled": False}
    assert values["ingressClass"] == {"enabled": True, "name": "traefik", "isDefaultClass": False}
    # Every host is on HTTPS: the entry point redirects (an Ingress cannot say it).
    assert values["ports"]["web"]["http"]["redirections"]["entryPoint"]["to"] == "websecure"
    assert "metrics-server" in ingress.releases  # an autoscaled service
    assert ingress.all("shop", "HTTPRoute") == []


def _nextcloud_config(tree: Tree, release: str) -> str:
    (configmap,) = [
        item
        for item in tree.all(release, "ConfigMap")
        if item["metadata"]["name"].endswith("-config")
    ]
    return str(configmap["data"]["chartgen.config.php"])


def test_the_kubeadm_readme_leaves_the_cni_to_chartgen_install(root: Tree, tmp_path: Path) -> None:
    readme = (root.out / "kubeadm" / "README.md").read_text()
    assert "`chartgen install` installs flannel first" in readme
    assert "kube-flannel.yml" not in readme
    assert "chartgen install --wait" in readme
    plain = _tree(VALID / "mytinydc" / "datacenter.yaml", tmp_path / "generated")
    assert "kubectl apply -f" in (plain.out / "kubeadm" / "README.md").read_text()


# --- monitoring ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    source = VALID / "platform-monitoring" / "datacenter.yaml"
    return _tree(source, tmp_path_factory.mktemp("monitored") / "generated")


def test_monitoring_installs_after_the_namespaces_that_label_its_pods(monitored: Tree) -> None:
    names = list(monitored.releases)
    stack = monitored.releases["monitoring"]
    assert (stack.chart, stack.version, stack.namespace) == (
        "kube-prometheus-stack",
        "88.5.3",
        "monitoring",
    )
    assert "chartgen-namespaces" in stack.needs and stack.wait and stack.platform
    assert "monitoring" not in monitored.releases["chartgen-namespaces"].needs
    # releases.yaml lists every release after the ones it needs (the GitOps sync waves rely on it)
    assert names.index("chartgen-namespaces") < names.index("monitoring")
    assert names.index("monitoring") < names.index("chartgen-monitoring")
    rules = monitored.releases["chartgen-monitoring"]
    assert rules.needs == ("monitoring",)
    assert rules.crds == ("prometheusrules.monitoring.coreos.com",)
    labels = {
        item["metadata"]["name"]: item["metadata"]["labels"]
        for item in monitored.objects("chartgen-namespaces")
    }
    assert labels["monitoring"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["monitoring-nodes"]["pod-security.kubernetes.io/enforce"] == "privileged"
    values = monitored.values["monitoring"]
    assert values["prometheus-node-exporter"] == {"namespaceOverride": "monitoring-nodes"}


def test_scraped_services_wait_for_the_podmonitor_crd(monitored: Tree) -> None:
    for service in ("web",):
        release = monitored.releases[service]
        assert "monitoring" in release.needs
        assert "podmonitors.monitoring.coreos.com" in release.crds
    # an arbitrary image has no exporter: the app service gets no PodMonitor, hence no wait
    assert "monitoring" not in monitored.releases["api"].needs
    assert not any(item["kind"] == "PodMonitor" for item in monitored.objects("api"))


def test_prometheus_reads_every_monitor_and_rule_of_the_cluster(monitored: Tree) -> None:
    spec = monitored.values["monitoring"]["prometheus"]["prometheusSpec"]
    for key in ("serviceMonitor", "podMonitor", "rule"):
        assert spec[f"{key}SelectorNilUsesHelmValues"] is False
    # on the node's disk: capped in bytes besides the stack's 10 days (the operator's ByteSize)
    assert re.fullmatch(r"(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)", spec["retentionSize"])


def test_an_alertmanager_config_in_the_stacks_namespace_gets_every_alert(monitored: Tree) -> None:
    """The README's way to be notified: one AlertmanagerConfig in namespace monitoring, with no
    matcher on its own namespace added by the operator."""
    spec = monitored.values["monitoring"]["alertmanager"]["alertmanagerSpec"]
    assert spec == {
        "alertmanagerConfigMatcherStrategy": {"type": "OnNamespaceExceptForAlertmanagerNamespace"}
    }


def test_nginx_exporter_reads_stub_status_on_loopback(monitored: Tree) -> None:
    deployment = monitored.one("web", "Deployment")
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    exporter = containers["metrics"]
    assert "--nginx.scrape-uri=http://127.0.0.1:8081/stub_status" in exporter["args"]
    assert exporter["securityContext"]["readOnlyRootFilesystem"] is True
    assert exporter["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert exporter["resources"]["limits"]["memory"]
    config = monitored.one("web", "ConfigMap", "web-nginx")["data"]["default.conf"]
    assert "listen 127.0.0.1:8081;" in config and "stub_status;" in config
    monitor = monitored.one("web", "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert (
        monitor["spec"]["selector"]["matchLabels"]
        == (deployment["spec"]["selector"]["matchLabels"])
    )
    policy = monitored.one("web", "NetworkPolicy")
    metrics_rule = policy["spec"]["ingress"][1]
    assert metrics_rule["ports"] == [{"port": 9113, "protocol": "TCP"}]


def test_without_monitoring_nginx_has_no_exporter(root: Tree) -> None:
    deployment = root.one("web", "Deployment")
    names = [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert names == ["nginx"]
    assert not any(item["kind"] == "PodMonitor" for item in root.objects("web"))
    assert "monitoring" not in root.releases


def test_alerts_and_dashboards(monitored: Tree) -> None:
    rule = monitored.one("chartgen-monitoring", "PrometheusRule")
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert alerts == [
        "ChartgenServiceWithoutReadyPods",
        "ChartgenReplicasOnOneNode",
        "ChartgenVolumeAlmostFull",
        "ChartgenBackupLate",
    ]
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    assert 'namespace=~"api|cloud|web"' in exprs
    assert "kube_cronjob_status_last_successful_time" in exprs
    assert "kubelet_volume_stats_available_bytes" in exprs
    dashboards = [
        item for item in monitored.objects("chartgen-monitoring") if item["kind"] == "ConfigMap"
    ]
    assert sorted(item["metadata"]["name"] for item in dashboards) == [
        "chartgen-monitoring-app",
        "chartgen-monitoring-nextcloud",
        "chartgen-monitoring-nginx",
    ]
    for item in dashboards:
        assert item["metadata"]["labels"]["grafana_dashboard"] == "1"
        (text,) = item["data"].values()
        board = json.loads(text)
        assert board["panels"] and all(p["targets"][0]["expr"] for p in board["panels"])


def test_promtool_accepts_the_alerts(monitored: Tree, tmp_path: Path) -> None:
    rule = monitored.one("chartgen-monitoring", "PrometheusRule")
    path = tmp_path / "rules.yaml"
    YAML(typ="safe", pure=True).dump(rule["spec"], path)
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: Debian package prometheus (scripts/debian-packages.txt)"
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_nextcloud_exporters_read_their_passwords_from_the_credentials_secret(
    monitored: Tree,
) -> None:
    objects = monitored.objects("cloud")
    by_name = {(item["kind"], item["metadata"]["name"]): item for item in objects}

    def exporter(kind: str, name: str) -> dict[str, Any]:
        spec = by_name[(kind, name)]["spec"]["template"]["spec"]
        (container,) = [c for c in spec["containers"] if c["name"] == "metrics"]
        return dict(container)

    postgres = exporter("StatefulSet", "cloud-postgresql")
    redis = exporter("Deployment", "cloud-redis")
    serverinfo = exporter("Deployment", "cloud-exporter")
    secrets = {
        (env["name"], env["valueFrom"]["secretKeyRef"]["key"])
        for container in (postgres, redis, serverinfo)
        for env in container["env"]
        if "valueFrom" in env
    }
    assert secrets == {
        ("DATA_SOURCE_PASS", "postgres-password"),
        ("REDIS_PASSWORD", "redis-password"),
        # a token, not the admin's password (which the admin may change in Nextcloud)
        ("NEXTCLOUD_AUTH_TOKEN", "serverinfo-token"),
    }
    assert not {env["name"] for env in serverinfo["env"]} & {
        "NEXTCLOUD_USERNAME",
        "NEXTCLOUD_PASSWORD",
    }
    for container in (postgres, redis, serverinfo):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]["memory"]
    assert {"name": "DATA_SOURCE_URI", "value": "127.0.0.1:5432/nextcloud?sslmode=disable"} in (
        postgres["env"]
    )
    assert {"name": "NEXTCLOUD_SERVER", "value": "http://cloud:80"} in serverinfo["env"]
    # Nextcloud trusts the Service's name, by which the exporter reaches it
    config = by_name[("ConfigMap", "cloud-config")]["data"]["chartgen.config.php"]
    assert "1 => 'cloud'," in config
    monitor = by_name[("PodMonitor", "cloud")]
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    policy = by_name[("NetworkPolicy", "cloud-metrics")]
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "metrics", "protocol": "TCP"}]


def test_nextcloud_hands_the_token_to_serverinfo_at_every_start(
    monitored: Tree, tmp_path: Path
) -> None:
    objects = monitored.objects("cloud")
    by_name = {(item["kind"], item["metadata"]["name"]): item for item in objects}
    pod = by_name[("Deployment", "cloud")]["spec"]["template"]["spec"]
    (nextcloud,) = [c for c in pod["containers"] if c["name"] == "nextcloud"]
    token = {
        "name": "CHARTGEN_SERVERINFO_TOKEN",
        "valueFrom": {
            "secretKeyRef": {
                "name": "cloud-credentials",
                "key": "serverinfo-token",
                "optional": True,
            }
        },
    }
    assert token in nextcloud["env"]
    (hooks,) = [v for v in pod["volumes"] if v["name"] == "hooks-before-starting"]
    assert {"key": "serverinfo-token.sh", "path": "20-chartgen-serverinfo-token.sh"} in (
        hooks["configMap"]["items"]
    )
    script = tmp_path / "serverinfo-token.sh"
    script.write_text(by_name[("ConfigMap", "cloud-hooks")]["data"]["serverinfo-token.sh"])
    # occ, as a stand-in that records its arguments, then fails as in maintenance mode
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    php = bin_dir / "php"
    php.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> {calls}\necho >> {calls}\nexit "$PHP_EXIT"\n')
    php.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CHARTGEN_SERVERINFO_TOKEN": "t0k-en_",
    }
    done = subprocess.run(["sh", str(script)], env={**env, "PHP_EXIT": "0"},
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert calls.read_text() == (
        "/var/www/html/occ|config:app:set|serverinfo|token|--value=t0k-en_|\n"
    )
    refused = subprocess.run(["sh", str(script)], env={**env, "PHP_EXIT": "1"},
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert refused.returncode == 0, "Nextcloud must start even when occ cannot run"
    assert "serverinfo token not set" in refused.stderr
    # a user's Secret without the key: nothing handed, Nextcloud starts
    calls.unlink()
    without = {**env, "CHARTGEN_SERVERINFO_TOKEN": "", "PHP_EXIT": "0"}
    missing = subprocess.run(["sh", str(script)], env=without,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert missing.returncode == 0 and not calls.exists()
    assert "no serverinfo-token in the credentials Secret" in missing.stderr


def test_without_the_exporter_no_token_is_handed(root: Tree) -> None:
    objects = root.objects("cloud")
    assert not any("serverinfo" in str(item) for item in objects if item["kind"] != "Job")


def test_no_nextcloud_exporter_where_its_image_cannot_run() -> None:
    from chartgen.kinds.nextcloud import NextcloudService, metrics_values

    dc = load_datacenter(VALID / "platform-monitoring" / "datacenter.yaml")
    service = next(s for s in dc.services if isinstance(s, NextcloudService))
    assert metrics_values(service)["nextcloud"]["enabled"] is True
    arm_only = replace(service, architectures=("arm",))
    values = metrics_values(arm_only)
    assert values["nextcloud"]["enabled"] is False
    # the exporters beside PostgreSQL and Redis run on every architecture
    assert values["postgresql"]["image"]["repository"].endswith("postgres-exporter")


def test_without_monitoring_nextcloud_has_no_exporter(root: Tree) -> None:
    objects = root.objects("cloud")
    assert not any(item["kind"] == "PodMonitor" for item in objects)
    assert not any(item["metadata"]["name"].endswith("-exporter") for item in objects)
    for item in objects:
        if item["kind"] in ("Deployment", "StatefulSet"):
            names = [c["name"] for c in item["spec"]["template"]["spec"]["containers"]]
            assert "metrics" not in names
