"""Backups of a Nextcloud's database: the CronJob's dump script and the commands of `chartgen
restore` against a real PostgreSQL server, and `chartgen backup / restore` against a fake
kubectl that records what it is asked to run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.database_backup import (
    Target,
    dump_argv,
    dump_command,
    fingerprint_argv,
    maintenance_argv,
    restore_argv,
    restore_command,
    target_of,
)
from chartgen.helm_args import Connection
from chartgen.plan import read_plan
from tests.chart_support import build, documents, helm
from tests.install_fixtures import Postgres, postgres, root_tree

__all__ = ["postgres", "root_tree"]  # fixtures used here

DATACENTER = """\
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
    storage: {size: 5Gi}
    database:
      storage: {size: 1Gi}
      backup: {schedule: "15 3 * * *", keep: 2, storage: {size: 4Gi}}
"""
DUMP_NAME = re.compile(r"^nextcloud-[0-9]{8}T[0-9]{6}Z\.dump$")


@pytest.fixture(scope="module")
def backup_chart(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    folder = tmp_path_factory.mktemp("backup-chart")
    (folder / "datacenter.yaml").write_text(DATACENTER, encoding="utf-8")
    build(folder / "datacenter.yaml", folder / "generated")
    chart = folder / "generated" / "charts" / "solo"
    return list(documents(helm("template", "solo", str(chart), "--namespace", "office")))


def _named(objects: list[dict[str, object]], kind: str, name: str) -> dict[str, object]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]  # type: ignore[index]
    assert len(found) == 1
    return found[0]


# --- the chart ----------------------------------------------------------------------------


def test_backup_cronjob_dumps_as_postgres_into_its_own_claim(
    backup_chart: list[dict[str, object]],
) -> None:
    cronjob: dict[str, object] = _named(backup_chart, "CronJob", "solo-backup")
    spec = cronjob["spec"]
    assert spec["schedule"] == "15 3 * * *"  # type: ignore[index]
    assert spec["concurrencyPolicy"] == "Forbid"  # type: ignore[index]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[index]
    assert pod["securityContext"]["runAsUser"] == 999
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"].startswith("docker.io/library/postgres:")
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    env = {item["name"]: item for item in container["env"]}
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "solo-credentials",
        "key": "postgres-password",
    }
    assert env["PGHOST"]["value"] == "solo-postgresql"
    assert env["BACKUP_KEEP"]["value"] == "2"
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["backup"]["persistentVolumeClaim"]["claimName"] == "solo-backup"
    # A local class: pinned to its node, on the architectures PostgreSQL runs on.
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = {e["key"]: e["values"] for e in terms["nodeSelectorTerms"][0]["matchExpressions"]}
    assert expressions == {"kubernetes.io/arch": ["arm64"], "kubernetes.io/hostname": ["w1"]}
    claim = _named(backup_chart, "PersistentVolumeClaim", "solo-backup")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"  # type: ignore[index]
    assert claim["spec"]["resources"]["requests"]["storage"] == "4Gi"  # type: ignore[index]
    # Only the Nextcloud pods and the backups reach PostgreSQL.
    policy = _named(backup_chart, "NetworkPolicy", "solo-postgresql")
    (rule,) = policy["spec"]["ingress"]  # type: ignore[index]
    (peer,) = rule["from"]
    assert "backup" in peer["podSelector"]["matchExpressions"][0]["values"]


def test_the_backup_claim_gets_a_local_persistent_volume(tmp_path: Path) -> None:
    (tmp_path / "datacenter.yaml").write_text(DATACENTER, encoding="utf-8")
    build(tmp_path / "datacenter.yaml", tmp_path / "generated")
    storage = documents(helm("template", "storage", str(tmp_path / "generated" / "storage")))
    volumes = [item for item in storage if item["kind"] == "PersistentVolume"]
    claims = {volume["spec"]["claimRef"]["name"] for volume in volumes}
    assert "solo-backup" in claims


# --- the shell logic against a real PostgreSQL ----------------------------------------------


def _psql(server: Postgres, database: str, sql: str) -> str:
    done = subprocess.run(
        [
            *(str(server.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(server.port)),
            *("-U", "postgres", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _rows(server: Postgres, database: str) -> list[str]:
    return _psql(server, database, "SELECT id || ':' || note FROM notes ORDER BY id").split()


def test_dumps_rotate_and_restore_the_rows_written_before(
    backup_chart: list[dict[str, object]], postgres: Postgres, tmp_path: Path
) -> None:
    database = "backup_test"
    postgres.run(
        "createdb", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", database
    )
    _psql(postgres, database, "CREATE TABLE notes (id int PRIMARY KEY, note text)")
    _psql(postgres, database, "INSERT INTO notes VALUES (1, 'before'), (2, 'dump')")
    before = _rows(postgres, database)

    configmap = _named(backup_chart, "ConfigMap", "solo-backup")
    script = tmp_path / "backup.sh"
    script.write_text(configmap["data"]["backup.sh"], encoding="utf-8")  # type: ignore[index]
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / ".partial-nextcloud-19990101T000000Z.dump").write_bytes(b"killed half-way")
    cronjob = _named(backup_chart, "CronJob", "solo-backup")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    # The variables the CronJob sets, pointed at the loopback server and a temporary folder.
    env = {
        "PATH": f"{postgres.bin_dir}:{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres.port),
        "PGDATABASE": database,
        "PGUSER": "postgres",
        "PGPASSWORD": "unused with trust",
        "BACKUP_DIR": str(folder),
        "BACKUP_KEEP": "2",
    }
    assert {item["name"] for item in container["env"]} == set(env) - {"PATH"}
    written = []
    for run in range(3):
        if run:
            time.sleep(1.1)  # dump names have a resolution of one second
        done = subprocess.run(
            ["sh", str(script)], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        written.append(done.stdout.split()[1])
    assert all(DUMP_NAME.match(name) for name in written)
    assert sorted(written) == written
    # keep: 2: the two newest, nothing partial.
    assert sorted(path.name for path in folder.iterdir()) == written[1:]

    _psql(postgres, database, "DELETE FROM notes; INSERT INTO notes VALUES (3, 'after')")
    after = _rows(postgres, database)
    pod_env = {
        "PATH": env["PATH"],
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres.port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": database,
    }
    # `chartgen backup`'s dump command, as it runs in the PostgreSQL pod.
    on_demand = tmp_path / "on-demand.dump"
    with on_demand.open("wb") as sink:
        subprocess.run(dump_command(), env=pod_env, stdout=sink, check=True)
    assert on_demand.read_bytes().startswith(b"PGDMP")

    def restore(dump: Path) -> None:
        with dump.open("rb") as source:
            subprocess.run(restore_command(), env=pod_env, stdin=source, check=True)

    restore(folder / written[-1])
    assert _rows(postgres, database) == before
    restore(on_demand)
    assert _rows(postgres, database) == after


# --- the commands, with a fake kubectl ------------------------------------------------------

FAKE_KUBECTL = """\
#!{python}
import json, os, sys
log = os.environ["FAKE_KUBECTL_LOG"]
argv = sys.argv[1:]
with open(log, "a") as calls:
    calls.write(json.dumps(argv) + "\\n")
