"""`chartgen import compose`: Compose services become `app` services of the datacenter file.

The Compose files under tests/data/compose/ have the shapes home-lab projects publish (an app
with its database, a media server, an app built from source, a home-automation stack). Each
test copies what it needs into its own tmp_path and runs there, so that the positions in the
expected messages read as the user would see them (`gitea/compose.yaml:7:3: ...`).
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from chartgen.cli import main
from chartgen.compose.convert import convert_compose
from chartgen.compose.interpolate import interpolate_text, parse_dotenv
from chartgen.compose.merge import merge_services
from chartgen.compose.parsing import (
    docker_cpu,
    docker_memory,
    http_check,
    parse_port,
    port_name,
    shell_syntax,
    split_assignment,
    split_command,
    split_image,
)
from chartgen.loader import load_text
from tests.conftest import REPO

DATA = Path(__file__).parent / "data" / "compose"
DATACENTER = DATA / "datacenter.yaml"
PROPERTIES = settings(max_examples=60, derandomize=True, deadline=None, database=None)

ARCHS_WARNING = "architectures assumed from the nodes (amd64, arm64): check the image supports them"
NO_USER = (
    "no `user`: the pod runs as chartgen's default non-root user 65532, not the image's own; "
    "set run.user if the image needs another"
)
RESTART = "Kubernetes restarts a failed container itself"
SECRET = (
    "looks like a secret: its value would be kept in the datacenter file and the generated "
    "values; create a Secret outside git and use secretEnv instead"
)


def claim_warning(volume: str) -> str:
    return (
        f"volume `{volume}` becomes a claim of 1Gi on the default storage class: the size is a "
        "guess, set the size the data needs"
    )


def single_replica(name: str, index: int) -> str:
    return (
        f'imported as services[{index}].replicas: "{name}" runs 1 replica: a single point of '
        "failure"
    )


def host_path(path: str) -> str:
    return (
        f"host path `{path}` is not mounted: a pod may run on any node; put the data in a named "
        "volume (a claim on a storage class)"
    )


def host_ports(ports: str) -> str:
    return (
        f"host ports are not published ({ports}): in the cluster the service answers on its "
        "container ports; `expose` routes a host name to the first TCP port"
    )


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, holding the commented datacenter file."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATACENTER, tmp_path / "datacenter.yaml")
    return tmp_path


def project(lab: Path, name: str) -> Path:
    """The Compose project `name` copied into the lab; its compose.yaml, relative."""
    shutil.copytree(DATA / name, lab / name)
    return Path(name) / "compose.yaml"


def write_compose(lab: Path, text: str, folder: str = "stack") -> Path:
    (lab / folder).mkdir(exist_ok=True)
    (lab / folder / "compose.yaml").write_text(text, encoding="utf-8")
    return Path(folder) / "compose.yaml"


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def added(lab: Path) -> list[dict[str, Any]]:
    """The services after the two of the lab's datacenter file."""
    services: list[dict[str, Any]] = load(lab / "datacenter.yaml")["services"]
    return services[2:]


