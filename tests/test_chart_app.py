"""The app chart: what `helm template` renders from `app` services, per workload kind, with the
claims the storage chart must know, and user text rendered literally."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartgen.plan import read_plan
from tests.chart_support import build, documents, helm
from tests.conftest import CASES

WORKLOADS = CASES / "valid" / "app-workloads" / "datacenter.yaml"
OPTIONS = CASES / "valid" / "app-options" / "datacenter.yaml"

HEADER = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: lab}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10}
  - {name: w1, role: worker, arch: amd64, address: 192.168.1.11}
storage:
  - {name: disk, type: local, local: {node: w1, path: /srv/k8s}}
services:
"""


def template(tree: Path, release: str) -> tuple[dict[str, Any], ...]:
    plan = read_plan(tree)
    found = next(entry for entry in plan.releases if entry.name == release)
    return documents(helm("template", release, str(plan.chart_path(found)), "-n", found.namespace))


def kinds(objects: tuple[dict[str, Any], ...]) -> list[str]:
    return sorted(item["kind"] for item in objects if not _is_test(item))


def _is_test(item: dict[str, Any]) -> bool:
    return "helm.sh/hook" in (item["metadata"].get("annotations") or {})


def named(objects: tuple[dict[str, Any], ...], kind: str) -> dict[str, Any]:
    (found,) = [item for item in objects if item["kind"] == kind and not _is_test(item)]
    return found


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        spec: dict[str, Any] = workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return spec
    template_spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return template_spec


@pytest.fixture(scope="module")
def workloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("app-workloads") / "generated"
    build(WORKLOADS, tree)
    return tree


def test_each_workload_kind_renders_its_own_objects(workloads: Path) -> None:
    web = template(workloads, "monservice1")
    assert kinds(web) == [
        "ConfigMap",
        "Deployment",
        "HTTPRoute",
        "HTTPRoute",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    database = template(workloads, "monservice2")
    statefulset = named(database, "StatefulSet")
    assert statefulset["spec"]["serviceName"] == "monservice2-headless"
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["storageClassName"] == "local-worker2"
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    services = [item["metadata"]["name"] for item in database if item["kind"] == "Service"]
    assert sorted(services) == ["monservice2", "monservice2-headless"]
    agent = named(template(workloads, "monservice3"), "DaemonSet")
    assert "replicas" not in agent["spec"]
    assert pod_spec(agent)["containers"][0]["args"] == [
        "--path.rootfs=/host",
        "--web.listen-address=:9100",
    ]
    nightly = template(workloads, "nightly")
    assert "Service" not in kinds(nightly)
    cronjob = named(nightly, "CronJob")
    assert cronjob["spec"]["schedule"] == "30 3 * * *"
    spec = pod_spec(cronjob)
    assert spec["restartPolicy"] == "OnFailure"
    assert "livenessProbe" not in spec["containers"][0]


def test_the_first_tcp_port_is_routed_and_probed(workloads: Path) -> None:
    web = template(workloads, "monservice1")
    (port,) = named(web, "Service")["spec"]["ports"]
    # Without expose.port, the Service keeps the container's number: no port can collide.
    assert (port["port"], port["targetPort"]) == (8080, "http")
    container = pod_spec(named(web, "Deployment"))["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthcheck", "port": "http"}
    route = next(
        item
        for item in web
        if item["kind"] == "HTTPRoute" and not item["metadata"]["name"].endswith("-redirect")
    )
    assert route["spec"]["hostnames"] == ["news.homelab.lan"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "monservice1", "port": 8080}]


def test_secrets_are_referenced_never_rendered(workloads: Path) -> None:
    web = template(workloads, "monservice1")
    assert "Secret" not in kinds(web)
    container = pod_spec(named(web, "Deployment"))["containers"][0]
    assert container["env"] == [
        {
            "name": "DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "miniflux-db", "key": "url"}},
        }
    ]
    assert container["envFrom"] == [{"configMapRef": {"name": "monservice1-env"}}]


