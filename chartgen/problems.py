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
    # selects problems by id, never by their text: every warning has one (WARNING_RULES, what
    # `acknowledge:` names); empty for most errors.
    rule: str = ""
    acknowledged: bool = False  # a warning the file acknowledges for its service

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: "
        level = ""
        if self.severity is Severity.WARNING:
            level = "acknowledged: " if self.acknowledged else "warning: "
        path = f"{self.path}: " if self.path else ""
        return f"{where}{level}{path}{self.message}"


# Every warning's stable id, with what it says. The service ones are raised at a service and may
# be acknowledged in its entry (`acknowledge: [id]`); the others concern the whole file.
SERVICE_WARNINGS: tuple[tuple[str, str], ...] = (
    ("single-point-of-failure-replica", "the service runs one replica"),
    ("single-point-of-failure-node", "every pod of the service can only run on one node"),
    ("single-point-of-failure-database", "a scaled Nextcloud's PostgreSQL runs one instance"),
    ("database-on-nfs", "PostgreSQL data on an NFS class"),
    ("autoscaling-without-metrics-server", "autoscaling, and nothing installs metrics-server"),
    ("route-without-router", "expose.host, and nothing in the file routes it"),
    ("foreign-image", "an image override that is not the program of the service's type"),
    ("root-in-baseline-namespace", "an app running as root in a baseline namespace"),
)
FILE_WARNINGS: tuple[tuple[str, str], ...] = (
    ("stale-acknowledgement", "a service acknowledges a warning that it does not raise"),
    ("capacity-exceeded", "the services request more than the nodes offer, at full scale"),
    ("router-without-load-balancer", "the router listens on NodePorts: no address pool"),
    ("platform-image-architecture", "a platform chart publishes no image for a node"),
    ("monitoring-namespace-privileged", "node-exporter's namespace is Pod Security privileged"),
    ("network-policies-unenforced", "the CNI enforces no NetworkPolicy; the charts rely on it"),
)
WARNING_RULES: tuple[tuple[str, str], ...] = SERVICE_WARNINGS + FILE_WARNINGS
ACKNOWLEDGEABLE: tuple[str, ...] = tuple(rule for rule, _ in SERVICE_WARNINGS)


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
