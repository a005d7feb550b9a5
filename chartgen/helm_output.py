"""What helm says, read into values: release JSON, `helm list` rows, and its error messages.

Pure functions over helm's stdout and stderr, so that each reading has its own unit test and
`chartgen.install` only decides what to do with the result.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

PENDING_STATES = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})


@dataclass(frozen=True)
class ReleaseState:
    """One revision of a release as helm reports it (status, upgrade and dry-run JSON)."""

    revision: int
    status: str
    description: str
    manifest: str
    hooks: tuple[str, ...]

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATES

    def deploys_the_same(self, other: ReleaseState) -> bool:
        """True when both put the same objects and hooks into the cluster."""
        return self.manifest == other.manifest and sorted(self.hooks) == sorted(other.hooks)


@dataclass(frozen=True)
class ListedRelease:
    """A release's row of `helm list`: what `chartgen status` shows besides its state."""

    revision: int
    status: str
    chart: str
    app_version: str
    updated: str


@dataclass(frozen=True)
class Revision:
    """One row of `helm history`: a revision with the chart and app version it deployed."""

    revision: int
    status: str
    chart: str
    app_version: str


def parse_history(stdout: bytes | str) -> tuple[Revision, ...]:
    """The rows of `helm history -o json`, oldest first."""
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    rows = json.loads(text or "[]")
    return tuple(
        Revision(
            revision=int(row.get("revision") or 0),
            status=str(row.get("status") or "unknown"),
            chart=str(row.get("chart") or ""),
            app_version=str(row.get("app_version") or ""),
        )
        for row in (rows if isinstance(rows, list) else [])
        if isinstance(row, dict)
    )


class Failure(enum.Enum):
    NOT_FOUND = "not found"
    UNREACHABLE = "cluster unreachable"
    PENDING = "another operation in progress"
    OTHER = "failed"


_UNREACHABLE = re.compile(
    r"cluster unreachable|connection refused|no such host|i/o timeout|no route to host"
    r"|network is unreachable|server has asked for the client to provide credentials",
    re.IGNORECASE,
)
# helm's words when it cannot fetch a repository chart (its index or the chart archive).
_REPOSITORY = re.compile(
    r"is not a valid chart repository or cannot be reached|failed to fetch .*\.tgz"
    r"|failed to do request: .*(?:/v2/|\.tgz)",
    re.IGNORECASE,
)
# client-go's klog lines ("W1128 00:59:26.311812 4347 file.go:765] ...") and helm 4's slog lines.
_LOG_LINE = re.compile(r"^(?:[IWE]\d{4} \d\d:\d\d:\d\d\.\d+\s|level=(?:DEBUG|INFO|WARN)\b)")


_LOG_MESSAGE = re.compile(r'^level=\w+ msg="(.*)"$')


def _json_object(stdout: bytes | str) -> dict[str, Any]:
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    start = text.find("{")
    if start < 0:
        raise ValueError("helm printed no JSON object")
    document = json.loads(text[start:])
    if not isinstance(document, dict):
        raise ValueError("helm printed JSON that is not an object")
    return document


def parse_release(stdout: bytes | str) -> ReleaseState:
    """The JSON of `helm status -o json` or `helm upgrade -o json` (dry run included)."""
    document = _json_object(stdout)
    info = document.get("info") or {}
    hooks = document.get("hooks") or []
    return ReleaseState(
        revision=int(document.get("version") or 0),
        status=str(info.get("status") or "unknown"),
        description=str(info.get("description") or ""),
        manifest=str(document.get("manifest") or ""),
        hooks=tuple(str(hook.get("manifest") or "") for hook in hooks if isinstance(hook, dict)),
    )


def parse_list(stdout: bytes | str, name: str) -> ListedRelease | None:
    """NAME's row in the JSON of `helm list -o json`, None when it is not listed."""
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    rows = json.loads(text or "[]")
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("name") == name:
            return ListedRelease(
                revision=int(row.get("revision") or 0),
                status=str(row.get("status") or "unknown"),
                chart=str(row.get("chart") or ""),
                app_version=str(row.get("app_version") or ""),
                updated=str(row.get("updated") or ""),
            )
    return None


def classify(stderr: str) -> Failure:
    lowered = stderr.lower()
    if "release: not found" in lowered:
        return Failure.NOT_FOUND
    if "another operation (install/upgrade/rollback) is in progress" in lowered:
        return Failure.PENDING
    if _REPOSITORY.search(stderr):
        return Failure.OTHER  # a chart repository out of reach fails its release, not the run
    if _UNREACHABLE.search(stderr):
        return Failure.UNREACHABLE
    return Failure.OTHER


def reason(stderr: str) -> str:
    """helm's own explanation: its `Error:` text without the log lines around it."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("Error: "):
            rest = [line.removeprefix("Error: "), *lines[index + 1 :]]
            return "\n".join(item for item in rest if not _LOG_LINE.match(item))
    kept = [line for line in lines if not _LOG_LINE.match(line)]
    if not kept:
        # Some failures (the storage driver failing to start) are only logged.
        kept = [_LOG_MESSAGE.sub(r"\1", line) for line in lines]
    return "\n".join(kept) or "helm failed without a message"


def claims_in(manifest: str) -> tuple[str, ...]:
    """The PersistentVolumeClaims a release owns: its own, and those of its StatefulSets."""
    try:
        documents = list(YAML(typ="safe", pure=True).load_all(manifest))
    except YAMLError:
        return ()
    claims: list[str] = []
    for document in documents:
        if not isinstance(document, dict):
            continue
        kind = document.get("kind")
        name = (document.get("metadata") or {}).get("name")
        if kind == "PersistentVolumeClaim" and isinstance(name, str):
            claims.append(name)
        elif kind == "StatefulSet" and isinstance(name, str):
            spec = document.get("spec") or {}
            replicas = spec.get("replicas", 1)
            for template in spec.get("volumeClaimTemplates") or []:
                template_name = (template.get("metadata") or {}).get("name")
                if isinstance(template_name, str) and isinstance(replicas, int):
                    claims += [f"{template_name}-{name}-{i}" for i in range(replicas)]
    return tuple(sorted(set(claims)))


def crd_established(stdout: bytes | str) -> bool:
    """Whether `kubectl get customresourcedefinition NAME -o json` shows it Established: its
    kinds are then served, and a chart may create objects of them."""
    try:
        document = _json_object(stdout)
    except ValueError:
        return False
    conditions = (document.get("status") or {}).get("conditions") or []
    return any(
        isinstance(condition, dict)
        and condition.get("type") == "Established"
        and condition.get("status") == "True"
        for condition in conditions
    )
