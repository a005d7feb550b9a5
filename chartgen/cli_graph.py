"""`chartgen graph` on the CLI side: which format, and where the bytes go."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from chartgen.errors import InvalidInput, OperationFailed
from chartgen.graph import FORMATS, Format, graph_bytes, topology_bytes
from chartgen.live_verdicts import LiveStatus
from chartgen.validate import Validation

SUFFIXES: dict[str, Format] = {
    ".svg": "svg",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}


def graph_format_for(output: str, given: str | None) -> Format:
    """The format asked for, else the one the output's suffix names, else SVG.

    A file is never written in a format its name contradicts (an SVG named x.jpg): a suffix
    chartgen does not know needs --format, and a known one must agree with --format.
    """
    suffix = Path(output).suffix.lower() if output != "-" else ""
    named = SUFFIXES.get(suffix)
    if given is not None:
        chosen = next(known for known in FORMATS if known == given)
        if named is not None and named != chosen:
            raise click.UsageError(f"{output} names a {named} picture, not {chosen}")
        return chosen
    if named is not None:
        return named
    if suffix:
        known = ", ".join(SUFFIXES)
        raise click.UsageError(
            f"cannot tell the picture format from {suffix}: name the file {known}, or give --format"
        )
    return "svg"


def write_graph(validation: Validation, graph_format: Format, output: str) -> None:
    if validation.datacenter is None:
        raise InvalidInput(validation.problems)
    _write(graph_bytes(validation.datacenter, validation.problems, graph_format), output)


def write_live_graph(
    status: LiveStatus, graph_format: Format, output: str, planned: Validation | None = None
) -> None:
    """The live picture, beside the planned one of PLANNED when given."""
    from chartgen.graph import topology
    from chartgen.live_render import live_topology

    beside = None
    if planned is not None:
        if planned.datacenter is None:
            raise InvalidInput(planned.problems)
        beside = topology(planned.datacenter, planned.problems)
    _write(topology_bytes(live_topology(status), graph_format, beside), output)


def _write(data: bytes, output: str) -> None:
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as error:
        raise OperationFailed(f"cannot write {output}: {error.strerror or error}") from error