def run_import(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(main, ["import", "compose", *args])


def stderr_lines(result: Any) -> list[str]:
    return list(result.stderr.splitlines())


# --- (1) an app and its database ------------------------------------------------------------

GITEA_SERVER = {
    "name": "server",
    "type": "app",
    "namespace": "gitea",
    "replicas": 1,
    "architectures": ["amd64", "arm64"],
    "image": {"repository": "docker.gitea.com/gitea", "tag": "1.24.5-rootless"},
    "ports": [
        {"name": "http", "port": 3000, "protocol": "TCP"},
        {"name": "tcp-2222", "port": 2222, "protocol": "TCP"},
    ],
    "env": {
        "GITEA__database__DB_TYPE": "postgres",
        "GITEA__database__HOST": "db:5432",
        "GITEA__database__NAME": "gitea",
        "GITEA__database__USER": "gitea",
        "GITEA__database__PASSWD": "gitea",
    },
    "volumes": [
        {"name": "gitea-data", "mountPath": "/var/lib/gitea", "storage": {"size": "1Gi"}},
        {"name": "gitea-config", "mountPath": "/etc/gitea", "storage": {"size": "1Gi"}},
    ],
    "probe": {"http": {"path": "/api/healthz", "port": 3000}},
    "run": {"readOnlyRootFilesystem": False},
}
GITEA_DB = {
    "name": "db",
    "type": "app",
    "namespace": "gitea",
    "replicas": 1,
    "architectures": ["amd64", "arm64"],
    "image": {"repository": "postgres", "tag": "16.4"},
    "ports": [{"name": "postgresql", "port": 5432, "protocol": "TCP"}],
    "env": {"POSTGRES_USER": "gitea", "POSTGRES_PASSWORD": "gitea", "POSTGRES_DB": "gitea"},
    "volumes": [
        {
            "name": "db-data",
            "mountPath": "/var/lib/postgresql/data",
            "storage": {"size": "1Gi"},
        }
    ],
    # `$${POSTGRES_USER}` is Compose's escape: the shell in the container expands it.
    "probe": {"exec": ["/bin/sh", "-c", "pg_isready -U ${POSTGRES_USER}"]},
    "run": {"readOnlyRootFilesystem": False},
}
GITEA_WARNINGS = [
    "gitea/compose.yaml:2:1: warning: networks: no meaning here: the imported services share "
    "one namespace and reach each other by service name",
    f"gitea/compose.yaml:7:3: warning: services.server: {ARCHS_WARNING}",
    f"gitea/compose.yaml:7:3: warning: services.server: {single_replica('server', 2)}",
    f"gitea/compose.yaml:7:3: warning: services.server: {NO_USER}",
    "gitea/compose.yaml:9:5: warning: services.server.container_name: no meaning here: "
    "Kubernetes names the pods; other services reach this one by its service name `server`",
    f"gitea/compose.yaml:15:9: warning: services.server.environment[4]: {SECRET}",
    f"gitea/compose.yaml:16:5: warning: services.server.restart: {RESTART}",
    f"gitea/compose.yaml:20:9: warning: services.server.volumes[0]: {claim_warning('gitea-data')}",
    "gitea/compose.yaml:21:9: warning: services.server.volumes[1]: "
    + claim_warning("gitea-config"),
    f"gitea/compose.yaml:22:9: warning: services.server.volumes[2]: {host_path('/etc/timezone')}",
    f"gitea/compose.yaml:23:5: warning: services.server.ports: {host_ports('3000, 2222')}",
    "gitea/compose.yaml:28:7: warning: services.server.healthcheck.interval: interval, retries: "
    "not imported, chartgen's probe timing applies",
    "gitea/compose.yaml:30:5: warning: services.server.depends_on: not needed: services find "
    "each other by name, and Kubernetes restarts a pod until what it needs answers",
    f"gitea/compose.yaml:34:3: warning: services.db: {ARCHS_WARNING}",
    "gitea/compose.yaml:34:3: warning: services.db: declares no port: 5432, the port `postgres` "
    "listens on, is added so that the other services reach it as `db:5432`",
    f"gitea/compose.yaml:34:3: warning: services.db: {single_replica('db', 3)}",
    f"gitea/compose.yaml:34:3: warning: services.db: {NO_USER}",
    f"gitea/compose.yaml:36:5: warning: services.db.restart: {RESTART}",
    f"gitea/compose.yaml:39:26: warning: services.db.environment.POSTGRES_PASSWORD: {SECRET}",
    f"gitea/compose.yaml:44:9: warning: services.db.volumes[0]: {claim_warning('db-data')}",
    "gitea/compose.yaml:47:7: warning: services.db.healthcheck.interval: interval: not "
    "imported, chartgen's probe timing applies",
]


def test_an_app_and_its_database_are_added(runner: CliRunner, lab: Path) -> None:
    compose = project(lab, "gitea")
    result = run_import(runner, str(compose))
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == GITEA_WARNINGS
    assert result.stdout == "datacenter.yaml: added server, db\n"
    assert added(lab) == [GITEA_SERVER, GITEA_DB]


def test_the_datacenter_file_keeps_its_bytes_comments_and_order(
    runner: CliRunner, lab: Path
) -> None:
    before = (lab / "datacenter.yaml").read_text(encoding="utf-8")
    assert run_import(runner, str(project(lab, "gitea"))).exit_code == 0
    after = (lab / "datacenter.yaml").read_text(encoding="utf-8")
    # The services are inserted after the last one, before the blank line and closing comment;
    # every other byte stays (flow mappings with aligned columns included).
    cut = before.index("\n# End of the file")  # after the newline of the last service's line
    inserted = after[cut : cut + len(after) - len(before)]
    assert after == before[:cut] + inserted + before[cut:]
    assert inserted.startswith(
        "\n  # Imported from gitea/compose.yaml by `chartgen import compose`.\n  - name: server\n"
    )
    assert "\n\n  - name: db\n" in inserted  # spaced like the file's own services
    for comment in [line for line in before.splitlines() if "#" in line]:
        assert comment in after.splitlines()
    document = load(lab / "datacenter.yaml")
    assert list(document) == list(load(DATACENTER))
    assert [service["name"] for service in document["services"]] == ["web", "cloud", "server", "db"]


def test_the_result_validates_and_builds(runner: CliRunner, lab: Path) -> None:
    assert run_import(runner, str(project(lab, "gitea"))).exit_code == 0
    result = runner.invoke(main, ["build", "datacenter.yaml", "-o", "generated"])
    assert result.exit_code == 0, result.output
    for chart in ("web", "cloud", "server", "db"):
        assert (lab / "generated" / "charts" / chart / "Chart.yaml").is_file()
    values = load(lab / "generated" / "charts" / "db" / "values.yaml")
    assert values["env"] == GITEA_DB["env"]


# --- (2) a media server ----------------------------------------------------------------------

JELLYFIN = {
    "name": "jellyfin",
    "type": "app",
    "namespace": "media",
    "replicas": 1,
    "architectures": ["amd64", "arm64"],
    "image": {"repository": "jellyfin/jellyfin", "tag": "10.10.7"},
    "ports": [
        {"name": "http", "port": 8096, "protocol": "TCP"},
        {"name": "udp-7359", "port": 7359, "protocol": "UDP"},
    ],
    "env": {"JELLYFIN_PublishedServerUrl": "http://media.mytinydc.lan", "TZ": "Europe/Paris"},
    "volumes": [
        {"name": "config", "mountPath": "/config", "storage": {"size": "1Gi"}},
        {"name": "cache", "mountPath": "/cache", "storage": {"size": "1Gi"}},
    ],
    "probe": {"http": {"path": "/health", "port": 8096}},
    "run": {"user": 1000, "group": 1000, "readOnlyRootFilesystem": False},
    "resources": {"cpu": "1500m", "memory": "1Gi"},
}


def test_a_media_server_with_named_volumes_and_a_host_mount(runner: CliRunner, lab: Path) -> None:
    result = run_import(runner, str(project(lab, "jellyfin")))
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == [
        f"jellyfin/compose.yaml:3:3: warning: services.jellyfin: {ARCHS_WARNING}",
        f"jellyfin/compose.yaml:3:3: warning: services.jellyfin: {single_replica('jellyfin', 2)}",
        f"jellyfin/compose.yaml:6:5: warning: services.jellyfin.ports: {host_ports('8096, 7359')}",
        f"jellyfin/compose.yaml:13:9: warning: services.jellyfin.volumes[0]: "
        f"{claim_warning('config')}",
        f"jellyfin/compose.yaml:14:9: warning: services.jellyfin.volumes[1]: "
        f"{claim_warning('cache')}",
        f"jellyfin/compose.yaml:15:9: warning: services.jellyfin.volumes[2]: "
        f"{host_path('/srv/media')}",
        "jellyfin/compose.yaml:19:5: warning: services.jellyfin.devices: host devices are not "
        "mounted",
        "jellyfin/compose.yaml:24:11: warning: services.jellyfin.deploy.resources.limits.memory: "
        "not imported: chartgen requests the reservation and derives the limits",
        f"jellyfin/compose.yaml:30:5: warning: services.jellyfin.restart: {RESTART}",
    ]
    # The namespace is the project's top-level `name`, not the folder's.
    assert added(lab) == [JELLYFIN]


# --- (3) built from source, on the host network: refused --------------------------------------


def test_build_without_image_is_refused_with_positions(runner: CliRunner, lab: Path) -> None:
    before = (lab / "datacenter.yaml").read_bytes()
    result = run_import(runner, str(project(lab, "from-source")))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"from-source/compose.yaml:2:3: warning: services.app: {ARCHS_WARNING}\n"
        f"from-source/compose.yaml:2:3: warning: services.app: {NO_USER}\n"
        "from-source/compose.yaml:3:5: services.app.build: no image to deploy: build the image, "
        "push it to a registry the cluster can pull from, and name it in `image:`\n"
        "from-source/compose.yaml:6:5: warning: services.app.network_mode: `host` is not used: "
        "the pod has its own network, and other services reach it through its ports by service "
        "name\n"
        "from-source/compose.yaml:7:5: warning: services.app.privileged: not run privileged: "
        "chartgen's pods drop every capability and never run privileged\n"
        f"from-source/compose.yaml:9:9: warning: services.app.volumes[0]: {host_path('./data')}\n"
        f"from-source/compose.yaml:10:5: warning: services.app.restart: {RESTART}\n"
    )
    assert (lab / "datacenter.yaml").read_bytes() == before
    assert sorted(path.name for path in lab.iterdir()) == ["datacenter.yaml", "from-source"]


