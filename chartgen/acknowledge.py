"""`acknowledge:` in a service entry: warnings its owner has read and accepts.

A known risk (one PostgreSQL behind a scaled Nextcloud) otherwise warns on every command,
forever, and real news drowns in it. An acknowledged warning is never dropped: `validate` still
lists it, marked acknowledged; other commands count it. An acknowledgement the service no
longer earns is itself a warning, so the list does not silently outlive its reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

from chartgen.loader import Document, PathPart
from chartgen.problems import Problem, Severity
from chartgen.rule_support import warning_at

KEY = "acknowledge"
STALE = "stale-acknowledgement"


def acknowledged(problems: Sequence[Problem], document: Document) -> list[Problem]:
    """`problems` with the warnings each service acknowledges marked, plus a warning for every
    acknowledgement that matches nothing. The schema has checked the ids."""
    services = document.data.get("services")
    if not isinstance(services, list):
        return list(problems)
    wanted = {
        index: dict(_entries(service.get(KEY)))
        for index, service in enumerate(services)
        if isinstance(service, dict) and service.get(KEY)
    }
    if not wanted:
        return list(problems)
    result: list[Problem] = []
    used: set[tuple[int, str]] = set()
    for problem in problems:
        index = _service_index(problem.path)
        if problem.severity is Severity.WARNING and problem.rule in wanted.get(index, {}):
            used.add((index, problem.rule))
            problem = dataclasses.replace(problem, acknowledged=True)
        result.append(problem)
    result.extend(_stale(wanted, used, document))
    return result


def _entries(value: object) -> Iterator[tuple[str, PathPart]]:
    """(rule id, the path part that names it): a list of ids, or a map id -> reason."""
    if isinstance(value, list):
        for position, rule in enumerate(value):
            yield str(rule), position
    elif isinstance(value, dict):
        for rule in value:
            yield str(rule), str(rule)


def _stale(
    wanted: dict[int, dict[str, PathPart]], used: set[tuple[int, str]], document: Document
) -> Iterable[Problem]:
    for index, rules in wanted.items():
        name = document.data["services"][index].get("name", f"services[{index}]")
        for rule, part in rules.items():
            if (index, rule) not in used:
                yield warning_at(
                    document,
                    ["services", index, KEY, part],
                    f'"{name}" raises no {rule} warning: remove this acknowledgement',
                    STALE,
                )


def _service_index(path: str) -> int:
    """`services[3].database` -> 3; -1 for a problem that is not a service's."""
    prefix = "services["
    if not path.startswith(prefix):
        return -1
    number, bracket, _rest = path[len(prefix) :].partition("]")
    return int(number) if bracket and number.isdigit() else -1
