"""A problem found in the input is a value, never an exception that prints."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, pointing at the offending value (1-based line and column)."""

    line: int
    column: int
    path: str
    message: str
    severity: Severity = Severity.ERROR
    file: str = ""
    # The id of the rule that found it (as yamllint's LintProblem.rule), so that a consumer
    # selects problems by id, never by their text; empty for schema and syntax problems.
    rule: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: "
        level = "warning: " if self.severity is Severity.WARNING else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{level}{path}{self.message}"


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted by position, then path and text, so output is stable."""
    return sorted(problems, key=lambda p: (p.line, p.column, p.path, p.message, p.severity.value))


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)


def format_path(parts: Iterable[str | int]) -> str:
    """`["services", 1, "storage", "class"]` -> `services[1].storage.class`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