fail = os.environ.get("FAKE_KUBECTL_FAIL")
if fail and fail in " ".join(argv):
    sys.stderr.write("error: boom\\n")
    sys.exit(1)
if "pg_dump" in " ".join(argv):
    sys.stdout.buffer.write(b"PGDMP a dump")
elif "pg_restore" in " ".join(argv):
    with open(log + ".stdin", "wb") as seen:
        seen.write(sys.stdin.buffer.read())
"""


@pytest.fixture
def fake_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kubectl on PATH (and none in the tools folder) that logs its argv; returns the log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable), encoding="utf-8")
    kubectl.chmod(0o755)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("CHARTGEN_TOOLS_DIR", str(empty))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "kubectl.log"
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    monkeypatch.delenv("FAKE_KUBECTL_FAIL", raising=False)
    return log


def _calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def test_argv_of_each_step() -> None:
    target = Target("cloud", "office", "cloud", "cloud-postgresql-0")
    connection = Connection(Path("/k/config"), "lab")
    assert maintenance_argv(target, True, connection) == [
        "--kubeconfig", "/k/config", "--context", "lab",
        "exec", "--namespace", "office", "deployment/cloud", "--container", "nextcloud",
        "--", "php", "/var/www/html/occ", "maintenance:mode", "--on",
    ]  # fmt: skip
    assert maintenance_argv(target, False, Connection())[-1] == "--off"
    assert dump_argv(target, Connection()) == [
        "exec", "--namespace", "office", "cloud-postgresql-0", "--container", "postgresql",
        "--", *dump_command(),
    ]  # fmt: skip
    assert restore_argv(target, Connection()) == [
        "exec", "--stdin", "--namespace", "office", "cloud-postgresql-0",
        "--container", "postgresql", "--", *restore_command(),
    ]  # fmt: skip
    assert fingerprint_argv(target, Connection())[-1] == "maintenance:data-fingerprint"
    assert "--clean" in restore_command()[-1] and "--if-exists" in restore_command()[-1]
    assert "--format=custom" in dump_command()[-1]


def test_backup_dumps_between_maintenance_on_and_off(
    root_tree: Path, fake_kubectl: Path, tmp_path: Path
) -> None:
    target = target_of(read_plan(root_tree), "cloud")
    dump = tmp_path / "cloud.dump"
    code, out, err = _invoke("backup", "cloud", str(root_tree), "--to", str(dump))
    assert (code, err) == (0, ""), err
    assert out == f"wrote {dump} (12 bytes)\n"
    assert dump.read_bytes() == b"PGDMP a dump"
    none = Connection()
    assert _calls(fake_kubectl) == [
        maintenance_argv(target, True, none),
        dump_argv(target, none),
        maintenance_argv(target, False, none),
    ]
    assert target.deployment == "cloud"
    assert target.database_pod == "cloud-postgresql-0" and target.namespace == "cloud"


def test_a_failed_dump_still_ends_maintenance_and_leaves_no_file(
    root_tree: Path, fake_kubectl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KUBECTL_FAIL", "pg_dump")
    code, _out, err = _invoke("backup", "cloud", str(root_tree), "--to", str(tmp_path / "x.dump"))
    assert code == 1
    assert err == (
        'chartgen: `sh -c exec pg_dump --format=custom --username="$POSTGRES_USER" '
        '--dbname="$POSTGRES_DB"` failed: error: boom\n'
    )
    steps = [call[call.index("--") + 1 :] for call in _calls(fake_kubectl)]
    assert [step[-1] for step in steps] == ["--on", dump_command()[-1], "--off"]
    assert list(tmp_path.glob("*.dump*")) == [] and list(tmp_path.glob(".x.dump*")) == []


def test_restore_loads_the_file_between_maintenance_on_and_off(
    root_tree: Path, fake_kubectl: Path, tmp_path: Path
) -> None:
    target = target_of(read_plan(root_tree), "cloud")
    dump = tmp_path / "cloud.dump"
    dump.write_bytes(b"PGDMP the saved database")
    code, out, err = _invoke("restore", "cloud", str(dump), str(root_tree))
    assert (code, err) == (0, ""), err
    assert out == f'restored the database of "cloud" from {dump}\n'
    none = Connection()
    assert _calls(fake_kubectl) == [
        maintenance_argv(target, True, none),
        restore_argv(target, none),
        fingerprint_argv(target, none),
        maintenance_argv(target, False, none),
    ]
    assert Path(f"{fake_kubectl}.stdin").read_bytes() == dump.read_bytes()


def test_a_failed_restore_still_ends_maintenance(
    root_tree: Path, fake_kubectl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "cloud.dump"
    dump.write_bytes(b"PGDMP the saved database")
    monkeypatch.setenv("FAKE_KUBECTL_FAIL", "pg_restore")
    code, _out, err = _invoke("restore", "cloud", str(dump), str(root_tree))
    assert code == 1
    assert err.startswith("chartgen: `sh -c exec pg_restore --clean --if-exists")
    assert err.endswith("` failed: error: boom\n")
    steps = [call[call.index("--") + 1 :] for call in _calls(fake_kubectl)]
    assert [step[-1] for step in steps] == ["--on", restore_command()[-1], "--off"]


def test_maintenance_left_on_is_reported_with_the_way_out(
    root_tree: Path, fake_kubectl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KUBECTL_FAIL", "--off")
    dump = tmp_path / "kept.dump"
    code, _out, err = _invoke("backup", "cloud", str(root_tree), "--to", str(dump))
    assert code == 1
    assert err == (
        "chartgen: Nextcloud stays in maintenance mode (`php /var/www/html/occ maintenance:mode "
        "--off` failed: error: boom); switch it off with `kubectl exec -n cloud "
        "deployment/cloud -c nextcloud -- php occ maintenance:mode --off`\n"
    )
    assert dump.read_bytes() == b"PGDMP a dump"  # the dump itself is whole


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backup", "nope", "{tree}"],
            'chartgen: no release "nope" in {tree} (releases: chartgen-namespaces, '
            "chartgen-storage, web, cloud)\n",
        ),
        (
            ["backup", "web", "{tree}"],
            'chartgen: "web" is not a nextcloud service (nginx chart): backup and restore '
            "handle Nextcloud databases\n",
        ),
        (
            ["restore", "cloud", "{tmp}/missing.dump", "{tree}"],
            "chartgen: {tmp}/missing.dump is not a file\n",
        ),
        (
            ["restore", "cloud", "{tmp}/notes.txt", "{tree}"],
            "chartgen: {tmp}/notes.txt is not a dump in pg_dump's custom format\n",
        ),
        (
            ["backup", "cloud", "{tree}", "--to", "{tmp}/notes.txt"],
            "chartgen: {tmp}/notes.txt exists: choose another file name\n",
        ),
    ],
)  # fmt: skip
def test_user_errors_exit_1_before_touching_the_cluster(
    args: list[str], message: str, root_tree: Path, fake_kubectl: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("not a dump\n")
    code, out, err = _invoke(*(word.format(tmp=tmp_path, tree=root_tree) for word in args))
    assert (code, out) == (1, "")
    assert err == message.format(tree=root_tree, tmp=tmp_path)
    assert _calls(fake_kubectl) == []
