"""What every step of the conversion shares: where a part of a service comes from, the
service being built, and the reading of the Compose file's values with their problems."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.interpolate import interpolate_text
from chartgen.loader import Document
from chartgen.problems import Problem, Severity, format_path

Reader = Callable[[str], bytes]
"""Reads a file named in the Compose file (relative to its folder); raises OSError."""

PathPart = str | int


@dataclass(frozen=True)
class Origin:
    """Where in the Compose file a part of an imported service comes from."""

    line: int
    column: int
    path: str


@dataclass
class _Builder:
    """One app service being built: its entry, and where each part of it comes from."""

    spec: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[PathPart, ...], Origin] = field(default_factory=dict)


class _Context:
    """The state of one conversion, and how the steps read values and report problems."""

    def __init__(
        self,
        document: Document,
        scalar_texts: dict[tuple[int, int], str],
        *,
        nodes: Sequence[Mapping[str, Any]],
        storage: Sequence[Mapping[str, Any]],
        existing: Collection[str],
        datacenter_source: str,
        project_dir: str,
        read: Reader,
    ) -> None:
        self.document = document
        self.tree = document.tree
        self.source = document.source
        self.scalar_texts = scalar_texts
        self.nodes = nodes
        self.has_default_class = any(entry.get("default") is True for entry in storage)
        self.existing = set(existing)
        self.datacenter_source = datacenter_source
        self.project_dir = project_dir
        self.read = read
        self.problems: list[Problem] = []
        self.namespace: str | None = None
        self.variables: dict[str, str] = {}

    # problems and positions

    def problem(
        self, path: Sequence[PathPart], message: str, *, key: bool = False, error: bool = False
    ) -> None:
        line, column = self.document.key_position(path) if key else self.document.position(path)
        severity = Severity.ERROR if error else Severity.WARNING
        self.problems.append(
            Problem(line, column, format_path(path), message, severity, self.source)
        )

    def warn(self, path: Sequence[PathPart], message: str, *, key: bool = False) -> None:
        self.problem(path, message, key=key)

    def error(self, path: Sequence[PathPart], message: str, *, key: bool = False) -> None:
        self.problem(path, message, key=key, error=True)

    def origin(self, path: Sequence[PathPart], *, key: bool = False) -> Origin:
        line, column = self.document.key_position(path) if key else self.document.position(path)
        return Origin(line, column, format_path(path))

    # scalars

    def raw_text(self, container: Any, part: PathPart, value: Any) -> str:
        """A scalar as the text it was written as (numbers keep their spelling)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return str(value)
        try:
            if isinstance(container, CommentedMap):
                line, column = container.lc.value(part)
            else:
                line, column = container.lc.item(part)
        except (KeyError, TypeError, AttributeError):
            return str(value)
        return self.scalar_texts.get((line, column), str(value))

    def text(
        self, container: Any, part: PathPart, path: Sequence[PathPart], *, interpolate: bool = True
    ) -> str | None:
        """The scalar at container[part] as a string, interpolated as Compose does, or None
        (with an error) when it is a mapping or a list."""
        value = container[part]
        if isinstance(value, (Mapping, list)):
            self.error(path, "must be a string")
            return None
        if value is None:
            return None
        raw = self.raw_text(container, part, value)
        if not interpolate or not isinstance(value, str):
            return raw
        result, notes = interpolate_text(raw, self.variables)
        for note in notes:
            self.warn(path, note)
        return result

    def mapping(self, value: Any, path: Sequence[PathPart]) -> CommentedMap | None:
        if isinstance(value, CommentedMap):
            return value
        if value is not None:
            self.error(path, "must be a mapping")
        return None

    def sequence(self, value: Any, path: Sequence[PathPart]) -> CommentedSeq | None:
        if isinstance(value, CommentedSeq):
            return value
        if value is not None:
            self.error(path, "must be a list")
        return None

    def beside(self, relative: str) -> str:
        return os.path.normpath(PurePath(self.source).parent / relative)
