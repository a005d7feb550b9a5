"""`chartgen import compose`: the services of a Compose file as `app` services of a datacenter.

Pure: texts in, a result out. Files a Compose file names (`env_file`, `configs.*.file`, the
`.env` that Compose reads for interpolation) are read through the `Reader` the caller passes,
so nothing here touches the file system, the environment or the clock.

Steps: the Compose file is loaded with chartgen's own positioned loader; every service becomes
an `app` service (plain data, keys in the order of the spec), and every Compose key that has no
meaning here is a warning at that key. The new services are inserted as text after the last
item of the datacenter's `services:` list, so every other byte of the file (comments, order,
flow mappings, spacing) stays as it was; the resulting text is validated by chartgen's own
pipeline, and its problems are mapped back to the Compose service they come from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chartgen.compose.context import Origin, PathPart, Reader
from chartgen.compose.convert import ImportedService, convert_compose
from chartgen.compose.merge import Merged, merge_services
from chartgen.loader import load_text
from chartgen.problems import Problem, has_errors
from chartgen.validate import validate_document

__all__ = ["ImportResult", "ImportedService", "Origin", "import_compose"]


@dataclass(frozen=True)
class ImportResult:
    """The outcome of an import: every problem (Compose positions where they have one), the
    services added, the YAML fragment added to the datacenter, and its new text (None on an
    error: nothing may be written)."""

    problems: tuple[Problem, ...]
    services: tuple[ImportedService, ...] = ()
    fragment: str = ""
    text: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None and not has_errors(self.problems)


def import_compose(
    compose_text: str,
    compose_source: str,
    datacenter_text: str,
    datacenter_source: str,
    *,
    project_dir: str,
    read: Reader,
) -> ImportResult:
    """Converts the Compose file, adds its services to the datacenter text and validates it.

    `project_dir` is the name of the Compose file's folder: the project's name (and so the
    namespace) when the file has no top-level `name`.
    """
    loaded = load_text(datacenter_text, datacenter_source)
    if loaded.document is None:
        return ImportResult(loaded.problems)
    before = validate_document(loaded.document)
    if not before.ok:
        return ImportResult(before.problems)
    data = loaded.document.data
    services = data.get("services") or []
    conversion = convert_compose(
        compose_text,
        compose_source,
        nodes=data.get("nodes") or [],
        storage=data.get("storage") or [],
        existing=[str(service.get("name")) for service in services],
        datacenter_source=datacenter_source,
        project_dir=project_dir,
        read=read,
    )
    problems = list(conversion.problems)
    if not conversion.services:
        if not has_errors(problems):
            problems.append(Problem(1, 1, "", "no service to import", file=compose_source))
        return ImportResult(tuple(_ordered(problems, compose_source)))
    # The services that did convert are validated even when others did not, so that every
    # problem is reported in one run; nothing is written while any is an error.
    specs = [service.spec for service in conversion.services]
    merged = merge_services(datacenter_text, specs, compose_source)
    after_loaded = load_text(merged.text, datacenter_source)
    if after_loaded.document is None:  # a bug: the fragment did not parse
        raise AssertionError(f"the merged datacenter does not load: {after_loaded.problems}")
    added = after_loaded.document.data["services"][len(services) :]
    if added != specs:  # a bug: the YAML does not say what was meant
        raise AssertionError(f"the merged services differ from the imported ones: {added}")
    after = validate_document(after_loaded.document)
    known = {(p.path, p.message, p.severity) for p in before.problems}
    # A rule that speaks once for the whole file (its text may list the services) is not news
    # when it already did before the import.
    known_rules = {(p.rule, p.path, p.severity) for p in before.problems if p.rule}
    for problem in after.problems:
        mapped = _map_back(problem, conversion.services, len(services), merged, compose_source)
        if mapped.file == datacenter_source and (
            (mapped.path, mapped.message, mapped.severity) in known
            or (mapped.rule, mapped.path, mapped.severity) in known_rules
        ):
            continue  # the datacenter's own warnings: not news of this import
        problems.append(mapped)
    ordered = tuple(_ordered(problems, compose_source))
    text = None if has_errors(ordered) else merged.text
    return ImportResult(ordered, conversion.services, merged.fragment, text)


def _ordered(problems: Sequence[Problem], compose_source: str) -> list[Problem]:
    """The Compose file's problems first, by position; then the other files'."""
    files = [compose_source]
    for problem in problems:
        if problem.file not in files:
            files.append(problem.file)

    def key(problem: Problem) -> tuple[int, int, int, str, str]:
        where = files.index(problem.file)
        return (where, problem.line, problem.column, problem.path, problem.message)

    return sorted(dict.fromkeys(problems), key=key)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")


def _parse_path(path: str) -> list[PathPart]:
    return [
        int(index) if index else name for name, index in _PATH_PART.findall(path) if name or index
    ]


def _map_back(
    problem: Problem,
    imported: Sequence[ImportedService],
    first: int,
    merged: Merged,
    compose_source: str,
) -> Problem:
    """A problem of the merged datacenter text, placed where the user can act on it: in the
    Compose file when it is about an imported service, else at its place in the datacenter
    file as it was before the import."""
    parts = _parse_path(problem.path)
    if len(parts) >= 2 and parts[0] == "services" and isinstance(parts[1], int):
        index = parts[1] - first
        if 0 <= index < len(imported):
            service = imported[index]
            inner = tuple(parts[2:])
            origin = service.origins[()]
            for length in range(len(inner), 0, -1):
                if inner[:length] in service.origins:
                    origin = service.origins[inner[:length]]
                    break
            return Problem(
                origin.line,
                origin.column,
                origin.path,
                f"imported as {problem.path}: {problem.message}",
                problem.severity,
                compose_source,
                problem.rule,
            )
    line = problem.line
    if merged.first_line <= line < merged.first_line + merged.line_count:
        line = merged.first_line  # inside the added text: where it starts
    elif line >= merged.first_line + merged.line_count:
        line -= merged.line_count
    return Problem(
        line,
        problem.column,
        problem.path,
        problem.message,
        problem.severity,
        problem.file,
        problem.rule,
    )