def test_nothing_is_written_when_the_result_does_not_validate(runner: CliRunner, lab: Path) -> None:
    # The default class is local (ReadWriteOnce): two replicas cannot share a claim; and a
    # root container cannot share the namespace of services that keep Pod Security restricted.
    text = (lab / "datacenter.yaml").read_text(encoding="utf-8")
    text = text.replace("    default: true\n", "").replace(
        "    local: {node: worker2, path: /srv/k8s}\n",
        "    local: {node: worker2, path: /srv/k8s}\n    default: true\n",
    )
    (lab / "datacenter.yaml").write_text(text, encoding="utf-8")
    compose = write_compose(
        lab,
        """\
services:
  wiki:
    image: ghcr.io/requarks/wiki:2.5.307
    user: "1000:1000"
    deploy:
      replicas: 2
    volumes:
      - wiki-data:/wiki/data
    ports: ["3000"]
  backup:
    image: docker.io/offen/docker-volume-backup:v2.43.0
    user: "0:0"
volumes:
  wiki-data:
""",
    )
    before = (lab / "datacenter.yaml").read_bytes()
    result = run_import(runner, str(compose))
    assert result.exit_code == 1
    errors = [line for line in stderr_lines(result) if ": warning: " not in line]
    assert errors == [
        "stack/compose.yaml:8:9: services.wiki.volumes[0]: imported as "
        'services[2].volumes[0].storage: "local-worker2" is a local class (ReadWriteOnce only): '
        '2 replicas cannot share the claim of volume "wiki-data"; use an nfs class, or '
        "workload: statefulset for a claim per replica",
        "stack/compose.yaml:12:11: services.backup.user: imported as services[3].run.user: "
        '0 (root) breaks Pod Security level restricted of namespace "stack", which "wiki" keep: '
        'give "backup" a namespace of its own (namespace:) or run it as another user',
    ]
    assert (lab / "datacenter.yaml").read_bytes() == before
    assert sorted(path.name for path in lab.iterdir()) == ["datacenter.yaml", "stack"]


