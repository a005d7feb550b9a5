"""The command line: parse options, call one core function, print its result.

Exit codes are decided in `cli_support.handles_errors` and nowhere else. Modules that import
heavy libraries (pyhelm3, asyncio) are imported inside the commands that need them, so that
`chartgen --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from chartgen import __version__
from chartgen.cli_support import (
    DEFAULT_DIR,
    DEFAULT_FILE,
    handles_errors,
    print_problems,
    validated,
)
from chartgen.errors import ChartgenError

F = TypeVar("F", bound=Callable[..., Any])


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


@main.command()
@_input_file()
@handles_errors
def validate(file: str) -> None:
    """Check FILE (default datacenter.yaml) and report every problem at once."""
    validated(file)


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
    from chartgen.build import build as build_tree

    result = build_tree(file, Path(output), check=check, force=force)
    print_problems(result.warnings)
    if check:
        for difference in result.differences:
            click.echo(f"{Path(output) / difference.path}: {difference.reason}", err=True)
        if result.differences:
            click.echo(f"chartgen: {output} is not what `chartgen build {file}` writes", err=True)
            sys.exit(1)
        click.echo(f"{output} is up to date")
        return
    written = result.written
    if written is None or not written.changed:
        click.echo(f"{output} is up to date")
        return
    click.echo(
        f"{output}: {len(written.written)} written, {len(written.pruned)} pruned, "
        f"{written.unchanged} unchanged"
    )


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


@main.command("join-config")
@click.argument("node")
@click.option(
    "-o",
    "--output",
    "output",
    default=DEFAULT_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The built folder whose kubeadm/join-NODE.yaml is filled in.",
)
@click.option("--token", required=True, help="Bootstrap token (`kubeadm token create`).")
@click.option("--ca-cert-hash", required=True, help="sha256:<hex> of the cluster CA's public key.")
@click.option(
    "--certificate-key",
    default=None,
    help="Key of the uploaded control-plane certificates (control-plane joins only).",
)
@handles_errors
def join_config(
    node: str, output: Path, token: str, ca_cert_hash: str, certificate_key: str | None
) -> None:
    """Print NODE's complete kubeadm join file, secrets filled in, to stdout only.

    The files under generated/kubeadm/ hold placeholders instead of the bootstrap token, the
    CA certificate hash and the certificate key, which exist only once the cluster does; this
    prints the file with them, and never writes it.
    """
    from chartgen.kubeadm import join_config_from_tree

    click.echo(join_config_from_tree(output, node, token, ca_cert_hash, certificate_key), nl=False)
