"""`chartgen backup` and `chartgen restore`: the database of a Nextcloud service to and from a
local file, through kubectl, with Nextcloud in maintenance mode meanwhile.

The release, its namespace and its object names come from the built tree (`releases.yaml` and
the chart's values), never from the cluster. Every kubectl call is an argv built by a pure
function here; `_run` is the one place that runs them. Nothing here prints: results are values,
failures are chartgen's errors.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from chartgen.charts.common import objects_name
from chartgen.errors import OperationFailed
from chartgen.helm_args import Connection, kubectl_connection_flags
from chartgen.kinds.nextcloud import name_prefix
from chartgen.plan import Plan
from chartgen.tools import cannot_run

NEXTCLOUD_CHART = "nextcloud"
OCC = ("php", "/var/www/html/occ")
# Custom-format dumps start with these bytes (pg_dump's magic).
DUMP_MAGIC = b"PGDMP"
# Run in the PostgreSQL container, whose environment names the database and its owner; the
# image trusts connections over the local socket, so no password travels.
DUMP_SCRIPT = 'exec pg_dump --format=custom --username="$POSTGRES_USER" --dbname="$POSTGRES_DB"'
# --clean --if-exists drops what the dump holds before recreating it; one transaction, so a
# failed restore leaves the database as it was.
RESTORE_SCRIPT = (
    "exec pg_restore --clean --if-exists --no-owner --single-transaction "
    '--username="$POSTGRES_USER" --dbname="$POSTGRES_DB"'
)


@dataclass(frozen=True)
class Target:
    """Where a Nextcloud service's pieces are in the cluster."""

    service: str
    namespace: str
    deployment: str  # the Nextcloud Deployment: occ runs in one of its pods
    database_pod: str  # pod 0 of the PostgreSQL StatefulSet


def target_of(plan: Plan, service: str) -> Target:
    """The Nextcloud service `service` of the built tree; OperationFailed for anything else."""
    release = plan.release(service)
    if release.from_repository:
        raise OperationFailed(f'"{service}" is not a nextcloud service ({release.chart} chart)')
    chart = plan.chart_metadata(release)
    if chart.get("name") != NEXTCLOUD_CHART:
        raise OperationFailed(
            f'"{service}" is not a nextcloud service ({chart.get("name")} chart): '
            "backup and restore handle Nextcloud databases"
        )
    # The names chartgen gives the chart's objects (its values' fullnameOverride).
    deployment = objects_name(release.name, NEXTCLOUD_CHART)
    return Target(
        service, release.namespace, deployment, f"{name_prefix(release.name)}-postgresql-0"
    )


# --- argv of each step (pure) -------------------------------------------------------------


def dump_command() -> list[str]:
    """What runs in the PostgreSQL container to write a dump on stdout."""
    return ["sh", "-c", DUMP_SCRIPT]


def restore_command() -> list[str]:
    """What runs in the PostgreSQL container to load a dump from stdin."""
    return ["sh", "-c", RESTORE_SCRIPT]


def _exec(
    target: Target, where: str, container: str, command: Sequence[str], connection: Connection
) -> list[str]:
    return [
        *kubectl_connection_flags(connection),
        "exec",
        "--namespace",
        target.namespace,
        where,
        "--container",
        container,
        "--",
        *command,
    ]


def maintenance_argv(target: Target, on: bool, connection: Connection) -> list[str]:
    """occ in a Nextcloud pod (whose containers run as www-data, uid 33): every pod shares the
    config folder, so one switch stops them all."""
    switch = "--on" if on else "--off"
    command = [*OCC, "maintenance:mode", switch]
    return _exec(target, f"deployment/{target.deployment}", "nextcloud", command, connection)


def fingerprint_argv(target: Target, connection: Connection) -> list[str]:
    """After a restore: tells the sync clients that the server's data went back in time."""
    command = [*OCC, "maintenance:data-fingerprint"]
    return _exec(target, f"deployment/{target.deployment}", "nextcloud", command, connection)