def test_a_name_already_in_the_datacenter_is_an_error_at_the_compose_key(
    runner: CliRunner, lab: Path
) -> None:
    compose = write_compose(lab, "services:\n  web:\n    image: nginx:1.27.3\n")
    before = (lab / "datacenter.yaml").read_bytes()
    result = run_import(runner, str(compose))
    assert result.exit_code == 1
    assert (
        "stack/compose.yaml:2:3: services.web: a service named `web` exists already in "
        "datacenter.yaml"
    ) in stderr_lines(result)
    assert (lab / "datacenter.yaml").read_bytes() == before


# --- environment values are data --------------------------------------------------------------

SPECIAL_ENV = {
    # from app.env (env_file) first, then `environment`, as Compose merges them
    "FROM_FILE": "single $quoted {{ x }}",
    "DOUBLE": "a\tb",
    "EXPORTED": "1",
    "NUMBER": "5",
    "FLAG": "true",
    "VERSION": "1.10",
    "PIN": "0123",
    "EMPTY": "",
    "TEMPLATE": "{{ .Release.Name }}",
    "FAIL": '{{ fail "boom" }}',
    "PRICE": "5$",
    "LONE": "a $ b",
    "SUBSHELL": "$(id -u)",
    "ANSWER": "yes",
    "NOTHING": "null",
    "COMMENTISH": "a: b # c",
    "STAR": "*star",
    "LINES": "one\ntwo",
    "DEFAULTED": "info",
}


def test_env_values_are_strings_kept_literally(runner: CliRunner, lab: Path) -> None:
    result = run_import(runner, str(project(lab, "specials")))
    assert result.exit_code == 0, result.output
    (service,) = added(lab)
    assert service["env"] == SPECIAL_ENV
    assert all(type(value) is str for value in service["env"].values())
    # `${TAG}` comes from the .env beside the Compose file, as Compose reads it.
    assert service["image"] == {"repository": "ghcr.io/example/app", "tag": "2.4.1"}
    assert [line for line in stderr_lines(result) if "DEFAULTED" in line or "VALUE" in line] == [
        "specials/compose.yaml:20:18: warning: services.app.environment.DEFAULTED: "
        "`${LEVEL:-info}`: LEVEL is not set in .env, its default `info` is used (chartgen reads "
        "no environment)",
        "specials/app.env:4:1: warning: NOVALUE: NOVALUE has no value: Compose takes it from the "
        "environment; skipped",
    ]
    assert (
        "specials/compose.yaml:21:7: warning: services.app.environment.UNSET: UNSET has no "
        "value: Compose takes it from the environment; skipped"
    ) in stderr_lines(result)
    # ... and they reach the chart's values as they are.
    built = runner.invoke(main, ["build", "datacenter.yaml", "-o", "generated"])
    assert built.exit_code == 0, built.output
    assert load(lab / "generated" / "charts" / "app" / "values.yaml")["env"] == SPECIAL_ENV


# --- the other mappings ----------------------------------------------------------------------


def test_platform_configs_tmpfs_daemonset_and_commands(runner: CliRunner, lab: Path) -> None:
    result = run_import(runner, str(project(lab, "home-automation")))
    assert result.exit_code == 0, result.output
    homeassistant, mosquitto, exporter = added(lab)
    assert homeassistant == {
        "name": "homeassistant",
        "type": "app",
        "namespace": "home-automation",
        "replicas": 1,
        "architectures": ["arm64"],  # platform: linux/arm64
        "image": {"repository": "ghcr.io/home-assistant/home-assistant", "tag": "2025.11.1"},
        "ports": [{"name": "http", "port": 8123, "protocol": "TCP"}],  # its app_protocol
        # the tmpfs at /tmp is what an app's pods have already
        "volumes": [{"name": "ha-config", "mountPath": "/config", "storage": {"size": "1Gi"}}],
        "files": [
            {"path": "/config/packages/extra.yaml", "content": "homeassistant:\n  name: Home\n"}
        ],
        "run": {"user": 1000, "group": 1000, "readOnlyRootFilesystem": False},
    }
    assert mosquitto == {
        "name": "mosquitto",
        "type": "app",
        "namespace": "home-automation",
        "replicas": 1,
        "architectures": ["amd64", "arm64"],
        "image": {"repository": "eclipse-mosquitto", "tag": "2.0.20"},
        "args": ["mosquitto", "-c", "/mosquitto.conf"],  # Compose `command` is the CMD
        "ports": [{"name": "mqtt", "port": 1883, "protocol": "TCP"}],
        "files": [{"path": "/mosquitto.conf", "content": "listener 1883\nallow_anonymous true\n"}],
        "run": {"user": 1883, "group": 1883, "readOnlyRootFilesystem": False},
    }
    assert exporter == {
        "name": "node-exporter",
        "type": "app",
        "namespace": "home-automation",
        "workload": "daemonset",  # deploy.mode: global
        "architectures": ["amd64", "arm64"],
        "image": {"repository": "prom/node-exporter", "tag": "v1.8.2"},
        "command": ["/bin/node_exporter"],  # Compose `entrypoint` is the ENTRYPOINT
        "args": ["--path.rootfs=/host", "&&", "echo", "done"],
        "ports": [{"name": "tcp-9100", "port": 9100, "protocol": "TCP"}],
        "run": {"user": 65534, "readOnlyRootFilesystem": True},
    }
    lines = stderr_lines(result)
    prefix = "home-automation/compose.yaml"
    assert (
        f"{prefix}:1:7: warning: name: the project name `Home_Automation` is not a DNS label: the "
        "namespace is `home-automation`"
    ) in lines
    assert (
        f"{prefix}:29:5: warning: services.mosquitto.healthcheck: disabled (test NONE): no probe "
        "is imported (chartgen's default, tcp on the first port, applies)"
    ) in lines
    assert (
        f"{prefix}:39:14: warning: services.node-exporter.command: `&&` is shell syntax, but no "
        'shell runs the command (nor in Compose): write ["/bin/sh", "-c", "..."] if one is meant'
    ) in lines
    assert (
        f"{prefix}:40:5: warning: services.node-exporter.secrets: not imported, and nothing is "
        "mounted under /run/secrets: create each Secret in the cluster, outside git (kubectl -n "
        "home-automation create secret generic NAME --from-file=KEY=PATH), and pass its keys as "
        "environment with secretEnv"
    ) in lines
    assert f"{prefix}:19:5: warning: services.homeassistant.privileged: not run privileged: " in (
        "\n".join(lines)
    )


