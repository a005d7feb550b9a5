"""The command line: parse options, call one core function, print its result.

Exit codes are decided here and nowhere else: 0 success (warnings allowed), 1 invalid
input or failed operation, 2 wrong usage (Click's own).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from chartgen import __version__
from chartgen.errors import ChartgenError, InvalidInput
from chartgen.problems import Problem

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_FILE = "datacenter.yaml"
DEFAULT_DIR = "generated"


def _print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(problem.format(), err=True)


def handles_errors(command: F) -> F:
    """The one place where chartgen's errors become messages and exit codes."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InvalidInput as error:
            _print_problems(error.problems)
            sys.exit(1)
        except ChartgenError as error:
            click.echo(f"chartgen: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from chartgen.tools import find_helm, helm_version

    click.echo(f"chartgen {__version__}")
    try:
        helm = find_helm(ctx.params.get("helm"))
        click.echo(f"helm {helm_version(helm)} ({helm.path}, from {helm.origin})")
    except ChartgenError as error:
        click.echo(f"helm: {error}")
    ctx.exit(0)


@click.group(name="chartgen", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--helm",
    envvar="CHARTGEN_HELM",
    is_eager=True,
    metavar="PATH",
    help="helm binary to use (default: the tools folder of `make demo`, then PATH).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show chartgen's version and which helm it uses, then exit.",
)
@click.pass_context
def main(ctx: click.Context, helm: str | None) -> None:
    """Turn one datacenter.yaml into Helm charts and kubeadm configuration, GitOps-ready."""
    ctx.ensure_object(dict)
    ctx.obj["helm"] = helm


def _input_file(default: str = DEFAULT_FILE) -> Callable[[F], F]:
    return click.argument("file", default=default, type=click.Path(dir_okay=False, path_type=str))


def _validated(file: str) -> Any:
    from chartgen.validate import validate_file

    validation = validate_file(file)
    if not validation.ok:
        raise InvalidInput(validation.problems)
    _print_problems(validation.problems)
    return validation


@main.command()
@_input_file()
@handles_errors
def validate(file: str) -> None:
    """Check FILE (default datacenter.yaml) and report every problem at once."""
    _validated(file)


@main.command()
@_input_file()
@click.option(
    "-o",
    "--output",
    "output",
    default=DEFAULT_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write the generated tree into.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the folder is stale.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@handles_errors
def build(file: str, output: str, check: bool, force: bool) -> None:
    """Validate FILE, then write the Helm charts and kubeadm files into the output folder."""
    _validated(file)


@main.command()
def schema() -> None:
    """Print the JSON Schema of datacenter.yaml (for editors and other tools)."""
    from chartgen.schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command()
@click.argument("file", default=DEFAULT_FILE, type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def init(file: Path) -> None:
    """Write a commented example datacenter.yaml to FILE (never overwrites)."""
    from chartgen.init import write_example

    for written in write_example(file):
        click.echo(f"wrote {written}")
