"""`chartgen backup / restore`: a Nextcloud service's database to and from a local dump file.

An adapter like the rest of the CLI: options become values, one core function of
`chartgen.database_backup` runs, and its result is printed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from chartgen.cli_install import cluster_options
from chartgen.cli_support import DEFAULT_DIR, handles_errors, names_from_datacenter

if TYPE_CHECKING:
    from chartgen.database_backup import Kubectl

_TREE = click.argument(
    "directory",
    metavar="[DIR]",
    default=DEFAULT_DIR,
    type=click.Path(file_okay=False, path_type=Path),
)


def _kubectl(kubeconfig: Path | None, kube_context: str | None, command: str) -> Kubectl:
    from chartgen.database_backup import Kubectl
    from chartgen.helm_args import Connection
    from chartgen.tools import find_kubectl

    return Kubectl(find_kubectl(f"chartgen {command}"), Connection(kubeconfig, kube_context))


@click.command()
@click.argument("service", shell_complete=names_from_datacenter("nextcloud"))
@_TREE
@click.option(
    "--to",
    "destination",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The dump file to write (never overwritten)  [default: SERVICE-<UTC time>.dump]",
)
@cluster_options
@handles_errors
def backup(
    service: str,
    directory: Path,
    destination: Path | None,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> None:
    """Dump the database of Nextcloud service SERVICE into a local file.

    Nextcloud is in maintenance mode during the dump (and switched back even when it fails).
    The file is pg_dump's custom format, which `chartgen restore` loads.
    """
    from chartgen.database_backup import backup as dump_database
    from chartgen.plan import read_plan

    plan = read_plan(directory)
    if destination is None:
        destination = Path(f"{service}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.dump")
    size = dump_database(plan, service, destination, _kubectl(kubeconfig, kube_context, "backup"))
    click.echo(f"wrote {destination} ({size} bytes)")


@click.command()
@click.argument("service", shell_complete=names_from_datacenter("nextcloud"))
@click.argument("dump", type=click.Path(dir_okay=False, path_type=Path))
@_TREE
@cluster_options
@handles_errors
def restore(
    service: str,
    dump: Path,
    directory: Path,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> None:
    """Load DUMP (from `chartgen backup` or the backup CronJob) into SERVICE's database.

    Nextcloud is in maintenance mode meanwhile. What the dump holds replaces what the database
    holds (pg_restore --clean --if-exists, in one transaction: a failure changes nothing).
    """
    from chartgen.database_backup import restore as load_dump
    from chartgen.plan import read_plan

    plan = read_plan(directory)
    load_dump(plan, service, dump, _kubectl(kubeconfig, kube_context, "restore"))
    click.echo(f'restored the database of "{service}" from {dump}')


COMMANDS = (backup, restore)
