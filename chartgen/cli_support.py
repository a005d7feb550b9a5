"""What every command module of the CLI shares: defaults, problem printing, and the one place
where chartgen's errors become messages and exit codes (0 ok, 1 failed, 2 usage: Click's)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click
from click.shell_completion import CompletionItem

from chartgen.errors import ChartgenError, InvalidInput
from chartgen.problems import Problem

if TYPE_CHECKING:
    from chartgen.validate import Validation

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_FILE = "datacenter.yaml"
DEFAULT_DIR = "generated"


def output_dir_option(help: str, name: str = "output", as_path: bool = False) -> Callable[[F], F]:
    """`-o/--output DIR`, the generated folder a command writes, reads or compares with."""
    return click.option(
        "-o",
        "--output",
        name,
        default=DEFAULT_DIR,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path if as_path else str),
        help=help,
    )


def output_format_option(formats: tuple[str, ...], help: str) -> Callable[[F], F]:
    """`--format FORMAT`: how a command prints its answer; the first format is the default.

    `--output FORMAT` is its older name, kept for scripts; `-o` is refused with a pointer to
    --format, since everywhere else `-o` names where output goes (a folder or a file).
    """

    def decorate(command: F) -> F:
        command = click.option(
            "--format",
            "--output",
            "output_format",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help=f"{help} (--output is the older name of --format.)",
        )(command)
        return retired_letter("-o", "-o names an output folder or file; the format is --format")(
            command
        )

    return decorate


def retired_letter(letter: str, message: str) -> Callable[[F], F]:
    """A hidden option that only says which option to use instead (a usage error, exit 2):
    for a letter that means something else on this command than users may expect."""

    def refuse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            raise click.UsageError(f"{message} (not {letter} {value})")

    return click.option(
        letter, "retired_" + letter.strip("-"), hidden=True, expose_value=False, callback=refuse
    )


Names = Literal["nodes", "services", "nextcloud"]


def names_from_datacenter(names: Names) -> Callable[..., list[CompletionItem]]:
    """Shell completion of a NODE or SERVICE argument: the names in ./datacenter.yaml.

    The file is only loaded, not validated, so that a file with mistakes still completes;
    anything unreadable completes nothing rather than breaking the shell's line.
    """

    def complete(
        _ctx: click.Context, _param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from chartgen.loader import load_file

        loaded = load_file(DEFAULT_FILE)
        data = loaded.document.data if loaded.document is not None else {}
        key = "nodes" if names == "nodes" else "services"
        entries = data.get(key) if isinstance(data, dict) else None
        found = [
            entry["name"]
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and (names != "nextcloud" or entry.get("type") == "nextcloud")
        ]
        return [CompletionItem(name) for name in found if name.startswith(incomplete)]

    return complete


def print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(problem.format(), err=True)


def print_warnings(problems: Iterable[Problem]) -> None:
    """The warnings, the acknowledged ones only counted (`validate` lists them)."""
    listed = list(problems)
    print_problems(problem for problem in listed if not problem.acknowledged)
    count = sum(problem.acknowledged for problem in listed)
    if count:
        noun = "warning" if count == 1 else "warnings"
        click.echo(f"{count} acknowledged {noun}; chartgen validate lists them", err=True)


def handles_errors(command: F) -> F:
    """Turns chartgen's errors into a message on stderr and exit code 1; bugs still raise."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as error:
            print_problems(error.problems)
            sys.exit(1)
        except ChartgenError as error:
            click.echo(f"chartgen: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def validated(file: str, *, list_acknowledged: bool = False) -> Validation:
    """The validation of FILE; its warnings printed (the acknowledged ones listed, or only
    counted), its errors raised as InvalidInput."""
    from chartgen.validate import validate_file

    validation = validate_file(file)
    if not validation.ok:
        raise InvalidInput(validation.problems)
    if list_acknowledged:
        print_problems(validation.problems)
    else:
        print_warnings(validation.problems)
    return validation
