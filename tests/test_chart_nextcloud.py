"""The Nextcloud stack chart: behaviour of `helm template` on charts generated from datacenters."""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from chartgen import images
from chartgen.cli import main
from chartgen.kinds.nextcloud import (
    FPM_FIXED_MEMORY,
    FPM_WORKER_MEMORY,
    MAX_FPM_CHILDREN,
    MIN_FPM_CHILDREN,
    NextcloudService,
    chart_source,
    fpm_children,
    fpm_memory_needed,
    fpm_pool,
    nextcloud_version,
    php_bytes,
)
from chartgen.model import Datacenter
from chartgen.plan import read_plan
from chartgen.tools import find_kubectl
from tests.chart_support import documents, helm
from tests.chart_support import load_datacenter as load
from tests.conftest import CASES, REPO
from tests.kube_emulator import start_cluster

ROOT = REPO / "datacenter.yaml"
ARM_MIX = CASES / "valid" / "arm32-amd64-nextcloud-nginx" / "datacenter.yaml"
MI = 2**20

# One replica, data on a local default class, redis left to its default (off with one pod).
SMALL = """\
apiVersion: chartgen/v1
kind: Datacenter
metadata: {name: lab}
cluster: {kubernetesVersion: "1.31.4"}
nodes:
  - {name: cp, role: control-plane, arch: amd64, address: 192.168.1.10}
  - {name: w1, role: worker, arch: arm64, address: 192.168.1.11}
storage:
  - {name: disk, type: local, local: {node: w1, path: /srv}, default: true}
services:
  - name: solo
    type: nextcloud
    host: solo.lab.example
    namespace: office
    resources: {cpu: 500m, memory: 2Gi}
    php: {memoryLimit: 1G, uploadMaxSize: 4G}
    storage: {size: 5Gi}
    database: {storage: {size: 1Gi}}
"""


