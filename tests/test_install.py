"""`chartgen install / status / rollback / uninstall` with the real helm against an emulated
Kubernetes API on loopback (tests/kube_emulator.py), release records in PostgreSQL."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.helm_args import ChangeOptions
from chartgen.install import Progress, Session
from chartgen.install import install as install_releases
from chartgen.plan import read_plan
from chartgen.tools import find_helm
from tests.install_fixtures import (
    PROOF_OF_CONCEPT,
    Postgres,
    StartCluster,
    build_tree,
    cluster,
    helm_env,
    postgres,
    root_tree,
    start_emulated,
)
from tests.kube_emulator import EmulatedCluster, kubeconfig_text

__all__ = [
    "cluster",
    "helm_env",
    "postgres",
    "root_tree",
    "start_emulated",
]  # fixtures used by name below

RELEASES = ["chartgen-namespaces", "chartgen-storage", "web", "cloud"]


def _chartgen(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(argv))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _table(stdout: str) -> dict[str, list[str]]:
    """The rows of a result or status table (status: its first table), by release name."""
    rows = [line.split() for line in stdout.split("\n\n")[0].splitlines()[1:]]
    return {row[0]: row[1:] for row in rows if row and row[0] in RELEASES}


def _helm_releases() -> list[str]:
    done = subprocess.run(
        [str(find_helm().path), "list", "--all-namespaces", "--short"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return sorted(done.stdout.split())


def _replicas(cluster: EmulatedCluster, namespace: str) -> dict[str, int]:
    return {
        name: deployment["spec"]["replicas"]
        for name, deployment in cluster.objects("deployments", namespace).items()
    }


def test_install_upgrade_status_rollback_uninstall(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path
) -> None:
    code, out, err = _chartgen("install", str(root_tree))
    assert code == 0, err
    assert {name: row[1] for name, row in _table(out).items()} == dict.fromkeys(
        RELEASES, "deployed"
    )
    assert out.endswith("4 deployed\n")
    assert _helm_releases() == sorted(RELEASES)
    assert set(cluster.objects("namespaces")) >= {"chartgen-system", "web", "cloud"}
    assert set(cluster.objects("storageclasses")) == {"nfs", "local-worker2"}
    assert _replicas(cluster, "web") == {"web-nginx": 2}
    assert _replicas(cluster, "cloud")["cloud"] == 2
    assert "cloud-data" in cluster.objects("persistentvolumeclaims", "cloud")

    code, out, err = _chartgen("install", str(root_tree))
    assert code == 0, err
    assert {name: row[1] for name, row in _table(out).items()} == dict.fromkeys(
        RELEASES, "unchanged"
    )

    scaled_text = PROOF_OF_CONCEPT.read_text().replace("replicas: 2\n", "replicas: 3\n", 1)
    scaled = build_tree(scaled_text, tmp_path / "scaled")
    code, out, err = _chartgen("install", str(scaled))
    assert code == 0, err
    results = _table(out)
    assert results["web"][1:3] == ["deployed", "2"]
    assert results["cloud"][1] == "unchanged"
    assert _replicas(cluster, "web") == {"web-nginx": 3}

    code, out, err = _chartgen("status", str(scaled))
    assert code == 1, err  # no controller runs the pods: no service has a ready pod
    assert _table(out)["web"] == ["web", "2", "deployed", "nginx-0.1.0", "yes"]
    code, out, err = _chartgen("status", str(root_tree))
    assert _table(out)["web"] == ["web", "2", "deployed", "nginx-0.1.0", "no"]
    assert _table(out)["cloud"][-1] == "yes"

    code, out, err = _chartgen("rollback", "web", "-o", str(root_tree))
    assert code == 0, err
    assert _table(out)["web"][1:3] == ["rolled", "back"] and "3" in _table(out)["web"]
    assert _replicas(cluster, "web") == {"web-nginx": 2}
    code, out, err = _chartgen("status", "--output", "json", str(root_tree))
    web_status = next(one for one in json.loads(out)["releases"] if one["name"] == "web")
    assert (web_status["revision"], web_status["matchesDir"]) == (3, True)

    code, out, err = _chartgen("uninstall", str(root_tree))
    assert code == 0, err
    assert {name: row[1] for name, row in _table(out).items()} == dict.fromkeys(
        RELEASES, "uninstalled"
    )
    finished = [line.split()[0] for line in err.splitlines() if "uninstalled" in line]
    # storage after web and cloud, which claim its volumes; the namespaces last of all
    assert finished[-2:] == ["chartgen-storage", "chartgen-namespaces"]
    assert _helm_releases() == []
    assert cluster.objects("deployments", "web") == {}
    assert "cloud-data" in cluster.objects("persistentvolumeclaims", "cloud")
    assert "kept claims: cloud-data" in out


def test_storage_goes_first_and_independent_releases_in_parallel(
    cluster: EmulatedCluster, root_tree: Path
) -> None:
    events: list[Progress] = []
    session = Session(find_helm().path, on_progress=events.append)
    result = install_releases(read_plan(root_tree), session, ChangeOptions())
    assert result.ok, result.summary()
    order = [(event.release.name, event.state) for event in events if event.state != "pending"]
    # The namespaces first; then storage and web together; cloud once storage is done.
    assert order[:2] == [("chartgen-namespaces", "installing"), ("chartgen-namespaces", "deployed")]
    assert order[2:4] == [("chartgen-storage", "installing"), ("web", "installing")]
    assert order.index(("chartgen-storage", "deployed")) < order.index(("cloud", "installing"))


def test_dry_run_changes_nothing(cluster: EmulatedCluster, root_tree: Path) -> None:
    code, out, err = _chartgen("install", "--dry-run", str(root_tree))
    assert code == 0, err
    assert {name: row[1:3] for name, row in _table(out).items()} == {
        name: ["would", "install"] for name in RELEASES
    }
    assert _helm_releases() == []
    assert cluster.objects("deployments") == {}
    assert cluster.objects("namespaces") == {}


def test_a_failing_release_stops_its_dependants_only(
    start_emulated: StartCluster, root_tree: Path
) -> None:
    start_emulated(refused={"StorageClass"})
    code, out, err = _chartgen("install", str(root_tree))
    assert code == 1
    results = _table(out)
    assert results["chartgen-storage"][1] == "failed"
    assert "StorageClass is refused by this test cluster" in out
    assert results["web"][1] == "deployed"
    assert results["cloud"][1:4] == ["not", "attempted", "chartgen-storage"]
    assert err.endswith(
        "chartgen: install incomplete: 2 deployed, 1 failed (chartgen-storage), "
        "1 not attempted (cloud)\n"
    )
    # helm records the failed release too, so that a rerun upgrades it
    assert _helm_releases() == ["chartgen-namespaces", "chartgen-storage", "web"]


def test_unreachable_cluster_is_a_clear_error(
    helm_env: dict[str, str], root_tree: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kubeconfig = tmp_path / "dead"
    kubeconfig.write_text(kubeconfig_text(f"http://127.0.0.1:{port}"))
    code, out, err = _chartgen("install", "--kubeconfig", str(kubeconfig), str(root_tree))
    assert code == 1
    assert out == ""
    assert err.startswith("chartgen: cluster unreachable: ")
    assert "connection refused" in err


def test_missing_kubeconfig_tree_and_helm_are_clear_errors(
    root_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    code, _, err = _chartgen("install", str(root_tree))
    assert (code, err) == (
        1,
        f"chartgen: no kubeconfig: none of the files in KUBECONFIG exists ({tmp_path}/missing)\n",
    )
    code, _, err = _chartgen("status", str(tmp_path))
    assert (code, err) == (
        1,
        f"chartgen: {tmp_path} is not a built tree (releases.yaml is missing): "
        "run `chartgen build` first\n",
    )
    monkeypatch.delenv("CHARTGEN_HELM", raising=False)
    code, _, err = _chartgen("--helm", str(tmp_path / "no-helm"), "uninstall", str(root_tree))
    assert (code, err) == (
        1,
        f"chartgen: helm from --helm is not an executable file: {tmp_path}/no-helm\n",
    )


def test_rollback_of_a_release_not_installed_says_so(
    cluster: EmulatedCluster, root_tree: Path
) -> None:
    code, _, err = _chartgen("rollback", "web", "-o", str(root_tree))
    assert (code, err) == (1, 'chartgen: release "web" is not installed in namespace web\n')


PSQL = ["-U", "postgres", "-At", "-d"]


def _psql(postgres: Postgres, database_url: str, sql: str) -> str:
    database = database_url.rsplit("/", 1)[1].split("?", 1)[0]
    done = subprocess.run(
        [
            str(postgres.bin_dir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(postgres.port),
            *PSQL,
            database,
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
        user=postgres.user,
        timeout=60,
    )
    return done.stdout.strip()


def test_a_release_left_pending_is_refused_before_anything_changes(
    cluster: EmulatedCluster, root_tree: Path, postgres: Postgres, helm_env: dict[str, str]
) -> None:
    assert _chartgen("install", str(root_tree))[0] == 0
    # What an interrupted `helm upgrade` leaves behind: the record says pending-upgrade.
    url = helm_env["HELM_DRIVER_SQL_CONNECTION_STRING"]
    key = _psql(
        postgres,
        url,
        "SELECT key FROM releases_v1 WHERE name = 'web' ORDER BY version DESC LIMIT 1",
    )
    body = _psql(postgres, url, f"SELECT body FROM releases_v1 WHERE key = '{key}'")
    release = json.loads(gzip.decompress(base64.b64decode(body)))
    release["info"]["status"] = "pending-upgrade"
    pending = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    _psql(
        postgres,
        url,
        f"UPDATE releases_v1 SET body = '{pending}', status = 'pending-upgrade' "
        f"WHERE key = '{key}'",
    )
    before = _replicas(cluster, "web")
    scaled = build_tree(
        PROOF_OF_CONCEPT.read_text().replace("replicas: 2\n", "replicas: 3\n", 1),
        root_tree.parent / "scaled-pending",
    )
    code, _out, err = _chartgen("install", str(scaled))
    assert code == 1
    assert err == (
        'chartgen: release "web" (namespace web) is pending-upgrade: another helm operation is '
        "running or was interrupted; wait for it to end, or roll the release back "
        "(`chartgen rollback SERVICE`) before installing\n"
    )
    assert "Traceback" not in err
    assert _replicas(cluster, "web") == before


NEXTCLOUD_32 = (
    "    type: nextcloud\n    image: {repository: docker.io/library/nextcloud, tag: 32.0.0-fpm}\n"
)


def _nextcloud_32(folder: Path) -> Path:
    text = PROOF_OF_CONCEPT.read_text()
    assert text.count("    type: nextcloud\n") == 1
    return build_tree(text.replace("    type: nextcloud\n", NEXTCLOUD_32), folder)


def _revision(release: str, namespace: str) -> tuple[int, str]:
    done = subprocess.run(
        [str(find_helm().path), "history", release, "-n", namespace, "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = json.loads(done.stdout)[-1]
    return int(last["revision"]), str(last["app_version"])


def test_each_release_gets_its_own_timeout(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path
) -> None:
    """Nextcloud's post-upgrade Job outlives helm's default 5m: its release records a longer
    timeout, and helm gets it; the others keep helm's default."""
    log = tmp_path / "helm.log"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {find_helm().path} "$@"\n')
    wrapper.chmod(0o755)
    code, _out, err = _chartgen("--helm", str(wrapper), "install", str(root_tree))
    assert code == 0, err
    upgrades = [line.split() for line in log.read_text().splitlines() if line.startswith("upgrade")]
    timeouts = {
        argv[1]: argv[argv.index("--timeout") + 1] for argv in upgrades if "--timeout" in argv
    }
    assert timeouts == {"cloud": "55m"}
    assert {argv[1] for argv in upgrades} >= {"web", "cloud"}
    # The command line's timeout still wins.
    newer = _nextcloud_32(tmp_path / "n32")
    code, _out, err = _chartgen("--helm", str(wrapper), "install", "--timeout", "70m", str(newer))
    assert code == 0, err
    last = [
        line.split() for line in log.read_text().splitlines() if line.startswith("upgrade cloud")
    ][-1]
    assert last[last.index("--timeout") + 1] == "70m"


