"""The nginx chart: behaviour of `helm template` on charts generated from datacenters."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from chartgen import __version__
from chartgen.images import NGINX
from chartgen.kinds.nginx import NginxService, app_version, chart_source
from chartgen.model import Datacenter
from chartgen.values import merge_values
from tests.chart_support import build, documents, helm, load_datacenter
from tests.conftest import CASES, REPO

BLUEPRINT = REPO / "blueprints" / "nginx"
NGINX_UID = 101

HEADER = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: lab}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10}
  - {name: w1, role: worker, arch: amd64, address: 192.168.1.11}
  - {name: w2, role: worker, arch: arm64, address: 192.168.1.12}
services:
"""

SINGLE = HEADER + "  - {name: solo, type: nginx}\n"

# Every option at once; the annotations are Helm template code that must stay text.
FULL = (
    HEADER
    + """\
  - name: busy
    type: nginx
    replicas: 2
    namespace: shop
    architectures: [arm64]
    expose: {host: shop.lab.example, port: 8081}
    image: {repository: registry.example/team/nginx-unprivileged, tag: 1.27.5-alpine-slim}
    resources: {cpu: 200m, memory: 128Mi}
    autoscaling: {maxReplicas: 7, cpuPercent: 65}
    annotations:
      example.org/fail: '{{ fail "x" }}'
      example.org/release: "{{ .Release.Name }}"
      example.org/plain: "yes"
"""
)


@dataclass(frozen=True)
class Rendered:
    """A generated chart and the objects `helm template` renders from it."""

    chart: Path
    service: NginxService
    manifest: str
    objects: tuple[dict[str, Any], ...]

    def one(self, kind: str) -> dict[str, Any]:
        found = [item for item in self.objects if item["kind"] == kind]
        assert len(found) == 1, f"{len(found)} objects of kind {kind}"
        return found[0]

    def kinds(self) -> list[str]:
        return sorted(item["kind"] for item in self.objects)

    def pod_specs(self) -> list[dict[str, Any]]:
        """Every pod spec: the Deployment's template and the test pod."""
        return [self.one("Deployment")["spec"]["template"]["spec"], self.one("Pod")["spec"]]


def nginx_service(dc: Datacenter, name: str) -> NginxService:
    service = next(entry for entry in dc.services if entry.name == name)
    assert isinstance(service, NginxService)
    return service


def helm_template(chart: Path, service: NginxService) -> str:
    return helm("template", service.name, str(chart), "--namespace", service.namespace)


def render(datacenter: Path, service_name: str, out: Path) -> Rendered:
    build(datacenter, out)
    service = nginx_service(load_datacenter(datacenter), service_name)
    chart = out / "charts" / service.name
    manifest = helm_template(chart, service)
    return Rendered(chart, service, manifest, documents(manifest))


def render_text(text: str, service_name: str, folder: Path) -> Rendered:
    folder.mkdir(parents=True)
    (folder / "datacenter.yaml").write_text(text, encoding="utf-8")
    return render(folder / "datacenter.yaml", service_name, folder / "generated")


