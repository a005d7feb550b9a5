"""`chartgen status` and `chartgen graph --live` on the CLI side: read, print, redraw.

`--watch` redraws the status in place on a terminal (cursor home, each line cleared, the rest
of the screen cleared) and prints one frame after another, separated by a blank line, when
stdout is a file or a pipe. Ctrl-C ends it; the exit code is the last frame's.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import click

from chartgen.errors import OperationFailed
from chartgen.helm_args import Connection
from chartgen.live_verdicts import LiveStatus

HOME = "\x1b[H"
CLEAR_SCREEN = "\x1b[2J"
CLEAR_LINE = "\x1b[K"
CLEAR_BELOW = "\x1b[J"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"


@dataclass(frozen=True)
class Target:
    """The built tree and the cluster whose live state is read."""

    directory: Path
    helm: Path
    connection: Connection


def target(ctx: click.Context, directory: Path, kubeconfig: Path | None, kube_context: str | None
           ) -> Target:  # fmt: skip
    from chartgen.tools import find_helm

    helm = find_helm((ctx.obj or {}).get("helm"))
    return Target(directory, helm.path, Connection(kubeconfig, kube_context))


def read(where: Target) -> LiveStatus:
    from chartgen.live import read_status
    from chartgen.plan import read_plan
    from chartgen.tools import find_kubectl

    plan = read_plan(where.directory)
    kubectl = find_kubectl("chartgen status")
    return read_status(plan, where.helm, kubectl, where.connection)


def show_once(where: Target, output_format: str) -> None:
    from chartgen.live_render import status_json, status_text

    status = read(where)
    if output_format == "json":
        click.echo(json.dumps(status_json(status), indent=2))
    else:
        click.echo(status_text(status), nl=False)
    if not status.healthy:
        sys.exit(1)


def prepare(where: Target) -> None:
    """What no later frame can fix fails at once: no tree, no kubectl, no kubeconfig."""
    import os

    from chartgen.helm_args import missing_kubeconfig
    from chartgen.plan import read_plan
    from chartgen.tools import find_kubectl

    read_plan(where.directory)
    find_kubectl("chartgen status")
    problem = missing_kubeconfig(where.connection, os.environ, Path.home())
    if problem is not None:
        raise OperationFailed(problem)


def watch(where: Target, output_format: str, interval: float) -> None:
    """Frames until Ctrl-C (or SIGTERM); exits with the last frame's code."""
    from chartgen.live_render import frame_text, status_json

    prepare(where)

    def render(status: LiveStatus | None, error: str) -> str:
        if output_format == "json":
            document = status_json(status) if status is not None else {"error": error}
            return json.dumps(document) + "\n"
        heading = f"chartgen status {where.directory}, every {interval:g}s: {time.strftime('%X')}"
        return frame_text(status, error, heading)

    screen = _Screen(sys.stdout, live=sys.stdout.isatty() and output_format != "json")
    code = 1
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with screen:
            while True:
                code = _frame(where, render, screen)
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code)


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _frame(where: Target, render: Callable[[LiveStatus | None, str], str], screen: _Screen) -> int:
    try:
        status = read(where)
    except OperationFailed as error:
        # A watch goes on through a cluster that does not answer for a moment.
        screen.draw(render(None, str(error)))
        return 1
    screen.draw(render(status, ""))
    return 0 if status.healthy else 1


@dataclass
class _Screen:
    stream: TextIO
    live: bool
    drawn: int = 0

    def __enter__(self) -> _Screen:
        if self.live:
            self.stream.write(HIDE_CURSOR + CLEAR_SCREEN)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.live:
            self.stream.write(SHOW_CURSOR)
            self.stream.flush()

    def draw(self, text: str) -> None:
        if not self.live:
            self.stream.write(("\n" if self.drawn else "") + text)
        else:
            lines = text.splitlines()
            body = "".join(f"{line}{CLEAR_LINE}\n" for line in lines)
            self.stream.write(HOME + body + CLEAR_BELOW)
        self.drawn += 1
        self.stream.flush()
