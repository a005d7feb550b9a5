"""The install plan that `chartgen build` records in DIR/releases.yaml, read into typed values.

`install`, `status`, `rollback` and `uninstall` read DIR, never datacenter.yaml: a release has a
name, a namespace, a chart folder relative to DIR and the names of the releases it needs
(deployed before it, removed after it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from chartgen.errors import OperationFailed

RELEASES_FILE = "releases.yaml"


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    chart: PurePosixPath
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    directory: Path
    releases: tuple[Release, ...]

    def chart_path(self, release: Release) -> Path:
        return self.directory / release.chart

    def release(self, name: str) -> Release:
        for release in self.releases:
            if release.name == name:
                return release
        known = ", ".join(release.name for release in self.releases) or "none"
        raise OperationFailed(f'no release "{name}" in {self.directory} (releases: {known})')

    def dependants(self) -> Mapping[str, tuple[str, ...]]:
        """For each release, the releases that need it: they go first when removing."""
        return {
            release.name: tuple(
                other.name for other in self.releases if release.name in other.needs
            )
            for release in self.releases
        }

    def order(self) -> tuple[Release, ...]:
        """Every release after the ones it needs; file order among independent ones."""
        placed: list[Release] = []
        names: set[str] = set()
        remaining = list(self.releases)
        while remaining:
            ready = [release for release in remaining if set(release.needs) <= names]
            placed += ready
            names.update(release.name for release in ready)
            remaining = [release for release in remaining if release.name not in names]
        return tuple(placed)


def read_plan(directory: Path) -> Plan:
    path = directory / RELEASES_FILE
    if not directory.is_dir():
        raise OperationFailed(f"{directory} does not exist: run `chartgen build` first")
    if not path.is_file():
        raise OperationFailed(
            f"{directory} is not a built tree ({RELEASES_FILE} is missing): "
            "run `chartgen build` first"
        )
    try:
        document = YAML(typ="safe", pure=True).load(path.read_bytes())
    except (OSError, YAMLError, UnicodeDecodeError) as error:
        raise OperationFailed(f"cannot read {path}: {error}") from error
    return plan_from_document(directory, document, str(path))


def plan_from_document(directory: Path, document: Any, source: str) -> Plan:
    entries = document.get("releases") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise OperationFailed(f"{source}: expected a mapping with a `releases` list")
    releases = tuple(_release(entry, f"{source}: releases[{i}]") for i, entry in enumerate(entries))
    _check_graph(releases, source)
    return Plan(directory, releases)


def _release(entry: Any, where: str) -> Release:
    if not isinstance(entry, dict):
        raise OperationFailed(f"{where}: expected a mapping")
    fields = {key: entry.get(key) for key in ("name", "namespace", "chart")}
    for key, value in fields.items():
        if not isinstance(value, str) or not value:
            raise OperationFailed(f"{where}.{key}: expected a non-empty string")
    needs = entry.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(need, str) for need in needs):
        raise OperationFailed(f"{where}.needs: expected a list of release names")
    chart = PurePosixPath(str(fields["chart"]))
    if chart.is_absolute() or ".." in chart.parts:
        raise OperationFailed(f"{where}.chart: {chart} is not a folder inside the tree")
    return Release(str(fields["name"]), str(fields["namespace"]), chart, tuple(needs))


def _check_graph(releases: tuple[Release, ...], source: str) -> None:
    names = [release.name for release in releases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise OperationFailed(f"{source}: release names appear twice: {', '.join(duplicates)}")
    for release in releases:
        unknown = [need for need in release.needs if need not in names]
        if unknown:
            raise OperationFailed(
                f'{source}: release "{release.name}" needs unknown releases: {", ".join(unknown)}'
            )
    if _has_cycle(releases):
        raise OperationFailed(f"{source}: the `needs` of the releases form a cycle")


def _has_cycle(releases: tuple[Release, ...]) -> bool:
    needs = {release.name: set(release.needs) for release in releases}
    resolved: set[str] = set()
    while True:
        ready = {name for name, required in needs.items() if required <= resolved} - resolved
        if not ready:
            return len(resolved) < len(needs)
        resolved |= ready