@pytest.fixture(scope="module")
def arm_only(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    case = CASES / "valid" / "arm-only-nginx" / "datacenter.yaml"
    return render(case, "front", tmp_path_factory.mktemp("arm") / "generated")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_text(SINGLE, "solo", tmp_path_factory.mktemp("single") / "case")


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_text(FULL, "busy", tmp_path_factory.mktemp("full") / "case")


def containers(rendered: Rendered) -> Iterator[dict[str, Any]]:
    for spec in rendered.pod_specs():
        yield from spec["containers"]
        yield from spec.get("initContainers", [])


# --- the chart files ---------------------------------------------------------------------


def test_chart_yaml_carries_the_image_version(arm_only: Rendered) -> None:
    chart = YAML(typ="safe", pure=True).load((arm_only.chart / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "nginx"
    assert chart["appVersion"] == NGINX.tag.partition("-")[0]
    assert chart["kubeVersion"] == ">=1.29.0-0"
    assert 'appVersion: "' in (arm_only.chart / "Chart.yaml").read_text()


@pytest.mark.parametrize(
    ("tag", "version"),
    [("1.29.1-alpine", "1.29.1"), ("1.27.5-alpine-slim", "1.27.5"), ("1.28.0", "1.28.0")],
)
def test_app_version_is_the_version_part_of_the_tag(tag: str, version: str) -> None:
    assert app_version(tag) == version


def test_the_generated_chart_lints_strictly(arm_only: Rendered, full: Rendered) -> None:
    for rendered in (arm_only, full):
        helm("lint", "--strict", str(rendered.chart))


def test_every_generated_values_file_keeps_a_comment_on_every_key(full: Rendered) -> None:
    lines = (full.chart / "values.yaml").read_text(encoding="utf-8").splitlines()
    blueprint_keys = _commented_keys(
        (BLUEPRINT / "values.yaml").read_text(encoding="utf-8").splitlines()
    )
    assert blueprint_keys  # the blueprint documents every key ...
    # ... and every blueprint key is still documented after chartgen set its values.
    for key in blueprint_keys:
        assert any(line.strip().startswith(f"{key}:") for line in lines), key
    assert "# -- Annotations on every nginx pod" in "\n".join(lines)


def _commented_keys(lines: list[str]) -> list[str]:
    keys = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "- ")) or ":" not in stripped:
            continue
        assert lines[index - 1].strip().startswith("#"), f"no comment above: {line}"
        keys.append(stripped.partition(":")[0])
    return keys


# --- workload shape ----------------------------------------------------------------------


def test_arm_only_cluster_runs_three_spread_replicas_on_arm(arm_only: Rendered) -> None:
    deployment = arm_only.one("Deployment")
    assert deployment["spec"]["replicas"] == 3
    spec = deployment["spec"]["template"]["spec"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64", "arm"]}
            ]
        }
    ]
    [spread] = spec["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    assert spread["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_more_than_one_replica_gets_a_budget_that_lets_a_node_drain(arm_only: Rendered) -> None:
    budget = arm_only.one("PodDisruptionBudget")
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": arm_only.one("Deployment")["spec"]["selector"],
    }


def test_a_single_replica_has_no_budget_and_no_spread(single: Rendered) -> None:
    assert "PodDisruptionBudget" not in single.kinds()
    spec = single.one("Deployment")["spec"]
    assert spec["replicas"] == 1
    assert "topologySpreadConstraints" not in spec["template"]["spec"]


def test_default_architectures_are_those_of_the_schedulable_nodes(single: Rendered) -> None:
    spec = single.one("Deployment")["spec"]["template"]["spec"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    [term] = terms["nodeSelectorTerms"]
    assert term["matchExpressions"][0]["values"] == ["amd64", "arm64"]


def test_autoscaling_makes_an_hpa_and_leaves_replicas_to_it(full: Rendered) -> None:
    assert "replicas" not in full.one("Deployment")["spec"]
    hpa = full.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 7
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": full.one("Deployment")["metadata"]["name"],
    }
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"] == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 65},
    }


def test_without_autoscaling_there_is_no_hpa(arm_only: Rendered, single: Rendered) -> None:
    assert "HorizontalPodAutoscaler" not in arm_only.kinds()
    assert "HorizontalPodAutoscaler" not in single.kinds()


def test_the_image_override_replaces_the_nginx_image_only(full: Rendered) -> None:
    [nginx] = full.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert nginx["image"] == "registry.example/team/nginx-unprivileged:1.27.5-alpine-slim"
    chart = YAML(typ="safe", pure=True).load((full.chart / "Chart.yaml").read_text())
    assert chart["appVersion"] == "1.27.5"
    [test] = full.one("Pod")["spec"]["containers"]
    assert test["image"] == NGINX.reference


def test_the_catalog_image_is_used_by_default(arm_only: Rendered) -> None:
    for container in containers(arm_only):
        assert container["image"] == NGINX.reference
        assert container["imagePullPolicy"] == "IfNotPresent"


