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
from chartgen.cli_gitops import gitops_options, gitops_request, usage_errors
from chartgen.cli_install import cluster_options
from chartgen.cli_support import (
    DEFAULT_DIR,
    DEFAULT_FILE,
    handles_errors,
    names_from_datacenter,
    output_dir_option,
    output_format_option,
    print_warnings,
    retired_letter,
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
@output_format_option(
    ("text", "json"),
    "json: the problems as objects on stdout, for scripts (exit codes unchanged).",
)
@handles_errors
def validate(file: str, output_format: str) -> None:
    """Check FILE (default datacenter.yaml) and report every problem at once."""
    if output_format == "text":
        validated(file, list_acknowledged=True)
        return
    from chartgen.problems_json import validation_json
    from chartgen.validate import validate_file

    validation = validate_file(file)
    click.echo(validation_json(file, validation))
    if not validation.ok:
        sys.exit(1)


@main.command()
@_input_file()
@output_dir_option("Folder to write the generated tree into.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the folder is stale.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite generated files that were edited by hand; delete an earlier build's GitOps "
    "files when no GitOps settings are given.",
)
@click.option(
    "--allow-version-jump",
    is_flag=True,
    help="Accept a Nextcloud or PostgreSQL version change that the data cannot follow "
    "(after a backup: see the message without it).",
)
@gitops_options
@handles_errors
def build(
    file: str, output: str, check: bool, force: bool, allow_version_jump: bool, **gitops: Any
) -> None:
    """Validate FILE, then write the Helm charts and kubeadm files into the output folder.

    With --gitops (or the file's gitops key, which the options override), the folder also gets
    the Argo CD or Flux objects that deploy those charts from the Git repository it is committed
    to; --check covers them too. A build without either refuses to delete the GitOps files of
    an earlier build, unless --force.
    """
    from chartgen.build import build as build_tree

    request = gitops_request(output, **gitops)
    with usage_errors():
        result = build_tree(
            file,
            Path(output),
            check=check,
            force=force,
            gitops=request,
            allow_version_jump=allow_version_jump,
        )
    print_warnings(result.warnings)
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
@_input_file()
@output_dir_option("The built folder to compare with.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the diff  [default: when stdout is a terminal]",
)
@gitops_options
@handles_errors
def diff(file: str, output: str, color: bool | None, **gitops: Any) -> None:
    """Show, as a unified diff, what `chartgen build` would change in the output folder.

    Exits 1 when the folder differs from what a build writes (as `build --check` does), 0 when
    it is up to date. Give the same --gitops options as to the build (the file's gitops key
    needs none).
    """
    from chartgen.build import built_tree
    from chartgen.diff import tree_diff

    with usage_errors():
        tree = built_tree(file, gitops_request(output, **gitops))
    print_warnings(tree.warnings)
    result = tree_diff(Path(output), tree.files)
    for line in result.lines:
        click.echo(_diff_style(line), color=color)
    if result.differs:
        sys.exit(1)
    click.echo(f"{output} is up to date", err=True)


def _diff_style(line: str) -> str:
    if line.startswith(("--- ", "+++ ")):
        return click.style(line, bold=True)
    if line.startswith("@@"):
        return click.style(line, fg="cyan")
    if line.startswith("+"):
        return click.style(line, fg="green")
    if line.startswith("-"):
        return click.style(line, fg="red")
    return line


@main.command()
@_input_file()
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(["svg", "png", "jpeg", "dot", "mermaid"]),
    default=None,
    help="Picture format  [default: from the -o suffix (.svg .png .jpg .dot .gv .mmd), else svg]",
)
@retired_letter("-f", "-f names the datacenter file (import compose -f); the format is --format")
@click.option(
    "-o",
    "--output",
    "output",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
    help="File to write (its suffix must agree with --format)  [default: stdout]",
)
@click.option(
    "--live",
    is_flag=True,
    help="Draw the running cluster beside FILE's picture (FILE left out when the default is "
    "absent): nodes, the pods on them, and what is wrong now (single points of failure, "
    "services with no ready pod) in red.",
)
@click.option(
    "--dir",
    "directory",
    metavar="DIR",
    default=DEFAULT_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="With --live: the built tree whose releases are drawn.",
)
@cluster_options
@click.pass_context
@handles_errors
def graph(
    ctx: click.Context,
    file: str,
    graph_format: str | None,
    output: str,
    live: bool,
    directory: Path,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> None:
    """Draw the datacenter: nodes, services on the nodes they may run on, storage, dependencies.

    Single points of failure (the warnings of `chartgen validate`) are drawn in orange. svg, png
    and jpeg need Graphviz (Debian package graphviz); dot and mermaid are text. With --live, the
    same picture from the running cluster (see `chartgen status`), beside the planned one.
    """
    from chartgen.cli_graph import graph_format_for, write_graph, write_live_graph

    chosen = graph_format_for(output, graph_format)
    if chosen in ("png", "jpeg") and output == "-" and sys.stdout.isatty():
        raise click.UsageError(f"{chosen.upper()} is binary: write it to a file with -o PATH")
    if live:
        from chartgen import cli_status

        planned = None
        default = ctx.get_parameter_source("file") is click.core.ParameterSource.DEFAULT
        if not (default and not Path(file).is_file()):
            planned = validated(file)
        where = cli_status.target(ctx, directory, kubeconfig, kube_context)
        write_live_graph(cli_status.read(where), chosen, output, planned)
        return
    write_graph(validated(file), chosen, output)


@main.command()
def schema() -> None:
    """Print the JSON Schema of datacenter.yaml (for editors and other tools)."""
    from chartgen.schema import schema_text

    click.echo(schema_text(), nl=False)


@main.command()
@click.argument("file", default=DEFAULT_FILE, type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def init(file: Path) -> None:
    """Write a commented example datacenter.yaml to FILE (never overwrites).

    The JSON Schema it names goes beside it, unless a file of that name exists (kept, and said).
    """
    from chartgen.init import write_example

    done = write_example(file)
    for written in done.written:
        click.echo(f"wrote {written}")
    if done.kept_schema is not None:
        how = f"`chartgen schema > {done.kept_schema}` replaces it"
        if done.schema_differs:
            click.echo(
                f"kept {done.kept_schema}: it exists and is not this chartgen's schema "
                f"({how}; editors check the example against it)"
            )
        else:
            click.echo(f"kept {done.kept_schema}: it exists and is this chartgen's schema")


@main.command("join-config")
@click.argument("node", shell_complete=names_from_datacenter("nodes"))
@output_dir_option("The built folder whose kubeadm/join-NODE.yaml is filled in.", as_path=True)
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


# install / uninstall / status / rollback: their module imports pyhelm3 only inside the commands.
from chartgen.cli_install import COMMANDS as INSTALL_COMMANDS  # noqa: E402

for _command in INSTALL_COMMANDS:
    main.add_command(_command)

# import compose: chartgen.compose is imported inside the command.
from chartgen.cli_import import import_group  # noqa: E402

main.add_command(import_group)

# backup / restore of a Nextcloud's database, through kubectl.
from chartgen.cli_backup import COMMANDS as BACKUP_COMMANDS  # noqa: E402

for _command in BACKUP_COMMANDS:
    main.add_command(_command)
