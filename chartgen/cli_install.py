"""`chartgen install / uninstall / status / rollback`: the built tree into a cluster, via helm.

An adapter like the rest of the CLI: options become typed values, one core function of
`chartgen.install` runs (imported inside each command, so `chartgen --help` never loads
pyhelm3 or asyncio), and its result is printed. Progress goes to stderr (a live display on a
terminal, one plain line per change otherwise); the final table goes to stdout.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from chartgen.cli_support import (
    DEFAULT_DIR,
    handles_errors,
    names_from_datacenter,
    output_dir_option,
    output_format_option,
)
from chartgen.errors import OperationFailed
from chartgen.text_table import table as text_table

if TYPE_CHECKING:
    from chartgen.install import Progress, RunResult, Session
    from chartgen.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


def _tree_argument(command: F) -> F:
    return click.argument(
        "directory",
        metavar="[DIR]",
        default=DEFAULT_DIR,
        type=click.Path(file_okay=False, path_type=Path),
    )(command)


def cluster_options(command: F) -> F:
    command = click.option(
        "--kube-context",
        metavar="NAME",
        default=None,
        help="Context of the kubeconfig to use (default: its current context).",
    )(command)
    return click.option(
        "--kubeconfig",
        metavar="PATH",
        default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="kubeconfig file (default: KUBECONFIG, then ~/.kube/config, as helm does).",
    )(command)


def _timeout(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from chartgen.helm_args import parse_timeout

    try:
        return parse_timeout(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


def _waiting_options(command: F) -> F:
    command = click.option(
        "--timeout",
        metavar="DURATION",
        default=None,
        callback=_timeout,
        help="How long helm waits for each Kubernetes operation, e.g. 90s or 10m (helm: 5m).",
    )(command)
    return click.option(
        "--wait", is_flag=True, help="Wait until the resources are ready (and Jobs complete)."
    )(command)


def _concurrency_option(command: F) -> F:
    return click.option(
        "--concurrency",
        default=4,
        show_default=True,
        type=click.IntRange(min=1),
        help="Independent releases handled at the same time.",
    )(command)


@click.command()
@_tree_argument
@click.option(
    "--dry-run",
    is_flag=True,
    help="Contact the cluster but change nothing; with no cluster, an offline preview "
    "(helm template of every local chart).",
)
@_waiting_options
@click.option(
    "--rollback-on-failure",
    is_flag=True,
    help="Leave no half-installed release: a failing one is rolled back (implies --wait).",
)
@cluster_options
@_concurrency_option
@click.pass_context
@handles_errors
def install(
    ctx: click.Context,
    directory: Path,
    dry_run: bool,
    wait: bool,
    timeout: str | None,
    rollback_on_failure: bool,
    kubeconfig: Path | None,
    kube_context: str | None,
    concurrency: int,
) -> None:
    """Install or upgrade every release that DIR (default generated) records.

    Releases go in dependency order (the platform's upstream charts from their repositories,
    then storage, then the services that claim volumes), independent ones in parallel; a
    release waits for the CRDs it uses; an unchanged release is left alone. A release whose
    prerequisite failed is not attempted, and nothing that worked is undone.

    --dry-run with no cluster (no kubeconfig, or no answer) previews offline instead: the
    manifests of every local chart as `helm template` renders them, in its namespace, on
    stdout; the platform's repository charts are named but not fetched.
    """
    from chartgen.errors import NoCluster
    from chartgen.helm_args import ChangeOptions
    from chartgen.install import install as install_releases

    plan = _plan(directory)
    options = ChangeOptions(dry_run, wait, timeout, rollback_on_failure)
    try:
        with _Display(plan, sys.stderr) as display:
            result = install_releases(
                plan, display.session(ctx, kubeconfig, kube_context, concurrency), options
            )
    except NoCluster as error:
        if not dry_run:
            raise
        _offline_preview(ctx, plan, str(error))
        return
    _finish(result)


def _offline_preview(ctx: click.Context, plan: Plan, why: str) -> None:
    """`install --dry-run` without a cluster: what helm alone can show, said to be offline."""
    from chartgen.install import offline_preview
    from chartgen.tools import find_helm

    click.echo(
        f"chartgen: {why}\nOFFLINE preview: each release rendered by `helm template` on this "
        "machine; no cluster was contacted, so nothing was checked against one (API versions, "
        "admission, conflicts, what is installed).",
        err=True,
    )
    renders = offline_preview(plan, find_helm((ctx.obj or {}).get("helm")).path)
    failed = []
    for one in renders:
        where = f"release {one.release.name} (namespace {one.release.namespace})"
        if one.manifests is None:
            click.echo(f"# {where}: not previewed: {one.reason}")
            click.echo(f"{one.release.name}: not previewed: {one.reason}", err=True)
            if one.release.repository is None:
                failed.append(one.release.name)
            continue
        click.echo(f"# {where}, offline")
        click.echo(one.manifests, nl=False)
    shown = sum(one.manifests is not None for one in renders)
    summary = f"offline preview: {shown} of {len(renders)} releases rendered"
    if failed:
        raise OperationFailed(f"{summary}; helm template failed for {', '.join(failed)}")
    click.echo(summary, err=True)


@click.command()
@_tree_argument
@click.option(
    "--delete-data",
    is_flag=True,
    help="Also delete the releases' PersistentVolumeClaims (kept by default).",
)
@click.option(
    "--platform",
    is_flag=True,
    help="Also remove the platform releases (CNI, load balancer, certificates, router, "
    "metrics), last; kept by default.",
)
@click.option("--dry-run", is_flag=True, help="Contact the cluster but change nothing.")
@_waiting_options
@cluster_options
@_concurrency_option
@click.pass_context
@handles_errors
def uninstall(
    ctx: click.Context,
    directory: Path,
    delete_data: bool,
    platform: bool,
    dry_run: bool,
    wait: bool,
    timeout: str | None,
    kubeconfig: Path | None,
    kube_context: str | None,
    concurrency: int,
) -> None:
    """Remove the releases that DIR (default generated) records, in reverse order.

    PersistentVolumeClaims stay, so that a reinstall finds its data again, unless
    --delete-data. The platform releases stay (the cluster keeps its network, router and
    certificates) unless --platform.
    """
    from chartgen.helm_args import ChangeOptions
    from chartgen.install import uninstall as uninstall_releases

    plan = _plan(directory)
    options = ChangeOptions(dry_run=dry_run, wait=wait, timeout=timeout)
    with _Display(plan, sys.stderr) as display:
        session = display.session(ctx, kubeconfig, kube_context, concurrency)
        result = uninstall_releases(
            plan, session, options, delete_data=delete_data, platform=platform
        )
    _finish(result)


@click.command()
@_tree_argument
@output_format_option(("table", "json"), "A table for people or JSON for programs.")
@click.option(
    "--watch",
    is_flag=True,
    help="Redraw every --interval seconds until Ctrl-C (exit code: the last frame's).",
)
@click.option(
    "--interval",
    metavar="SECONDS",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between two frames of --watch.",
)
@cluster_options
@click.pass_context
@handles_errors
def status(
    ctx: click.Context,
    directory: Path,
    output_format: str,
    watch: bool,
    interval: float,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> None:
    """Show the releases and the live cluster: where every pod runs, what is a single point
    of failure now.

    Per release: revision, state, chart and whether it matches DIR. Per service: desired and
    ready pods, the nodes they run on, restarts, CPU and memory, the image running against the
    one DIR declares, and the verdict. Per node: Ready, architecture, kubelet, pods, CPU and
    memory use (when metrics-server answers), cordoned or not. Exit code 1 when a release is not
    deployed or a service has no ready pod.
    """
    from chartgen import cli_status

    where = cli_status.target(ctx, directory, kubeconfig, kube_context)
    if watch:
        cli_status.watch(where, output_format, interval)
    cli_status.show_once(where, output_format)


@click.command()
@click.argument("service", shell_complete=names_from_datacenter("services"))
@click.argument("revision", required=False, type=click.IntRange(min=1))
@output_dir_option("The built folder that records the release.", name="directory", as_path=True)
@_waiting_options
@cluster_options
@click.pass_context
@handles_errors
def rollback(
    ctx: click.Context,
    service: str,
    revision: int | None,
    directory: Path,
    wait: bool,
    timeout: str | None,
    kubeconfig: Path | None,
    kube_context: str | None,
) -> None:
    """Roll release SERVICE back to REVISION (default: the previous revision)."""
    from chartgen.helm_args import ChangeOptions
    from chartgen.install import rollback as rollback_release

    plan = _plan(directory)
    options = ChangeOptions(wait=wait, timeout=timeout)
    with _Display(plan, sys.stderr) as display:
        session = display.session(ctx, kubeconfig, kube_context, 1)
        result = rollback_release(plan, service, revision, session, options)
    _finish(result)


COMMANDS = (install, uninstall, status, rollback)


def _plan(directory: Path) -> Plan:
    from chartgen.plan import read_plan

    return read_plan(directory)


def _session(
    ctx: click.Context,
    kubeconfig: Path | None,
    kube_context: str | None,
    concurrency: int = 4,
    on_progress: Callable[[Progress], None] | None = None,
    on_tick: Callable[[], None] | None = None,
) -> Session:
    from chartgen.helm_args import Connection
    from chartgen.install import Session
    from chartgen.tools import find_helm

    helm = find_helm((ctx.obj or {}).get("helm"))
    return Session(
        helm.path, Connection(kubeconfig, kube_context), concurrency, on_progress, on_tick
    )


def _finish(result: RunResult) -> None:
    click.echo(_result_table(result), nl=False)
    if not result.ok:
        raise OperationFailed(f"{result.action} incomplete: {result.summary()}")
    click.echo(result.summary())


def _result_table(result: RunResult) -> str:
    rows = [
        [
            one.release.name,
            one.release.namespace,
            one.outcome.value,
            "" if one.revision is None else str(one.revision),
            f"{one.elapsed:.1f}s" if one.elapsed else "",
            one.detail.splitlines()[0] if one.detail else "",
        ]
        for one in result.results
    ]
    table = text_table(["RELEASE", "NAMESPACE", "RESULT", "REVISION", "TIME", "DETAIL"], rows)
    reasons = [
        f"{one.release.name}: {one.detail}\n"
        for one in result.results
        if not one.outcome.succeeded and "\n" in one.detail
    ]
    return table + "".join(reasons)


@dataclass
class _Display:
    """Progress on stderr: redrawn in place on a terminal, one line per change otherwise."""

    plan: Plan
    stream: TextIO
    live: bool = field(init=False)
    _states: dict[str, str] = field(default_factory=dict, init=False)
    _started: dict[str, float] = field(default_factory=dict, init=False)
    _elapsed: dict[str, float] = field(default_factory=dict, init=False)
    _drawn: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.live = self.stream.isatty()

    def __enter__(self) -> _Display:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.live and self._drawn:
            self._draw()

    def session(
        self,
        ctx: click.Context,
        kubeconfig: Path | None,
        kube_context: str | None,
        concurrency: int,
    ) -> Session:
        tick = self._draw if self.live else None
        return _session(ctx, kubeconfig, kube_context, concurrency, self.progress, tick)

    def progress(self, event: Progress) -> None:
        name = event.release.name
        self._states[name] = event.state
        if event.done:
            self._elapsed[name] = event.elapsed
            self._started.pop(name, None)
        elif event.state != "pending":
            self._started[name] = time.monotonic()
        if self.live:
            self._draw()
        elif event.state != "pending":
            self.stream.write(self._line(name) + "\n")
            self.stream.flush()

    def _line(self, name: str) -> str:
        width = max(len(release.name) for release in self.plan.releases)
        state = self._states.get(name, "")
        seconds: float | None = self._elapsed.get(name)
        if name in self._started:
            # A running release's clock only means something on a display that redraws.
            seconds = time.monotonic() - self._started[name] if self.live else None
        timing = f" ({seconds:.1f}s)" if seconds else ""
        return f"{name.ljust(width)}  {state}{timing}"

    def _draw(self) -> None:
        names = [release.name for release in self.plan.releases if release.name in self._states]
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        body = "".join(f"\x1b[2K{self._line(name)}\n" for name in names)
        self.stream.write(up + body)
        self.stream.flush()
        self._drawn = len(names)