def test_dry_run_prints_the_services_and_writes_nothing(runner: CliRunner, lab: Path) -> None:
    before = (lab / "datacenter.yaml").read_bytes()
    result = run_import(runner, str(project(lab, "gitea")), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "# Imported from gitea/compose.yaml by `chartgen import compose`.\n- name: server\n"
    )
    assert YAML(typ="safe", pure=True).load(result.stdout) == [GITEA_SERVER, GITEA_DB]
    assert stderr_lines(result)[-1] == (
        "datacenter.yaml: would add server, db (dry run: nothing written)"
    )
    assert (lab / "datacenter.yaml").read_bytes() == before


def test_another_datacenter_file_with_f(runner: CliRunner, lab: Path) -> None:
    other = lab / "lab.yaml"
    shutil.copy(REPO / "tests" / "cases" / "valid" / "mytinydc" / "datacenter.yaml", other)
    result = run_import(runner, str(project(lab, "jellyfin")), "-f", "lab.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout == "lab.yaml: added jellyfin\n"
    assert load(other)["services"][2] == JELLYFIN
    assert (lab / "datacenter.yaml").read_bytes() == DATACENTER.read_bytes()


def test_a_symbolic_link_keeps_pointing_at_the_written_file(runner: CliRunner, lab: Path) -> None:
    real = lab / "real.yaml"
    (lab / "datacenter.yaml").rename(real)
    (lab / "datacenter.yaml").symlink_to("real.yaml")
    assert run_import(runner, str(project(lab, "jellyfin"))).exit_code == 0
    assert (lab / "datacenter.yaml").is_symlink()
    assert load(real)["services"][2] == JELLYFIN


@pytest.mark.parametrize(
    ("compose", "expected"),
    [
        (
            "services:\n  web:\n    image: library/nginx\n",
            "stack/compose.yaml:3:12: services.web.image: `library/nginx` has no tag: Docker "
            "pulls `latest`, which chartgen refuses; pin a version (`library/nginx:VERSION`)",
        ),
        (
            "services:\n  web:\n    image: nginx:latest\n",
            "stack/compose.yaml:3:12: services.web.image: `nginx:latest`: chartgen refuses the "
            "tag `latest`; pin a version",
        ),
        (
            f"services:\n  cache:\n    image: redis@sha256:{'a' * 64}\n",
            f"stack/compose.yaml:3:12: services.cache.image: `redis@sha256:{'a' * 64}` has a "
            f"digest but no tag: chartgen needs the tag too (`redis:TAG@sha256:{'a' * 64}`)",
        ),
        (
            "services:\n  app:\n    image: example/app:1.0\n    volumes: [data:/data]\n",
            "stack/compose.yaml:4:15: services.app.volumes[0]: refers to the undefined volume "
            "`data`",
        ),
        (
            "services:\n  app:\n    image: example/app:1.0\n    platform: linux/s390x\n",
            "stack/compose.yaml:4:15: services.app.platform: platform `linux/s390x`: chartgen "
            "runs linux/amd64, linux/arm64 and linux/arm/v7 images",
        ),
        (
            "services:\n  app:\n    image: example/app:1.0\n    command: 'echo \"unclosed'\n",
            "stack/compose.yaml:4:14: services.app.command: cannot be split into words: No "
            "closing quotation",
        ),
        (
            "services:\n  app:\n    image: example/app:1.0\n    env_file: missing.env\n",
            "stack/compose.yaml:4:15: services.app.env_file: cannot read stack/missing.env: No "
            "such file or directory",
        ),
        ("", "stack/compose.yaml:1:1: file is empty: expected a Compose file"),
        ("- a\n", "stack/compose.yaml:1:1: top level must be a mapping (services, volumes, ...)"),
        (
            "services: {\n",
            "stack/compose.yaml:2:1: YAML: while parsing a flow node, expected the "
            "node content, but found '<stream end>'",
        ),
    ],
)
def test_compose_errors_are_positioned(
    runner: CliRunner, lab: Path, compose: str, expected: str
) -> None:
    before = (lab / "datacenter.yaml").read_bytes()
    result = run_import(runner, str(write_compose(lab, compose)))
    assert result.exit_code == 1
    assert expected in stderr_lines(result), result.stderr
    assert (lab / "datacenter.yaml").read_bytes() == before


def test_an_invalid_datacenter_is_reported_first(runner: CliRunner, lab: Path) -> None:
    text = (lab / "datacenter.yaml").read_text(encoding="utf-8")
    (lab / "datacenter.yaml").write_text(text.replace("replicas: 2", "replicas: -1", 1))
    result = run_import(runner, str(project(lab, "jellyfin")))
    assert result.exit_code == 1
    assert result.stderr == (
        "datacenter.yaml:29:15: services[0].replicas: -1 is less than the minimum of 0\n"
    )


def test_missing_files_and_usage(runner: CliRunner, lab: Path) -> None:
    result = run_import(runner, "nope/compose.yaml")
    assert result.exit_code == 1
    assert result.stderr == (
        "nope/compose.yaml:1:1: cannot read the file: No such file or directory\n"
    )
    result = run_import(runner, str(project(lab, "jellyfin")), "-f", "none.yaml")
    assert result.exit_code == 1
    assert result.stderr == "none.yaml:1:1: cannot read the file: No such file or directory\n"
    assert run_import(runner).exit_code == 2
    assert run_import(runner, "a.yaml", "--no-such-option").exit_code == 2


# --- the pure pieces ---------------------------------------------------------------------------


def no_files(relative: str) -> bytes:
    raise FileNotFoundError(2, "No such file or directory", relative)


NODES: list[dict[str, Any]] = [
    {"name": "cp", "role": "control-plane", "arch": "amd64"},
    {"name": "pi", "role": "worker", "arch": "arm"},
    {"name": "big", "role": "control-plane", "arch": "arm64", "schedulable": True},
]


def convert(text: str, read: Callable[[str], bytes] = no_files) -> Any:
    return convert_compose(text, "compose.yaml", nodes=NODES, project_dir="lab", read=read)


def test_architectures_come_from_the_schedulable_nodes() -> None:
    conversion = convert("services:\n  app:\n    image: example/app:1.0\n    user: '1'\n")
    assert conversion.services[0].spec["architectures"] == ["arm64", "arm"]


def test_ports_of_every_syntax() -> None:
    conversion = convert(
        """\
services:
  dns:
    image: pihole/pihole:2025.11.0
    user: "1000"
    ports:
      - "53:53/tcp"
      - "53:53/udp"
      - 127.0.0.1:8080:80
      - "[::1]:8443:443"
      - target: 9000
        published: "9000"
        name: admin
      - "6000-6002:6000-6002"
      - 8080:80
    expose:
      - "5353/udp"
"""
    )
    assert conversion.services[0].spec["ports"] == [
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "http", "port": 80, "protocol": "TCP"},
        {"name": "https", "port": 443, "protocol": "TCP"},
        {"name": "admin", "port": 9000, "protocol": "TCP"},
        {"name": "tcp-6000", "port": 6000, "protocol": "TCP"},
        {"name": "tcp-6001", "port": 6001, "protocol": "TCP"},
        {"name": "tcp-6002", "port": 6002, "protocol": "TCP"},
        {"name": "udp-5353", "port": 5353, "protocol": "UDP"},
    ]