def test_resources_come_from_the_service(full: Rendered, single: Rendered) -> None:
    [nginx] = full.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert nginx["resources"] == {
        "requests": {"cpu": "200m", "memory": "128Mi"},
        "limits": {"cpu": "800m", "memory": "128Mi"},
    }
    [default] = single.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert default["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
    assert default["resources"]["limits"]["memory"] == "64Mi"


# --- network -----------------------------------------------------------------------------


def test_service_forwards_port_80_to_8080_by_default(single: Rendered) -> None:
    service = single.one("Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    [nginx] = single.one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert nginx["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert (
        service["spec"]["selector"] == single.one("Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_expose_port_sets_the_service_port(full: Rendered) -> None:
    assert full.one("Service")["spec"]["ports"][0]["port"] == 8081


def test_expose_host_makes_an_ingress_to_the_service(arm_only: Rendered) -> None:
    ingress = arm_only.one("Ingress")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "www.armlab.lan"
    [path] = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["pathType"] == "Prefix"
    assert path["backend"]["service"] == {
        "name": arm_only.one("Service")["metadata"]["name"],
        "port": {"name": "http"},
    }


def test_no_host_no_ingress(single: Rendered) -> None:
    assert "Ingress" not in single.kinds()


def test_objects_land_in_the_service_namespace(full: Rendered) -> None:
    for item in full.objects:
        assert item["metadata"]["namespace"] == "shop", item["kind"]


# --- pods: annotations, config, security -------------------------------------------------


def test_annotations_are_rendered_literally(full: Rendered) -> None:
    annotations = full.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["example.org/fail"] == '{{ fail "x" }}'
    assert annotations["example.org/release"] == "{{ .Release.Name }}"
    assert annotations["example.org/plain"] == "yes"


def test_config_checksum_is_the_hash_of_the_rendered_configmap(arm_only: Rendered) -> None:
    configmap = helm(
        "template",
        "front",
        str(arm_only.chart),
        "--namespace",
        "front",
        "--show-only",
        "templates/configmap.yaml",
    )
    # --show-only prefixes the document with its `---` and `# Source:` lines.
    body = configmap.split("\n", 2)[2]
    annotations = arm_only.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["checksum/config"] == hashlib.sha256(body.encode()).hexdigest()


def test_nginx_serves_its_configmap_server_block_and_page(arm_only: Rendered) -> None:
    data = arm_only.one("ConfigMap")["data"]
    assert "listen 8080;" in data["default.conf"]
    assert "location = /healthz" in data["default.conf"]
    assert "<title>front (armlab)</title>" in data["index.html"]
    spec = arm_only.one("Deployment")["spec"]["template"]["spec"]
    mounts = {mount["mountPath"]: mount for mount in spec["containers"][0]["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes[mounts["/etc/nginx/conf.d"]["name"]]["configMap"]["items"] == [
        {"key": "default.conf", "path": "default.conf"}
    ]
    assert volumes[mounts["/usr/share/nginx/html"]["name"]]["configMap"]["items"] == [
        {"key": "index.html", "path": "index.html"}
    ]
    # The read-only root needs writable /tmp (pid, temp files) and the cache folder.
    for path in ("/tmp", "/var/cache/nginx"):
        assert "emptyDir" in volumes[mounts[path]["name"]], path
        assert not mounts[path].get("readOnly", False)


def test_the_page_title_is_html_escaped(single: Rendered) -> None:
    assert "<title>solo (lab)</title>" in single.one("ConfigMap")["data"]["index.html"]
    evil = helm(
        "template",
        "solo",
        str(single.chart),
        "--set",
        "page.title=<script>",
        "--show-only",
        "templates/configmap.yaml",
    )
    [configmap] = documents(evil)
    assert "<script>" not in configmap["data"]["index.html"]
    assert "<title>&lt;script&gt;</title>" in configmap["data"]["index.html"]


def test_probes_check_healthz_on_the_http_port(arm_only: Rendered) -> None:
    [nginx] = arm_only.one("Deployment")["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert nginx[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe


@pytest.mark.parametrize("case", ["arm_only", "single", "full"])
def test_every_pod_and_container_is_hardened(case: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(case)
    for spec in rendered.pod_specs():
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == NGINX_UID
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in containers(rendered):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == NGINX_UID
        assert context["runAsGroup"] == NGINX_UID
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["readOnlyRootFilesystem"] is True
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        assert (
            container["resources"]["limits"]["memory"]
            == container["resources"]["requests"]["memory"]
        )
        assert not container["image"].endswith(":latest")


def test_the_test_pod_fetches_the_page_through_the_service(full: Rendered) -> None:
    pod = full.one("Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    [container] = pod["spec"]["containers"]
    service = full.one("Service")["metadata"]["name"]
    assert container["command"][0] == "wget"
    assert container["command"][-1] == f"http://{service}:8081/"
    # It runs where the service may run.
    assert pod["spec"]["affinity"] == full.one("Deployment")["spec"]["template"]["spec"]["affinity"]


def test_labels_follow_the_kubernetes_recommendations(arm_only: Rendered) -> None:
    for item in arm_only.objects:
        labels = item["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "nginx"
        assert labels["app.kubernetes.io/instance"] == "front"
        assert labels["app.kubernetes.io/version"] == NGINX.tag.partition("-")[0]
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "chartgen"
        assert labels["helm.sh/chart"] == f"nginx-{__version__}"


# --- stable, secret-free rendering ---------------------------------------------------------


def test_rendering_is_byte_for_byte_stable(full: Rendered) -> None:
    assert helm_template(full.chart, full.service) == full.manifest


def test_nothing_secret_is_rendered(arm_only: Rendered, full: Rendered) -> None:
    for rendered in (arm_only, full):
        assert "Secret" not in rendered.kinds()
        for word in ("password", "passwd", "private key", "bearer"):
            assert word not in rendered.manifest.lower()


def test_the_blueprint_uses_no_nondeterministic_helm_function() -> None:
    for path in (BLUEPRINT / "templates").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for function in ("randAlphaNum", "lookup", "now", "genCA", "uuidv4", " tpl "):
                assert function not in text, (path.name, function)


# --- the valid cases of this chart ---------------------------------------------------------

NGINX_200 = CASES / "valid" / "nginx-200"


def test_the_200_service_case_is_what_its_generator_writes() -> None:
    committed = (NGINX_200 / "datacenter.yaml").read_text(encoding="utf-8")
    assert committed == _load_generator()


def _load_generator() -> str:
    module_spec = importlib.util.spec_from_file_location("make_case", NGINX_200 / "make_case.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    text: str = module.case_text()
    return text


def test_the_200_service_case_gives_200_distinct_nginx_charts() -> None:
    dc = load_datacenter(NGINX_200 / "datacenter.yaml")
    assert len(dc.services) == 200
    sources = [chart_source(dc, nginx_service(dc, service.name)) for service in dc.services]
    defaults = (BLUEPRINT / "values.yaml").read_text(encoding="utf-8")
    values_files = {merge_values(defaults, source.values, "nginx") for source in sources}
    assert len(values_files) == 200
    assert sum(source.values["ingress"]["enabled"] for source in sources) == 40
    assert sum(source.values["autoscaling"]["enabled"] for source in sources) == 28


def _leaf_keys(tree: Any, prefix: str = "") -> list[str]:
    if isinstance(tree, dict) and tree:
        return [
            key for name, value in tree.items() for key in _leaf_keys(value, f"{prefix}{name}.")
        ]
    return [prefix.rstrip(".")]


def test_the_readme_lists_every_value() -> None:
    defaults = YAML(typ="safe", pure=True).load((BLUEPRINT / "values.yaml").read_text())
    readme = (BLUEPRINT / "README.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    assert listed == set(_leaf_keys(defaults))
