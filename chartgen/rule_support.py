"""What every rule needs to point into the file: problems at a path, the path of a service.

It sits below `chartgen.rules` and the service kinds (`chartgen.kinds`), so that a kind's own
rules need neither the other rules nor the kinds registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from chartgen.loader import Document, PathPart
from chartgen.model import Service
from chartgen.problems import Problem, Severity, format_path


def error_at(
    document: Document,
    path: Sequence[PathPart],
    message: str,
    severity: Severity = Severity.ERROR,
    rule: str = "",
) -> Problem:
    line, column = document.position(path)
    return Problem(line, column, format_path(path), message, severity, document.source, rule)


def warning_at(document: Document, path: Sequence[PathPart], message: str, rule: str) -> Problem:
    """A warning, with its stable id (one of chartgen.problems.WARNING_RULES)."""
    return error_at(document, path, message, Severity.WARNING, rule)


def service_path(service: Service, *rest: PathPart) -> list[PathPart]:
    return ["services", service.index, *rest]


def has_key(document: Document, service: Service, key: str) -> bool:
    return key in document.data["services"][service.index]