def dump_argv(target: Target, connection: Connection) -> list[str]:
    return _exec(target, target.database_pod, "postgresql", dump_command(), connection)


def restore_argv(target: Target, connection: Connection) -> list[str]:
    argv = _exec(target, target.database_pod, "postgresql", restore_command(), connection)
    argv.insert(argv.index("exec") + 1, "--stdin")
    return argv


# --- the operations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Kubectl:
    path: Path
    connection: Connection


def backup(plan: Plan, service: str, destination: Path, kubectl: Kubectl) -> int:
    """Dumps the service's database into `destination` (a new file); returns its size."""
    target = target_of(plan, service)
    if destination.exists():
        raise OperationFailed(f"{destination} exists: choose another file name")
    if not destination.parent.is_dir():
        raise OperationFailed(f"{destination.parent} is not a folder")
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with _maintenance(target, kubectl):
            with partial.open("wb") as sink:
                _run(kubectl, dump_argv(target, kubectl.connection), stdout=sink)
                sink.flush()
                os.fsync(sink.fileno())
            _check_dump(partial, "pg_dump wrote")
            # Complete files only ever bear the name asked for.
            partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination.stat().st_size


def restore(plan: Plan, service: str, dump: Path, kubectl: Kubectl) -> None:
    """Loads `dump` (pg_dump's custom format) into the service's database."""
    target = target_of(plan, service)
    if not dump.is_file():
        raise OperationFailed(f"{dump} is not a file")
    _check_dump(dump, str(dump))
    with _maintenance(target, kubectl), dump.open("rb") as source:
        _run(kubectl, restore_argv(target, kubectl.connection), stdin=source)
        _run(kubectl, fingerprint_argv(target, kubectl.connection))


def _check_dump(path: Path, what: str) -> None:
    with path.open("rb") as stream:
        if stream.read(len(DUMP_MAGIC)) != DUMP_MAGIC:
            raise OperationFailed(f"{what} is not a dump in pg_dump's custom format")


@contextmanager
def _maintenance(target: Target, kubectl: Kubectl) -> Iterator[None]:
    """Nextcloud in maintenance mode around the block, switched off again whatever happens."""
    try:
        _run(kubectl, maintenance_argv(target, True, kubectl.connection))
        yield
    except BaseException as error:  # interrupted too: Nextcloud must not stay down
        _switch_off(target, kubectl, error)
        raise
    _switch_off(target, kubectl, None)


def _switch_off(target: Target, kubectl: Kubectl, failed: BaseException | None) -> None:
    """Maintenance mode off; when that fails, the error says how to do it by hand (added to
    the first failure, if any, which stays the one raised)."""
    try:
        _run(kubectl, maintenance_argv(target, False, kubectl.connection))
    except OperationFailed as off_failed:
        still_on = (
            f"Nextcloud stays in maintenance mode ({off_failed}); switch it off with "
            f"`kubectl exec -n {target.namespace} deployment/{target.deployment} -c nextcloud "
            "-- php occ maintenance:mode --off`"
        )
        if failed is None:
            raise OperationFailed(still_on) from off_failed
        if isinstance(failed, OperationFailed):
            failed.args = (f"{failed}; {still_on}",)


def _run(
    kubectl: Kubectl,
    argv: Sequence[str],
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> None:
    """The one place that runs kubectl: stdin/stdout streamed from/to files, stderr kept for
    the error."""
    command = [str(kubectl.path), *argv]
    try:
        done = subprocess.run(
            command,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as error:
        raise OperationFailed(cannot_run(kubectl.path, "kubectl", error)) from error
    if done.returncode != 0:
        step = " ".join(argv[argv.index("--") + 1 :]) if "--" in argv else " ".join(argv)
        detail = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise OperationFailed(f"`{step}` failed: {detail}")
