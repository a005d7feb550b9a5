"""The release plan: every release a built tree holds, as `releases.yaml` records it.

One `Release` type for everything that reads or writes that file: `chartgen.render` makes the
releases and writes them (`releases_document`), `install`, `status`, `rollback`, `uninstall` and
the GitOps writers read them (`read_plan`, `plan_from_document`). A release is a chart folder of
the tree, or a chart of a Helm repository pinned to a version with a values file of the tree;
it names the releases it needs (deployed before it, removed after it), the custom resource
definitions that must be served before it installs, how long helm may take, and whether its
app may go back to an older version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    chart: str  # a folder of the tree, or the chart's name in `repository`
    needs: tuple[str, ...] = ()
    repository: str | None = None  # a Helm chart repository URL: `chart` is pinned to `version`
    version: str | None = None
    values: str | None = None  # values file of the tree (repository charts)
    wait: bool = False  # helm waits for the release to be ready (webhooks, CRDs, IPs)
    timeout: str | None = None  # helm's --timeout unless the command line gives one
    crds: tuple[str, ...] = ()  # CustomResourceDefinitions to be Established first
    platform: bool = False  # part of the platform layer: kept by uninstall unless --platform
    # Its app upgrades its data for a new app version and refuses it with an older one: never
    # rolled back onto an older appVersion (Nextcloud).
    forward_only: bool = False

    @property
    def from_repository(self) -> bool:
        return self.repository is not None


@dataclass(frozen=True)
class Plan:
    directory: Path
    releases: tuple[Release, ...]

    def chart_path(self, release: Release) -> Path:
        """The chart folder of a local release."""
        return self.directory / release.chart

    def chart_metadata(self, release: Release) -> dict[str, Any]:
        """The `Chart.yaml` of a local release's chart in the tree ({} when not a mapping)."""
        path = self.chart_path(release) / "Chart.yaml"
        try:
            document = YAML(typ="safe", pure=True).load(path.read_bytes())
        except (OSError, YAMLError, UnicodeDecodeError) as error:
            raise OperationFailed(f"cannot read {path}: {error}") from error
        return document if isinstance(document, dict) else {}

    def app_version(self, release: Release) -> str | None:
        """The appVersion of a local release's chart in the tree, None when it has none."""
        if release.repository is not None:
            return None
        version = self.chart_metadata(release).get("appVersion")
        return None if version is None else str(version)

    def values_path(self, release: Release) -> Path | None:
        return self.directory / release.values if release.values is not None else None

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

    def without_platform(self) -> Plan:
        """The plan less its platform releases (and what only they need is not affected)."""
        kept = [release for release in self.releases if not release.platform]
        names = {release.name for release in kept}
        return Plan(
            self.directory,
            tuple(
                replace(release, needs=tuple(need for need in release.needs if need in names))
                for release in kept
            ),
        )

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


def releases_document(releases: tuple[Release, ...]) -> dict[str, Any]:
    """What `releases.yaml` holds: optional keys only where they are set."""
    entries = []
    for release in releases:
        entry: dict[str, Any] = {
            "name": release.name,
            "namespace": release.namespace,
            "chart": release.chart,
        }
        if release.repository is not None:
            entry["repository"] = release.repository
            entry["version"] = release.version
        if release.values is not None:
            entry["values"] = release.values
        entry["needs"] = list(release.needs)
        if release.crds:
            entry["crds"] = list(release.crds)
        if release.wait:
            entry["wait"] = True
        if release.timeout is not None:
            entry["timeout"] = release.timeout
        if release.platform:
            entry["platform"] = True
        if release.forward_only:
            entry["forwardOnly"] = True
        entries.append(entry)
    return {"releases": entries}


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


def _string(entry: dict[str, Any], key: str, where: str, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise OperationFailed(f"{where}.{key}: expected a non-empty string")
    return value


def _names(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OperationFailed(f"{where}.{key}: expected a list of names")
    return tuple(value)


def _inside_tree(value: str, where: str, what: str) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise OperationFailed(f"{where}: {value} is not a {what} inside the tree")
    return value


def _release(entry: Any, where: str) -> Release:
    if not isinstance(entry, dict):
        raise OperationFailed(f"{where}: expected a mapping")
    name = str(_string(entry, "name", where))
    namespace = str(_string(entry, "namespace", where))
    chart = str(_string(entry, "chart", where))
    repository = _string(entry, "repository", where, required=False)
    version = _string(entry, "version", where, required=repository is not None)
    if repository is None:
        chart = _inside_tree(chart, f"{where}.chart", "folder")
    values = _string(entry, "values", where, required=False)
    if values is not None:
        values = _inside_tree(values, f"{where}.values", "file")
    timeout = _string(entry, "timeout", where, required=False)
    for flag in ("wait", "platform", "forwardOnly"):
        if not isinstance(entry.get(flag, False), bool):
            raise OperationFailed(f"{where}.{flag}: expected true or false")
    return Release(
        name=name,
        namespace=namespace,
        chart=chart,
        needs=_names(entry, "needs", where),
        repository=repository,
        version=version,
        values=values,
        wait=bool(entry.get("wait", False)),
        timeout=timeout,
        crds=_names(entry, "crds", where),
        platform=bool(entry.get("platform", False)),
        forward_only=bool(entry.get("forwardOnly", False)),
    )


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
