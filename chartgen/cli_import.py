"""`chartgen import compose`: the services of a Compose file added to the datacenter file.

An adapter like the rest of the CLI: it reads the files, calls `chartgen.compose.import_compose`
(pure) and prints its problems; the datacenter file is replaced only when the result validates,
atomically (a temporary file beside it, then `os.replace`), so an error or a crash leaves it as
it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

import click

from chartgen.cli_support import DEFAULT_FILE, handles_errors, print_problems
from chartgen.errors import InvalidInput, OperationFailed
from chartgen.loader import MAX_INPUT_BYTES


@click.group(name="import")
def import_group() -> None:
    """Add services described in another format to the datacenter file."""


@import_group.command(name="compose")
@click.argument("compose_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-f",
    "--file",
    "datacenter",
    default=DEFAULT_FILE,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The datacenter file to add the services to.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing; print the services that would be added.",
)
@handles_errors
def compose(compose_file: Path, datacenter: Path, dry_run: bool) -> None:
    """Add the services of the Compose file FILE as `app` services.

    The services go in one namespace named after the Compose project (its top-level `name`,
    else the file's folder), so that they keep reaching each other by service name. Compose
    keys that have no meaning in Kubernetes are reported as warnings at their place in FILE.
    The datacenter file keeps its comments and order, and is written only when the result
    validates.
    """
    from chartgen.compose import import_compose

    compose_text = _read_text(compose_file)
    datacenter_text = _read_text(datacenter)
    folder = compose_file.parent

    def read(relative: str) -> bytes:
        return _read_bytes(folder / relative)

    result = import_compose(
        compose_text,
        str(compose_file),
        datacenter_text,
        str(datacenter),
        project_dir=folder.resolve().name,
        read=read,
    )
    if not result.ok or result.text is None:
        raise InvalidInput(result.problems)
    print_problems(result.problems)
    names = ", ".join(service.name for service in result.services)
    if dry_run:
        click.echo(result.fragment, nl=False)
        click.echo(f"{datacenter}: would add {names} (dry run: nothing written)", err=True)
        return
    _replace(datacenter, result.text)
    click.echo(f"{datacenter}: added {names}")


def _read_bytes(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_INPUT_BYTES + 1)


def _read_text(path: Path) -> str:
    """The file's text; its problem (unreadable, not UTF-8, too large) as InvalidInput."""
    from chartgen.compose.parsing import decode
    from chartgen.problems import Problem

    try:
        raw = _read_bytes(path)
    except OSError as error:
        message = f"cannot read the file: {error.strerror or error}"
        raise InvalidInput([Problem(1, 1, "", message, file=str(path))]) from error
    text = decode(raw, str(path))
    if isinstance(text, Problem):
        raise InvalidInput([text])
    return text


def _replace(path: Path, text: str) -> None:
    """Writes `text` to a temporary file beside the target (a symbolic link's target), then
    renames it over the file: readers see the old file or the new one, never a part."""
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise OperationFailed(f"cannot write {path}: {error.strerror or error}") from error
