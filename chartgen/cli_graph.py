"""`chartgen graph` on the CLI side: which format, and where the bytes go."""

from __future__ import annotations

import sys
from pathlib import Path

from chartgen.errors import InvalidInput, OperationFailed
from chartgen.graph import FORMATS, Format, graph_bytes
from chartgen.validate import Validation

SUFFIXES: dict[str, Format] = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}


def graph_format_for(output: str, given: str | None) -> Format:
    """The format asked for, else the one the output's suffix names, else SVG."""
    if given is not None:
        return next(known for known in FORMATS if known == given)
    return SUFFIXES.get(Path(output).suffix.lower(), "svg") if output != "-" else "svg"


def write_graph(validation: Validation, graph_format: Format, output: str) -> None:
    if validation.datacenter is None:
        raise InvalidInput(validation.problems)
    data = graph_bytes(validation.datacenter, validation.problems, graph_format)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as error:
        raise OperationFailed(f"cannot write {output}: {error.strerror or error}") from error