@dataclass(frozen=True)
class Rendered:
    chart: Path
    service: NextcloudService
    manifest: str
    objects: tuple[dict[str, Any], ...]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.objects if item["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [item for item in self.all(kind) if item["metadata"]["name"] == name]
        assert len(found) == 1, f"{len(found)} {kind} named {name}"
        return found[0]

    def pod_specs(self) -> dict[str, dict[str, Any]]:
        """Every pod spec of the chart, by workload."""
        specs = {
            f"{item['kind']}/{item['metadata']['name']}": item["spec"]["template"]["spec"]
            for item in self.objects
            if item["kind"] in ("Deployment", "StatefulSet", "Job")
        }
        for item in self.all("CronJob"):
            specs[f"CronJob/{item['metadata']['name']}"] = item["spec"]["jobTemplate"]["spec"][
                "template"
            ]["spec"]
        for item in self.all("Pod"):
            specs[f"Pod/{item['metadata']['name']}"] = item["spec"]
        return specs


def service_of(dc: Datacenter, name: str) -> NextcloudService:
    service = next(entry for entry in dc.services if entry.name == name)
    assert isinstance(service, NextcloudService)
    return service


def render(datacenter: Path, name: str, out: Path, *helm_args: str) -> Rendered:
    result = CliRunner().invoke(main, ["build", str(datacenter), "-o", str(out)])
    assert result.exit_code == 0, result.output
    service = service_of(load(datacenter), name)
    chart = out / "charts" / name
    manifest = helm("template", name, str(chart), "--namespace", service.namespace, *helm_args)
    return Rendered(chart, service, manifest, documents(manifest))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(ROOT, "cloud", tmp_path_factory.mktemp("root") / "generated")


@pytest.fixture(scope="module")
def arm_mix(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render(ARM_MIX, "files", tmp_path_factory.mktemp("arm") / "generated")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    folder = tmp_path_factory.mktemp("small")
    (folder / "datacenter.yaml").write_text(SMALL, encoding="utf-8")
    return render(folder / "datacenter.yaml", "solo", folder / "generated")


def arches(spec: dict[str, Any]) -> dict[str, list[str]]:
    """The required node affinity of a pod spec, as {label: values}."""
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    (term,) = terms["nodeSelectorTerms"]
    return {expr["key"]: expr["values"] for expr in term["matchExpressions"]}


def container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in spec["containers"] if item["name"] == name)


def app_spec(rendered: Rendered) -> dict[str, Any]:
    spec: dict[str, Any] = rendered.named("Deployment", rendered.service.name)["spec"]
    return spec


def config(rendered: Rendered, key: str, name: str = "") -> str:
    configmap = rendered.named("ConfigMap", name or f"{rendered.service.name}-config")
    return str(configmap["data"][key])


# --- the chart and its values ------------------------------------------------------------


def test_chart_yaml_names_the_nextcloud_version(root: Rendered) -> None:
    text = (root.chart / "Chart.yaml").read_text(encoding="utf-8")
    chart = YAML(typ="safe", pure=True).load(text)
    assert (chart["name"], chart["appVersion"]) == ("nextcloud", "31.0.9")
    assert 'appVersion: "31.0.9"' in text
    assert nextcloud_version(images.NEXTCLOUD.tag) == "31.0.9"


def test_generated_charts_lint_strictly(root: Rendered, arm_mix: Rendered) -> None:
    for rendered in (root, arm_mix):
        helm("lint", "--strict", str(rendered.chart))


def test_rendering_is_stable_and_holds_no_secret(root: Rendered) -> None:
    again = helm("template", "cloud", str(root.chart), "--namespace", "cloud")
    assert again == root.manifest
    assert root.all("Secret") == []
    for forbidden in ("randAlphaNum", "lookup", "genCA", " now "):
        for template in (root.chart / "templates").rglob("*"):
            if template.is_file():
                assert forbidden not in template.read_text(encoding="utf-8"), template


# --- the application pod -----------------------------------------------------------------


def test_fpm_and_apache_front_share_the_web_root(root: Rendered) -> None:
    spec = app_spec(root)
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 2
    assert pod["securityContext"]["runAsUser"] == 33
    assert pod["securityContext"]["runAsGroup"] == 33
    assert pod["securityContext"]["fsGroup"] == 33
    fpm, web = container(pod, "nextcloud"), container(pod, "web")
    assert fpm["image"] == images.NEXTCLOUD.reference
    assert web["image"] == images.HTTPD.reference
    assert web["command"][-1] == "/etc/chartgen/web/httpd.conf"
    mounts = {m["mountPath"]: m for m in fpm["volumeMounts"]}
    assert mounts["/var/www/html"]["name"] == "html"
    web_mounts = {m["mountPath"]: m for m in web["volumeMounts"]}
    assert web_mounts["/var/www/html"] == {
        "name": "html",
        "mountPath": "/var/www/html",
        "readOnly": True,
    }
    claim = next(v for v in pod["volumes"] if v["name"] == "html")["persistentVolumeClaim"]
    assert claim["claimName"] == "cloud-data"
    assert web["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    httpd = config(root, "httpd.conf", "cloud-web")
    assert "Listen 8080" in httpd
    assert 'SetHandler "proxy:fcgi://127.0.0.1:9000"' in httpd


def test_nginx_front_serves_the_admin_manual_server_block(arm_mix: Rendered) -> None:
    pod = app_spec(arm_mix)["template"]["spec"]
    web = container(pod, "web")
    assert web["image"] == images.NGINX.reference
    assert web["securityContext"]["runAsUser"] == 101
    nginx = config(arm_mix, "nginx.conf", "files-web")
    assert "listen 8080 default_server;" in nginx
    assert "server 127.0.0.1:9000;" in nginx
    assert "fastcgi_split_path_info" in nginx
    assert "location ^~ /.well-known" in nginx
    assert "httpd.conf" not in arm_mix.named("ConfigMap", "files-web")["data"]


def test_probes_give_the_first_start_a_long_budget(root: Rendered) -> None:
    pod = app_spec(root)["template"]["spec"]
    fpm, web = container(pod, "nextcloud"), container(pod, "web")
    startup = fpm["startupProbe"]
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 600
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = web[probe]["httpGet"]
        assert check["path"] == "/status.php"
        assert check["httpHeaders"] == [{"name": "Host", "value": "cloud.mytinydc.lan"}]
        assert probe in fpm


def test_fpm_is_probed_through_the_web_front_never_on_its_own_port(root: Rendered) -> None:
    """FPM listens on the pod's loopback only: a probe of its port on the pod IP would fail."""
    fpm = container(app_spec(root)["template"]["spec"], "nextcloud")
    assert "ports" not in fpm
    for probe in ("startupProbe", "livenessProbe"):
        check = fpm[probe]["httpGet"]
        assert (check["port"], check["path"]) == (8080, "/status.php"), probe
        assert check["httpHeaders"] == [{"name": "Host", "value": "cloud.mytinydc.lan"}]
    command = fpm["readinessProbe"]["exec"]["command"]
    assert command[:2] == ["sh", "-c"] and command[-1] == "cloud.mytinydc.lan"
    assert "http://127.0.0.1:8080/status.php" in command[2]
    for item in fpm.values():
        assert "tcpSocket" not in (item if isinstance(item, dict) else {})


def _run_probe(command: list[str], status: str | None, tmp_path: Path) -> int:
    """Runs an exec probe's `sh -c` command with a stub curl on PATH that prints `status`
    (or fails as curl -f does on an error status when `status` is None); returns the exit code.
    The stub records its arguments, so the probe must name the loopback URL and the host."""
    stub = tmp_path / "bin" / "curl"
    stub.parent.mkdir(exist_ok=True)
    body = "exit 22" if status is None else f"printf '%s' {shlex.quote(status)}"
    stub.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/curl-args\n{body}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}:{os.environ['PATH']}"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    args = (tmp_path / "curl-args").read_text()
    assert "http://127.0.0.1:8080/status.php" in args and "Host: cloud.mytinydc.lan" in args
    return done.returncode


STATUS = (
    '{"installed":%s,"maintenance":false,"needsDbUpgrade":false,"version":"31.0.9.1",'
    '"versionstring":"31.0.9","edition":"","productname":"Nextcloud","extendedSupport":false}'
)


def test_the_pod_is_ready_only_once_nextcloud_is_installed(root: Rendered, tmp_path: Path) -> None:
    """status.php's JSON (what `occ status` prints too) must say installed: a pod whose
    installation failed or has not run never gets the traffic that would reach the installer."""
    command = container(app_spec(root)["template"]["spec"], "nextcloud")["readinessProbe"]
    command = command["exec"]["command"]
    assert _run_probe(command, STATUS % "true", tmp_path) == 0
    assert _run_probe(command, STATUS % "false", tmp_path) != 0
    assert _run_probe(command, "", tmp_path) != 0
    assert _run_probe(command, None, tmp_path) != 0


def test_the_pod_waits_for_postgresql_before_nextcloud_starts(root: Rendered) -> None:
    pod = app_spec(root)["template"]["spec"]
    (wait,) = pod["initContainers"]
    assert wait["name"] == "wait-for-postgresql"
    assert wait["image"] == images.POSTGRES.reference
    sh, flag, script, name, service, user = wait["command"]
    assert (sh, flag, name, service, user) == (
        "sh",
        "-c",
        "wait-for-postgresql",
        "cloud-postgresql",
        "nextcloud",
    )
    assert 'pg_isready -q -h "$1" -p 5432 -U "$2"' in script
    assert "exit 1" in script  # bounded: the kubelet retries the pod
    assert root.named("Service", "cloud-postgresql")["spec"]["ports"][0]["port"] == 5432
    security = wait["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert wait["resources"]["limits"]["memory"]


def test_the_wait_for_postgresql_gives_up_after_a_bound(root: Rendered, tmp_path: Path) -> None:
    """With pg_isready failing and sleep a no-op, the loop ends with an error after 60 tries."""
    (wait,) = app_spec(root)["template"]["spec"]["initContainers"]
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "pg_isready").write_text(f"#!/bin/sh\necho x >> {tmp_path}/tries\nexit 2\n")
    (stubs / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {"PATH": f"{stubs}:{os.environ['PATH']}"}
    done = subprocess.run(wait["command"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "cloud-postgresql" in done.stderr
    assert len((tmp_path / "tries").read_text().splitlines()) == 60
    (stubs / "pg_isready").write_text("#!/bin/sh\nexit 0\n")
    done = subprocess.run(wait["command"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0


def test_updates_recreate_the_pods_never_mix_two_versions(
    root: Rendered, arm_mix: Rendered
) -> None:
    """Every pod shares the web root: a rolling update would run old and new code on it."""
    for rendered in (root, arm_mix):
        assert app_spec(rendered)["strategy"] == {"type": "Recreate"}
    # The budget for node drains and the spread still apply with several pods.
    assert arm_mix.all("PodDisruptionBudget")
    assert app_spec(arm_mix)["template"]["spec"]["topologySpreadConstraints"]


def test_resources_of_fpm_come_from_the_service_and_the_front_from_the_model(
    small: Rendered,
) -> None:
    pod = app_spec(small)["template"]["spec"]
    assert container(pod, "nextcloud")["resources"]["requests"] == {"cpu": "500m", "memory": "2Gi"}
    assert container(pod, "nextcloud")["resources"]["limits"]["memory"] == "2Gi"
    assert container(pod, "web")["resources"]["requests"] == {"cpu": "50m", "memory": "64Mi"}
    # 2Gi - 200Mi - memory_limit 1G leaves 824Mi: one worker at 1G and 12 more at 64Mi.
    assert "pm.max_children = 13" in config(small, "zz-chartgen.conf")


def test_php_settings_of_the_service_reach_php_ini_and_the_fronts(small: Rendered) -> None:
    ini = config(small, "zz-chartgen.ini")
    assert "memory_limit = 1G" in ini
    assert "upload_max_filesize = 4G" in ini and "post_max_size = 4G" in ini
    env = {
        e["name"]: e.get("value")
        for e in container(app_spec(small)["template"]["spec"], "nextcloud")["env"]
    }
    assert (env["PHP_MEMORY_LIMIT"], env["PHP_UPLOAD_LIMIT"]) == ("1G", "4G")
    nginx = documents(
        helm("template", "solo", str(small.chart), "-n", "office", "--set", "web.kind=nginx")
    )
    web = next(i for i in nginx if i["kind"] == "ConfigMap" and i["metadata"]["name"] == "solo-web")
    assert "client_max_body_size 4G;" in web["data"]["nginx.conf"]


@pytest.mark.parametrize(
    ("limit_mi", "php_limit", "children"),
    [
        (1024, "512M", 5),  # the default container and memory_limit
        (904, "512M", 4),  # the smallest the build accepts with 512M
        (903, "512M", 3),
        (512, "512M", 0),  # the earlier default: not one request at memory_limit fits
        (2048, "512M", 21),
        (1024, "256M", 9),
        (1024, "1G", 0),
        (8192, "512M", 32),  # capped
    ],
)
def test_fpm_workers_are_sized_from_the_memory_limit(
    limit_mi: int, php_limit: str, children: int
) -> None:
    limit = Fraction(limit_mi * MI)
    php = php_bytes(php_limit)
    assert fpm_children(limit, php) == children
    if children:
        # One request at memory_limit, the others at their realistic size, fit with the rest.
        used = FPM_FIXED_MEMORY + php + (children - 1) * FPM_WORKER_MEMORY
        assert used <= limit
        if children < MAX_FPM_CHILDREN:
            assert used + FPM_WORKER_MEMORY > limit  # one more would not
    assert (fpm_memory_needed(php) <= limit) == (children >= MIN_FPM_CHILDREN)
    pool = fpm_pool(limit, php)
    assert pool["maxChildren"] == max(1, children)
    assert pool["minSpareServers"] <= pool["startServers"] <= pool["maxSpareServers"]
    assert pool["maxSpareServers"] <= pool["maxChildren"]


@pytest.mark.parametrize(
    ("shorthand", "size"), [("512M", 512 * MI), ("1G", 2**30), ("300K", 300 * 1024), ("1000", 1000)]
)
def test_php_shorthand_sizes_are_powers_of_1024(shorthand: str, size: int) -> None:
    assert php_bytes(shorthand) == size


def test_postgresql_has_a_connection_for_every_fpm_worker(root: Rendered, small: Rendered) -> None:
    """Every FPM worker of every pod at full scale may hold a connection; PostgreSQL's memory
    holds its shared buffers and those connections."""
    for rendered, pods in ((root, 2), (small, 1)):
        pool = config(rendered, "zz-chartgen.conf")
        children = int(pool.split("pm.max_children = ")[1].split()[0])
        (database,) = rendered.all("StatefulSet")
        pg = database["spec"]["template"]["spec"]["containers"][0]
        assert pg["args"] == [
            "postgres",
            "-c",
            f"max_connections={children * pods + 5}",
            "-c",
            "shared_buffers=128MB",
        ]
        memory = pg["resources"]["limits"]["memory"]
        assert memory.endswith("Mi")
        needed = 128 + 128 + 8 * (children * pods + 5)
        assert needed <= int(memory[:-2]) < needed + 64


def test_nextcloud_configuration(root: Rendered) -> None:
    php = config(root, "chartgen.config.php")
    assert "0 => 'cloud.mytinydc.lan'," in php
    assert "0 => '10.244.0.0/16'," in php
    assert "'overwriteprotocol' => 'https'," in php
    assert "'overwrite.cli.url' => 'https://cloud.mytinydc.lan'," in php
    assert "'memcache.locking' => '\\OC\\Memcache\\Redis'," in php
    assert "getenv('CHARTGEN_REDIS_PASSWORD')" in php
    ini = config(root, "zz-chartgen.ini")
    assert "memory_limit = 512M" in ini
    assert "upload_max_filesize = 512M" in ini
    assert "session.save_handler = redis" in ini
    assert "opcache.interned_strings_buffer" in ini
    fpm = container(app_spec(root)["template"]["spec"], "nextcloud")
    targets = {m["mountPath"] for m in fpm["volumeMounts"]}
    assert "/usr/local/etc/php/conf.d/zz-chartgen.ini" in targets
    # After the image's zz-docker.conf (FPM includes php-fpm.d/*.conf in name order).
    pool = next(m for m in fpm["volumeMounts"] if m.get("subPath") == "zz-chartgen.conf")
    assert pool["mountPath"] == "/usr/local/etc/php-fpm.d/zzz-chartgen.conf"
    assert sorted(["zz-docker.conf", "zzz-chartgen.conf", "www.conf", "docker.conf"])[-1] == (
        "zzz-chartgen.conf"
    )
    assert "listen = 127.0.0.1:9000" in config(root, "zz-chartgen.conf")
    # The image's REDIS_HOST handling writes into /usr/local/etc, which uid 33 cannot.
    assert "REDIS_HOST" not in {env["name"] for env in fpm["env"]}
    env = {item["name"]: item for item in fpm["env"]}
    assert env["POSTGRES_HOST"]["value"] == "cloud-postgresql"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "cloud-credentials",
        "key": "postgres-password",
    }


def test_config_change_rolls_the_pods(root: Rendered) -> None:
    other = documents(
        helm("template", "cloud", str(root.chart), "-n", "cloud", "--set", "php.memoryLimit=1G")
    )

    def checksum(objects: tuple[dict[str, Any], ...]) -> str:
        deployment = next(item for item in objects if item["kind"] == "Deployment")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum(other) != checksum(root.objects)


def test_pod_annotations_are_rendered_literally(arm_mix: Rendered) -> None:
    annotations = app_spec(arm_mix)["template"]["metadata"]["annotations"]
    assert annotations["example.com/template-text"] == '{{ fail "x" }}'
    assert annotations["example.com/owner"] == "ops team"


# --- scaling -----------------------------------------------------------------------------


def test_several_replicas_spread_with_a_drainable_budget_and_shared_sessions(
    arm_mix: Rendered,
) -> None:
    spec = app_spec(arm_mix)
    assert spec["replicas"] == 3
    (spread,) = spec["template"]["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    (pdb,) = arm_mix.all("PodDisruptionBudget")
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": spec["selector"]["matchLabels"]},
    }
    (ingress,) = arm_mix.all("Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "files.armmix.lan"
    # No controller's annotations (no sticky cookie): every pod serves every session, kept in
    # Redis.
    assert "annotations" not in ingress["metadata"]
    assert "session.save_handler = redis" in config(arm_mix, "zz-chartgen.ini")
    claim = arm_mix.named("PersistentVolumeClaim", "files-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == "nas"  # the default class
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"


def test_one_replica_on_local_data_is_pinned_to_its_node(small: Rendered) -> None:
    spec = app_spec(small)
    assert spec["replicas"] == 1
    assert small.all("HorizontalPodAutoscaler") == []
    assert "topologySpreadConstraints" not in spec["template"]["spec"]
    assert small.all("PodDisruptionBudget") == []
    assert arches(spec["template"]["spec"]) == {
        "kubernetes.io/arch": ["arm64"],
        "kubernetes.io/hostname": ["w1"],
    }
    claim = small.named("PersistentVolumeClaim", "solo-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "annotations" not in small.all("Ingress")[0]["metadata"]


def test_autoscaling_makes_a_hpa_from_replicas_to_max(tmp_path: Path) -> None:
    text = SMALL.replace(
        "    resources:", "    autoscaling: {maxReplicas: 4, cpuPercent: 70}\n    resources:"
    ).replace(
        "type: local, local: {node: w1, path: /srv}", "type: nfs, nfs: {server: 10.0.0.9, path: /e}"
    )
    (tmp_path / "datacenter.yaml").write_text(text, encoding="utf-8")
    rendered = render(tmp_path / "datacenter.yaml", "solo", tmp_path / "generated")
    (hpa,) = rendered.all("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 4)
    metric = hpa["spec"]["metrics"][0]["resource"]["target"]
    assert metric["averageUtilization"] == 70
    assert "replicas" not in app_spec(rendered)
    assert rendered.all("PodDisruptionBudget")  # up to 4 pods: still drainable
    assert rendered.named("Deployment", "solo-redis")  # redis defaults on: up to 4 pods


# --- database, redis, network ------------------------------------------------------------


def test_postgresql_statefulset_claims_database_storage_on_its_node(root: Rendered) -> None:
    statefulset = root.named("StatefulSet", "cloud-postgresql")
    spec = statefulset["spec"]
    assert spec["replicas"] == 1
    assert spec["serviceName"] == "cloud-postgresql"
    (template,) = spec["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "data"
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert template["spec"]["storageClassName"] == "local-worker2"
    assert template["spec"]["resources"]["requests"]["storage"] == "10Gi"
    pod = spec["template"]["spec"]
    assert arches(pod) == {
        "kubernetes.io/arch": ["amd64", "arm64"],
        "kubernetes.io/hostname": ["worker2"],
    }
    assert pod["securityContext"]["runAsUser"] == 999
    postgres = container(pod, "postgresql")
    assert postgres["image"] == images.POSTGRES.reference
    assert images.POSTGRES.tag.startswith("17.")
    env = {item["name"]: item for item in postgres["env"]}
    assert env["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
    assert "pg_isready" in " ".join(postgres["readinessProbe"]["exec"]["command"])
    (service,) = [s for s in root.all("Service") if s["metadata"]["name"] == "cloud-postgresql"]
    assert service["spec"]["clusterIP"] == "None"


def test_claims_reported_to_the_storage_chart_match_the_rendered_names(root: Rendered) -> None:
    dc = load(ROOT)
    claims = {claim.name: claim for claim in chart_source(dc, service_of(dc, "cloud")).claims}
    assert set(claims) == {"cloud-data", "data-cloud-postgresql-0", "cloud-backup"}
    assert claims["cloud-data"].access_mode == "ReadWriteMany"
    assert claims["cloud-data"].storage_class == "nfs"
    assert claims["data-cloud-postgresql-0"].storage_class == "local-worker2"
    assert claims["data-cloud-postgresql-0"].namespace == "cloud"
    assert claims["cloud-backup"].storage_class == "nfs"  # database.backup of the example
    # The StatefulSet's claim is named <template>-<statefulset>-<ordinal>.
    statefulset = root.named("StatefulSet", "cloud-postgresql")
    assert "data-" + statefulset["metadata"]["name"] + "-0" == "data-cloud-postgresql-0"
    rendered_claims = {claim["metadata"]["name"] for claim in root.all("PersistentVolumeClaim")}
    assert rendered_claims == {"cloud-data", "cloud-backup"}


def test_redis_requires_its_password(root: Rendered, small: Rendered) -> None:
    redis = root.named("Deployment", "cloud-redis")
    pod = redis["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 999
    server = container(pod, "redis")
    assert server["image"] == images.REDIS.reference
    assert 'requirepass "$REDIS_PASSWORD"' in server["command"][-1]
    env = {item["name"]: item for item in server["env"]}
    assert env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "redis-password"
    # One pod: no Redis, and Nextcloud is not configured for it.
    assert [item["metadata"]["name"] for item in small.all("Deployment")] == ["solo"]
    assert not [item for item in small.objects if item["metadata"]["name"].endswith("-redis")]
    assert "redis" not in config(small, "zz-chartgen.ini")
    # Sessions in files, said explicitly; the Redis settings an earlier save may have left in
    # config.php are overridden (tests/test_nextcloud_config_merge.py runs it through PHP).
    assert "session.save_handler = files\n" in config(small, "zz-chartgen.ini")
    for key in ("memcache.distributed", "memcache.locking", "redis"):
        assert f"'{key}' => null,\n" in config(small, "chartgen.config.php")
    assert "=> null" not in config(root, "chartgen.config.php")


def test_network_policies_admit_only_the_nextcloud_pods(root: Rendered) -> None:
    php = ["app", "cron", "upgrade"]
    for name, port, clients in (
        ("cloud-postgresql", 5432, [*php, "backup"]),
        ("cloud-redis", 6379, php),
    ):
        policy = root.named("NetworkPolicy", name)["spec"]
        (rule,) = policy["ingress"]
        (source,) = rule["from"]
        assert source["podSelector"]["matchExpressions"] == [
            {"key": "app.kubernetes.io/component", "operator": "In", "values": clients}
        ]
        assert source["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "cloud"
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
    app = root.named("NetworkPolicy", "cloud")["spec"]
    assert app["ingress"] == [{"ports": [{"port": 8080, "protocol": "TCP"}]}]


# --- jobs --------------------------------------------------------------------------------


def test_cron_runs_cron_php_every_five_minutes_as_www_data(root: Rendered) -> None:
    cron = root.named("CronJob", "cloud-cron")
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 33
    (job,) = pod["containers"]
    assert job["command"] == ["php", "-f", "/var/www/html/cron.php"]
    assert job["image"] == images.NEXTCLOUD.reference
    assert pod["affinity"] == app_spec(root)["template"]["spec"]["affinity"]
    assert "background:cron" in config(root, "background-cron.sh", "cloud-hooks")


def test_credentials_hook_creates_the_secret_once_with_least_privilege(root: Rendered) -> None:
    hooks = {
        item["kind"]: item
        for item in root.objects
        if item["metadata"]["name"] == "cloud-credentials"
    }
    assert set(hooks) == {"ServiceAccount", "Role", "RoleBinding", "Job"}
    weights = {
        kind: int(item["metadata"]["annotations"]["helm.sh/hook-weight"])
        for kind, item in hooks.items()
    }
    assert max(weights["ServiceAccount"], weights["Role"], weights["RoleBinding"]) < weights["Job"]
    job = hooks["Job"]
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert job["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == (
        "before-hook-creation,hook-succeeded"
    )
    assert hooks["Role"]["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["cloud-credentials"],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    pod = job["spec"]["template"]["spec"]
    script = container(pod, "credentials")["command"][-1]
    assert "/dev/urandom" in script
    assert "NotFound" in script
    assert container(pod, "credentials")["image"] == images.KUBECTL.reference


def _run_credentials_hook(root: Rendered, kubeconfig: Path, home: Path) -> tuple[int, str]:
    pod = root.named("Job", "cloud-credentials")["spec"]["template"]["spec"]
    hook = container(pod, "credentials")
    env = {item["name"]: item["value"] for item in hook["env"]}
    env.update(
        KUBECONFIG=str(kubeconfig),
        HOME=str(home),
        # the kubectl `make test` fetches, as the hook's image has it
        PATH=f"{find_kubectl().parent}{os.pathsep}{os.environ['PATH']}",
    )
    result = subprocess.run(
        hook["command"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return result.returncode, result.stdout + result.stderr


def _url_safe_password(text: str) -> bool:
    return len(text) == 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def test_credentials_hook_creates_the_secret_with_every_key(root: Rendered, tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path / "kubeconfig")
    try:
        code, output = _run_credentials_hook(root, cluster.kubeconfig, tmp_path)
        assert (code, output) == (0, "Created Secret cloud-credentials.\n")
        secret = cluster.objects("secrets", "cloud")["cloud-credentials"]
        data = secret["stringData"]
        keys = ["admin-password", "postgres-password", "redis-password", "serverinfo-token"]
        assert sorted(data) == keys
        assert all(_url_safe_password(data[key]) for key in keys)
        assert len(set(data.values())) == 4
    finally:
        cluster.stop()


def test_credentials_hook_adds_the_token_to_an_older_secret_once(
    root: Rendered, tmp_path: Path
) -> None:
    """A Secret made by a chartgen without nextcloud-exporter's token keeps its passwords and
    gains the token; the next run changes nothing."""
    cluster = start_cluster(tmp_path / "kubeconfig")
    older = {
        "postgres-password": base64.b64encode(b"p" * 32).decode(),
        "admin-password": base64.b64encode(b"a" * 32).decode(),
        "redis-password": base64.b64encode(b"r" * 32).decode(),
    }
    cluster.put({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cloud-credentials", "namespace": "cloud"},
        "type": "Opaque",
        "data": older,
    })  # fmt: skip
    try:
        code, output = _run_credentials_hook(root, cluster.kubeconfig, tmp_path)
        assert (code, output) == (0, "Secret cloud-credentials exists: added serverinfo-token.\n")
        data = cluster.objects("secrets", "cloud")["cloud-credentials"]["data"]
        token = data.pop("serverinfo-token")
        assert data == older
        assert _url_safe_password(base64.b64decode(token).decode())

        code, output = _run_credentials_hook(root, cluster.kubeconfig, tmp_path)
        assert (code, output) == (0, "Secret cloud-credentials exists: kept as it is.\n")
        kept = cluster.objects("secrets", "cloud")["cloud-credentials"]["data"]
        assert kept == {**older, "serverinfo-token": token}
    finally:
        cluster.stop()


def test_credentials_job_runs_where_kubectl_is_published(arm_mix: Rendered) -> None:
    assert arm_mix.service.architectures == ("amd64", "arm")
    pods = arm_mix.pod_specs()
    assert arches(pods["Job/files-credentials"]) == {"kubernetes.io/arch": ["amd64"]}
    assert arches(pods["Deployment/files"])["kubernetes.io/arch"] == ["amd64", "arm"]


def test_an_existing_secret_replaces_the_hook(root: Rendered) -> None:
    objects = documents(
        helm(
            "template",
            "cloud",
            str(root.chart),
            "-n",
            "cloud",
            "--set",
            "credentials.existingSecret=my-passwords",
        )
    )
    assert not [item for item in objects if "credentials" in item["metadata"]["name"]]
    text = helm(
        "template",
        "cloud",
        str(root.chart),
        "-n",
        "cloud",
        "--set",
        "credentials.existingSecret=my-passwords",
    )
    assert "name: cloud-credentials" not in text
    assert text.count("name: my-passwords") >= 5


def test_post_upgrade_hook_adds_missing_database_structures(root: Rendered) -> None:
    job = root.named("Job", "cloud-upgrade")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade"
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 33
    script = container(pod, "upgrade")["command"][-1]
    for command in (
        "db:add-missing-indices",
        "db:add-missing-columns",
        "db:add-missing-primary-keys",
    ):
        assert f"php occ {command}" in script


# --- hardening ---------------------------------------------------------------------------


def test_every_pod_and_container_is_hardened(root: Rendered, arm_mix: Rendered) -> None:
    for rendered in (root, arm_mix):
        specs = rendered.pod_specs()
        # app, redis, postgresql, credentials, upgrade, cron, test; and the example's backup
        backup = rendered.service.backup is not None
        assert len(specs) == 7 + backup
        for where, spec in specs.items():
            assert spec["securityContext"]["runAsNonRoot"] is True, where
            assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert spec["automountServiceAccountToken"] is (
                where == f"Job/{rendered.service.name}-credentials"
            )
            assert "kubernetes.io/arch" in arches(spec) or where.startswith("Pod/"), where
            for item in spec["containers"]:
                context = item["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert set(item["resources"]) == {"requests", "limits"}, where
                assert set(item["resources"]["limits"]) == {"cpu", "memory"}, where
                assert item["imagePullPolicy"] == "IfNotPresent", where
                assert not item["image"].endswith(":latest"), where


def test_the_release_timeout_outlasts_the_upgrade_job(root: Rendered) -> None:
    """helm waits for the post-upgrade Job within the release's --timeout: a timeout shorter
    than the Job's deadline fails a slow but healthy upgrade."""
    job = root.named("Job", "cloud-upgrade")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade"
    deadline = job["spec"]["activeDeadlineSeconds"]
    assert deadline == 1200 + 1800
    plan = read_plan(root.chart.parent.parent)
    timeout = plan.release("cloud").timeout
    assert timeout is not None and timeout.endswith("m")
    assert deadline < int(timeout[:-1]) * 60 <= deadline + 600
    assert plan.release("cloud").forward_only