def test_a_local_claim_pins_the_pods_to_its_node(workloads: Path) -> None:
    statefulset = named(template(workloads, "monservice2"), "StatefulSet")
    terms = pod_spec(statefulset)["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    expressions = {entry["key"]: entry["values"] for entry in terms[0]["matchExpressions"]}
    assert expressions == {"kubernetes.io/arch": ["amd64"], "kubernetes.io/hostname": ["worker2"]}


def test_an_nginx_site_replaces_the_default_page(workloads: Path) -> None:
    site = template(workloads, "site")
    configmaps = {
        item["metadata"]["name"]: item["data"] for item in site if item["kind"] == "ConfigMap"
    }
    assert configmaps["site-nginx-site"] == {
        "file-0": "<h1>My lab</h1>\n",
        "file-1": "h1 { color: teal }\n",
    }
    assert "index.html" not in configmaps["site-nginx"]
    docs = named(template(workloads, "docs"), "Deployment")
    (init,) = pod_spec(docs)["initContainers"]
    assert init["image"] == "ghcr.io/homelab/docs-site:2026.11.2"
    assert init["command"] == ["cp", "-R", "/usr/share/nginx/html/.", "/site/"]
    page = next(v for v in pod_spec(docs)["volumes"] if v["name"] == "page")
    assert "emptyDir" in page


def test_root_lowers_its_own_namespace_to_baseline(tmp_path: Path) -> None:
    tree = tmp_path / "generated"
    build(OPTIONS, tree)
    namespaces = documents(helm("template", "ns", str(tree / "namespaces")))
    levels = {
        item["metadata"]["name"]: item["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for item in namespaces
        if item["kind"] == "Namespace"
    }
    assert levels["dns"] == "baseline"
    assert levels["1api"] == "restricted"
    dns = pod_spec(named(template(tree, "dns"), "Deployment"))
    assert dns["securityContext"]["runAsUser"] == 0
    assert dns["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
    assert named(template(tree, "dns"), "Deployment")["spec"]["template"]["spec"]["containers"][0][
        "image"
    ] == (
        "docker.io/pihole/pihole:2025.08.0"
        "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    )


LONG = "a" * 50 + "-db"  # 53 characters, the longest service name


def test_claims_on_local_classes_match_the_volumes_the_storage_chart_makes(
    tmp_path: Path,
) -> None:
    """Local PersistentVolumes are made ahead for the claims the charts will make: their
    claimRefs must name exactly those claims, long names included."""
    source = tmp_path / "datacenter.yaml"
    source.write_text(
        HEADER
        + f"""\
  - name: {LONG}
    type: app
    workload: statefulset
    replicas: 2
    architectures: [amd64]
    image: {{repository: docker.io/library/postgres, tag: "17.6"}}
    ports: [{{name: pg, port: 5432}}]
    volumes: [{{name: data, mountPath: /var/lib/postgresql/data, storage: {{size: 1Gi}}}}]
  - name: files
    type: app
    architectures: [amd64]
    image: {{repository: docker.io/example/files, tag: "1.0"}}
    volumes: [{{name: data, mountPath: /data, storage: {{class: disk, size: 2Gi}}}}]
""".replace("storage: {size: 1Gi}", "storage: {class: disk, size: 1Gi}"),
        encoding="utf-8",
    )
    tree = tmp_path / "generated"
    build(source, tree)
    storage = documents(helm("template", "s", str(tree / "storage"), "-n", "chartgen-system"))
    claimed = sorted(
        (item["spec"]["claimRef"]["namespace"], item["spec"]["claimRef"]["name"])
        for item in storage
        if item["kind"] == "PersistentVolume"
    )
    made: list[tuple[str, str]] = []
    for release, namespace in ((LONG, LONG), ("files", "files")):
        for item in template(tree, release):
            if item["kind"] == "PersistentVolumeClaim":
                made.append((namespace, item["metadata"]["name"]))
            if item["kind"] == "StatefulSet":
                for claim in item["spec"]["volumeClaimTemplates"]:
                    made.extend(
                        (namespace, f"{claim['metadata']['name']}-{item['metadata']['name']}-{n}")
                        for n in range(item["spec"]["replicas"])
                    )
    assert claimed == sorted(made)
    assert len(claimed) == 3
    assert all(len(name) <= 63 for _namespace, name in claimed)


# --- user text is data -----------------------------------------------------------------------

_HOSTILE = st.sampled_from(
    [
        "{{ .Release.Name }}",
        '{{ fail "boom" }}',
        "{{- /* */ -}}",
        "$(HOME)",
        "$$(HOME)",
        "$$",
        "$",
        "yes",
        "no",
        "~",
        "null",
        "*alias",
        "&anchor",
        "!tag",
        "a: b",
        "# not a comment",
        "0123",
        "1e3",
        "- item",
        "---",
        "line\nbreak",
        " leading",
        "trailing ",
        "tab\there",
        "quote ' and \"",
        "back\\slash",
    ]
)
_C1 = "".join(chr(code) for code in range(0x7F, 0xA0))
_TEXT = st.lists(
    st.one_of(
        _HOSTILE,
        st.text(
            # DEL and the C1 controls are refused at load time (Helm's writer drops them).
            st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters=_C1),
            max_size=8,
        ),
    ),
    min_size=1,
    max_size=4,
).map("".join)


def kubernetes_expand(text: str, defined: set[str]) -> str:
    """What the kubelet makes of a command or args string: `$$` is `$`, `$(NAME)` of a
    defined variable is its value (k8s.io/kubernetes third_party/forked/golang/expansion)."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "$" and index + 1 < len(text):
            following = text[index + 1]
            if following == "$":
                out.append("$")
                index += 2
                continue
            if following == "(":
                end = text.find(")", index + 2)
                if end != -1 and text[index + 2 : end] in defined:
                    out.append("EXPANDED")
                    index = end + 1
                    continue
        out.append(text[index])
        index += 1
    return "".join(out)


_DEFINED = re.compile(r"\$\(([^)]*)\)")


@given(env=_TEXT, content=_TEXT, argument=_TEXT)
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_env_files_and_args_render_literally(env: str, content: str, argument: str) -> None:
    service = {
        "name": "literal",
        "type": "app",
        "architectures": ["amd64"],
        "image": {"repository": "docker.io/example/literal", "tag": "1.0"},
        "ports": [{"name": "http", "port": 8080}],
        "env": {"VALUE": env},
        "args": [argument],
        "files": [{"path": "/etc/literal.conf", "content": content}],
    }
    text = HEADER.replace(
        "storage:\n  - {name: disk, type: local, local: {node: w1, path: /srv/k8s}}\n", ""
    )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "datacenter.yaml"
        source.write_text(text + "  - " + json.dumps(service) + "\n", encoding="utf-8")
        tree = Path(folder) / "generated"
        build(source, tree)
        objects = template(tree, "literal")
    configmaps = {
        item["metadata"]["name"]: item["data"] for item in objects if item["kind"] == "ConfigMap"
    }
    assert configmaps["literal-env"] == {"VALUE": env}
    assert list(configmaps["literal-files"].values()) == [content]
    (rendered,) = pod_spec(named(objects, "Deployment"))["containers"][0]["args"]
    # Every variable name the text mentions is defined, so an unescaped `$(NAME)` would change.
    defined = set(_DEFINED.findall(argument)) | {"HOME"}
    assert kubernetes_expand(rendered, defined) == argument