def test_nextcloud_is_never_rolled_back_onto_an_older_version(
    cluster: EmulatedCluster, root_tree: Path, tmp_path: Path
) -> None:
    assert _chartgen("install", str(root_tree))[0] == 0
    assert _revision("cloud", "cloud") == (1, "31.0.9")
    newer = _nextcloud_32(tmp_path / "n32")

    code, _out, err = _chartgen("install", "--rollback-on-failure", str(newer))
    assert (code, err) == (
        1,
        'chartgen: --rollback-on-failure refused: this install moves "cloud" from 31.0.9 to '
        "32.0.0, and a failed upgrade rolled back would start the old version over data the "
        "new one may have upgraded, which Nextcloud refuses. Install without "
        "--rollback-on-failure: a failed upgrade then stays for you to look at, and "
        "`chartgen install` again resumes it\n",
    )
    assert _revision("cloud", "cloud") == (1, "31.0.9")

    code, _out, err = _chartgen("install", str(newer))
    assert code == 0, err
    assert _revision("cloud", "cloud") == (2, "32.0.0")
    for argv in (["rollback", "cloud"], ["rollback", "cloud", "1"]):
        code, _out, err = _chartgen(*argv, "-o", str(newer))
        assert (code, err) == (
            1,
            'chartgen: release "cloud" runs app version 32.0.0 (revision 2); revision 1 has '
            "31.0.9, and Nextcloud does not start over data that a newer version upgraded "
            '("version of the data is higher"): rollback refused. To go back to 31.0.9, '
            "restore a backup taken before the upgrade (`chartgen restore cloud DUMP`); to "
            "undo another change, roll back to a revision of app version 32.0.0 or install a "
            "corrected tree\n",
        )
        assert _revision("cloud", "cloud") == (2, "32.0.0")

    # Same app version: a change of settings may be rolled back.
    scaled = _nextcloud_32(tmp_path / "n32-scaled")
    values = scaled / "charts" / "cloud" / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 2\n", "replicaCount: 3\n", 1))
    code, _out, err = _chartgen("install", str(scaled))
    assert code == 0, err
    assert _revision("cloud", "cloud") == (3, "32.0.0")
    code, _out, err = _chartgen("rollback", "cloud", "-o", str(newer))
    assert code == 0, err
    assert _revision("cloud", "cloud") == (4, "32.0.0")
    assert _replicas(cluster, "cloud")["cloud"] == 2