def test_resources_and_replicas() -> None:
    conversion = convert(
        """\
services:
  api:
    image: example/api:3.1
    user: "1000"
    scale: 3
    cpus: 0.25
    mem_limit: 1.5g
"""
    )
    spec = conversion.services[0].spec
    assert spec["replicas"] == 3
    assert spec["resources"] == {"cpu": "250m", "memory": "1536Mi"}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("postgres:16", {"repository": "postgres", "tag": "16"}),
        (
            "ghcr.io/home-assistant/home-assistant:2026.11",
            {"repository": "ghcr.io/home-assistant/home-assistant", "tag": "2026.11"},
        ),
        ("localhost:5000/app:1.0", {"repository": "localhost:5000/app", "tag": "1.0"}),
        (
            f"redis:7.4@sha256:{'0' * 64}",
            {"repository": "redis", "tag": "7.4", "digest": f"sha256:{'0' * 64}"},
        ),
        ("localhost:5000/app", "`localhost:5000/app` has no tag"),
        ("redis@sha256:abc", "`sha256:abc` is not a digest"),
    ],
)
def test_split_image(reference: str, expected: dict[str, str] | str) -> None:
    result = split_image(reference)
    if isinstance(expected, str):
        assert isinstance(result, str)
        assert result.startswith(expected)
    else:
        assert result == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80", ("", 80, 80, "TCP")),
        ("8080:80", ("8080", 80, 80, "TCP")),
        ("53:53/udp", ("53", 53, 53, "UDP")),
        ("127.0.0.1::80", ("", 80, 80, "TCP")),
        ("[::1]:8443:443", ("8443", 443, 443, "TCP")),
        ("8000-8002:9000-9002", ("8000-8002", 9000, 9002, "TCP")),
        ("0", "`0`: a port is from 1 to 65535"),
        ("http", "`http` is not a port"),
    ],
)
def test_parse_port(text: str, expected: tuple[str, int, int, str] | str) -> None:
    assert parse_port(text) == expected


