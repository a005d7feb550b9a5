"""A service's `configs` as files of the app, their content read from the top-level
`configs` definitions."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.parsing import decode
from chartgen.problems import Problem


class _Files(_Context):
    """`configs`."""

    def files(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        where = [*here, "configs"]
        entries = self.sequence(service.get("configs"), where)
        if not entries:
            return
        definitions = self.tree.get("configs")
        definitions = definitions if isinstance(definitions, CommentedMap) else CommentedMap()
        files: list[dict[str, str]] = []
        for index, entry in enumerate(entries):
            item: list[PathPart] = [*where, index]
            if isinstance(entry, CommentedMap):
                source = (
                    self.text(entry, "source", [*item, "source"]) if "source" in entry else None
                )
                target = (
                    self.text(entry, "target", [*item, "target"]) if "target" in entry else None
                )
                for key in ("uid", "gid", "mode"):
                    if key in entry:
                        self.warn(
                            [*item, key],
                            "not imported: files are mounted read-only, readable by the pod",
                            key=True,
                        )
            else:
                source, target = self.text(entries, index, item), None
            if not source:
                self.error(item, "a config needs its `source`")
                continue
            if source not in definitions:
                self.error(item, f"refers to the undefined config `{source}`")
                continue
            content = self.config_content(source, definitions[source])
            if content is None:
                continue
            path = target or f"/{source}"
            built.origins[("files", len(files))] = self.origin(item)
            files.append({"path": path, "content": content})
        if files:
            built.spec["files"] = files
            built.origins[("files",)] = built.origins[("files", 0)]

    def config_content(self, name: str, definition: Any) -> str | None:
        where: list[PathPart] = ["configs", name]
        if not isinstance(definition, CommentedMap):
            self.error(where, "must be a mapping (file or content)", key=True)
            return None
        if "content" in definition:
            return self.text(definition, "content", [*where, "content"])
        if "file" in definition:
            relative = self.text(definition, "file", [*where, "file"], interpolate=True)
            if relative is None:
                return None
            display = self.beside(relative)
            try:
                raw = self.read(relative)
            except OSError as problem:
                self.error(
                    [*where, "file"], f"cannot read {display}: {problem.strerror or problem}"
                )
                return None
            text = decode(raw, display)
            if isinstance(text, Problem):
                self.problems.append(text)
                return None
            return text
        if "environment" in definition:
            variable = str(definition["environment"])
            if variable in self.variables:
                return self.variables[variable]
            self.error(
                [*where, "environment"],
                f"`{variable}` is not set in {self.beside('.env')}: give the config a `file` or "
                "a `content`",
            )
            return None
        self.error(where, "not imported: only configs with `file` or `content` are", key=True)
        return None