def test_port_names_are_iana_names_and_unique() -> None:
    assert port_name(80, "TCP", None, set()) == "http"
    assert port_name(80, "TCP", None, {"http"}) == "tcp-80"
    assert port_name(8080, "TCP", "Web-UI", set()) == "web-ui"
    assert port_name(8080, "TCP", "a-name-far-too-long", set()) == "tcp-8080"
    assert port_name(5432, "UDP", None, set()) == "postgresql-udp"


@pytest.mark.parametrize(
    ("value", "cpu"), [("0.5", "500m"), ("2", "2"), ("1.25", "1250m"), ("0", None), ("x", None)]
)
def test_docker_cpu(value: str, cpu: str | None) -> None:
    assert docker_cpu(value) == cpu


@pytest.mark.parametrize(
    ("value", "memory"),
    [
        ("512M", "512Mi"),
        ("512m", "512Mi"),
        ("1g", "1Gi"),
        ("1.5G", "1536Mi"),
        ("2048k", "2Mi"),
        ("1048576", "1Mi"),
        ("100mb", "100Mi"),
        ("lots", None),
    ],
)
def test_docker_memory(value: str, memory: str | None) -> None:
    assert docker_memory(value) == memory


@pytest.mark.parametrize(
    ("command", "shell", "expected"),
    [
        ("curl -f http://localhost:8096/health || exit 1", True, {"path": "/health", "port": 8096}),
        ("curl -fsS http://127.0.0.1/", True, {"path": "/", "port": 80}),
        ("wget -q --spider http://localhost:3000/api", True, {"path": "/api", "port": 3000}),
        (["wget", "-qO-", "http://localhost:9000/x?y=1"], False, {"path": "/x?y=1", "port": 9000}),
        ("curl http://localhost:8096/health", True, None),  # no --fail: any answer passes
        ("curl -f https://localhost/", True, None),
        ("curl -f -H 'Host: x' http://localhost/", True, None),
        ("curl -f http://example.org/", True, None),
        ("pg_isready -U app", True, None),
    ],
)
def test_http_check(command: Any, shell: bool, expected: dict[str, Any] | None) -> None:
    assert http_check(command, shell=shell) == expected


def test_interpolation() -> None:
    variables = {"TAG": "1.2", "EMPTY": ""}
    assert interpolate_text("a$$b", variables) == ("a$b", [])
    assert interpolate_text("v${TAG}/$TAG", variables) == ("v1.2/1.2", [])
    assert interpolate_text("${EMPTY:-x}${EMPTY-y}", variables)[0] == "x"
    assert interpolate_text("${TAG:+set}${NOPE:+set}", variables) == ("set", [])
    assert interpolate_text("${NOPE:-${TAG}}", variables)[0] == "1.2"
    text, notes = interpolate_text("${NOPE}", variables)
    assert text == "${NOPE}"
    assert notes == [
        "`${NOPE}`: NOPE is not set in .env and kept as written (Compose takes it from the "
        "environment): write the value here"
    ]
    assert interpolate_text("cost: 5$ or $1", variables) == ("cost: 5$ or $1", [])


def test_dotenv() -> None:
    entries, notes = parse_dotenv(
        "# comment\n\nA=1\nexport B = two words  # note\nC='it''s'\nD=\"x\\ny\"\nE\n9X=1\nF=\n"
    )
    assert entries == [
        ("A", "1", 3),
        ("B", "two words", 4),
        ("C", "it", 5),
        ("D", "x\ny", 6),
        ("E", None, 7),
        ("F", "", 9),
    ]
    assert notes == [(8, 1, "`9X` is not a variable name: line skipped")]


def test_shell_syntax() -> None:
    assert shell_syntax(split_command("sh -c 'a && b'")) is None
    assert shell_syntax(split_command("a && b")) == "&&"
    assert shell_syntax(split_command("run > /log")) == ">"
    assert shell_syntax(split_command("echo $(id)")) == "$(id)"


def test_merge_into_a_flow_list_and_a_file_without_final_newline() -> None:
    merged = merge_services(
        "services: [{name: web, type: nginx}]  # one\nnodes: []", [{"name": "x"}], "c.yaml"
    )
    assert YAML(typ="safe").load(merged.text)["services"] == [
        {"name": "web", "type": "nginx"},
        {"name": "x"},
    ]
    assert "# Imported from c.yaml" in merged.text
    merged = merge_services("services:\n- name: web\n  type: nginx", [{"name": "x"}], "c.yaml")
    assert merged.text == (
        "services:\n- name: web\n  type: nginx\n"
        "# Imported from c.yaml by `chartgen import compose`.\n- name: x\n"
    )
    crlf = merge_services("services:\r\n  - name: web\r\n", [{"name": "x"}], "c.yaml")
    assert crlf.text == (
        "services:\r\n  - name: web\r\n"
        "  # Imported from c.yaml by `chartgen import compose`.\r\n  - name: x\r\n"
    )


# --- properties -------------------------------------------------------------------------------

# DEL and the C1 controls are refused by the datacenter loader (Helm's writer drops them).
_REFUSED = "\x00" + "".join(chr(code) for code in range(0x7F, 0xA0))
TEXT = st.text(st.characters(codec="utf-8", exclude_characters=_REFUSED))
ENV_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)


@PROPERTIES
@given(st.lists(TEXT, max_size=6))
def test_a_quoted_command_splits_back_into_its_words(words: list[str]) -> None:
    assert split_command(shlex.join(words)) == words


@PROPERTIES
@given(st.dictionaries(ENV_NAME, TEXT, max_size=6))
def test_the_list_form_of_environment_keeps_every_value(env: dict[str, str]) -> None:
    for name, value in env.items():
        assert split_assignment(f"{name}={value}") == (name, value)
        assert split_assignment(name) == (name, None)


@PROPERTIES
@given(TEXT)
def test_an_escaped_dollar_is_a_dollar(text: str) -> None:
    assert interpolate_text(text.replace("$", "$$"), {}) == (text, [])


@PROPERTIES
@given(st.dictionaries(ENV_NAME, TEXT, min_size=1, max_size=4))
def test_any_environment_value_becomes_the_same_string(env: dict[str, str]) -> None:
    """Whatever the text (YAML syntax, `{{ }}`, quotes, numbers, newlines), written into a
    Compose file by a YAML emitter with Compose's `$$` escape, it comes out as the same str."""
    compose = {
        "services": {
            "app": {
                "image": "example/app:1.0",
                "user": "1000",
                "environment": {name: value.replace("$", "$$") for name, value in env.items()},
            }
        }
    }
    import io

    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(compose, stream)
    conversion = convert(stream.getvalue())
    assert not [problem for problem in conversion.problems if problem.is_error]
    spec = conversion.services[0].spec
    assert spec["env"] == env
    assert all(type(value) is str for value in spec["env"].values())


@PROPERTIES
@given(st.dictionaries(ENV_NAME, TEXT, min_size=1, max_size=4), TEXT)
def test_merged_services_read_back_as_they_were(env: dict[str, str], content: str) -> None:
    """The YAML added to the datacenter file says exactly the data imported (the emitter quotes
    what YAML would read otherwise; a literal block holds multi-line file contents)."""
    spec = {
        "name": "app",
        "type": "app",
        "env": env,
        "files": [{"path": "/etc/app.conf", "content": content + "\n"}],
    }
    merged = merge_services(DATACENTER.read_text(encoding="utf-8"), [spec], "c.yaml")
    loaded = load_text(merged.text, "datacenter.yaml")
    assert loaded.document is not None
    assert loaded.document.data["services"][2:] == [spec]
    assert YAML(typ="safe", pure=True).load(merged.fragment) == [spec]


def messages(text: str) -> list[str]:
    return [
        problem.format()
        for problem in convert(text).problems
        if "architectures" not in problem.message and "no `user`" not in problem.message
    ]


def test_names_that_collide_once_made_dns_labels() -> None:
    found = messages("services:\n  a-b:\n    image: x:1\n  a_b:\n    image: x:1\n")
    assert (
        "compose.yaml:4:3: warning: services.a_b: not a DNS label: imported as `a-b`; services "
        "that reach it as `a_b` must use `a-b`"
    ) in found
    assert (
        "compose.yaml:4:3: services.a_b: `a-b` and `a_b` would both be imported as `a-b`: "
        "rename one"
    ) in found


def test_an_unset_variable_in_the_image_is_an_error() -> None:
    assert messages("services:\n  a:\n    image: x:${TAG}\n") == [
        "compose.yaml:3:12: warning: services.a.image: `${TAG}`: TAG is not set in .env and kept "
        "as written (Compose takes it from the environment): write the value here",
        "compose.yaml:3:12: services.a.image: `x:${TAG}` holds a variable that is not set: write "
        "the image",
    ]


def test_an_empty_entrypoint_cannot_be_expressed() -> None:
    conversion = convert("services:\n  a:\n    image: x:1\n    entrypoint: []\n    expose: [80]\n")
    assert "command" not in conversion.services[0].spec
    assert messages("services:\n  a:\n    image: x:1\n    entrypoint: ''\n    expose: [80]\n") == [
        "compose.yaml:4:5: warning: services.a.entrypoint: empty: Kubernetes runs the image's "
        "ENTRYPOINT when `command` is empty, so it cannot be cleared; give what to run"
    ]


def test_anchors_and_merge_keys_are_read() -> None:
    conversion = convert(
        "x-base: &base\n  image: x:1\n  restart: always\n"
        "services:\n  a:\n    <<: *base\n    ports: ['80']\n"
    )
    assert conversion.services[0].spec["image"] == {"repository": "x", "tag": "1"}
    assert messages(
        "x-base: &base\n  image: x:1\n  restart: always\n"
        "services:\n  a:\n    <<: *base\n    ports: ['80']\n"
    ) == [f"compose.yaml:6:5: warning: services.a.restart: {RESTART}"]


def test_python_tags_are_refused() -> None:
    assert messages("services:\n  a:\n    image: !!python/object:os.system x\n") == [
        "compose.yaml:3:12: services.a.image: tag !!python/object:os.system is not allowed"
    ]
