"""A service's volumes: named volumes as claims, anonymous ones and `tmpfs` as emptyDirs,
host paths refused, and the top-level `volumes` definitions."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.parsing import dns_label, unique
from chartgen.problems import Problem, Severity, format_path

DEFAULT_VOLUME_SIZE = "1Gi"
# What an app's pods get as empty writable directories by default (the spec's `run`).
_DEFAULT_WRITABLE_PATHS = ("/tmp",)
_VOLUME_NAME_MAX = 40  # the app schema: part of a claim name


class _Volumes(_Context):
    """`volumes` and `tmpfs`."""

    def volume_users(self, services: CommentedMap) -> dict[str, list[str]]:
        """Named volume -> the services that mount it."""
        users: dict[str, list[str]] = {}
        for key in services:
            service = services[key]
            if not isinstance(service, CommentedMap):
                continue
            volumes = service.get("volumes")
            if not isinstance(volumes, CommentedSeq):
                continue
            for entry in volumes:
                source = None
                if isinstance(entry, str) and ":" in entry:
                    source = entry.split(":", 1)[0]
                elif isinstance(entry, CommentedMap) and entry.get("type", "volume") == "volume":
                    source = entry.get("source")
                if isinstance(source, str) and source and not _is_path(source):
                    users.setdefault(source, [])
                    if str(key) not in users[source]:
                        users[source].append(str(key))
        return users

    def volumes(
        self,
        service: CommentedMap,
        here: list[PathPart],
        built: _Builder,
        volume_users: dict[str, list[str]],
    ) -> None:
        volumes: list[dict[str, Any]] = []
        names: set[str] = set()
        definitions = self.tree.get("volumes")
        definitions = definitions if isinstance(definitions, CommentedMap) else CommentedMap()

        def add(entry: dict[str, Any], item: list[PathPart], base: str) -> None:
            name = unique(dns_label(base, _VOLUME_NAME_MAX, truncate=True) or "data", names)
            names.add(name)
            built.origins[("volumes", len(volumes))] = self.origin(item)
            volumes.append({"name": name, **entry})

        where = [*here, "volumes"]
        entries = self.sequence(service.get("volumes"), where)
        for index, entry in enumerate(entries or []):
            item: list[PathPart] = [*where, index]
            assert entries is not None
            mount = self.volume_mount(entries, index, entry, item)
            if mount is None:
                continue
            kind, source, target, read_only = mount
            if not target.startswith("/"):
                self.error(item, f"the target `{target}` is not an absolute path")
                continue
            if kind == "bind":
                self.warn(
                    item,
                    f"host path `{source}` is not mounted: a pod may run on any node; put the "
                    "data in a named volume (a claim on a storage class)",
                )
                continue
            if kind == "tmpfs":
                if target.rstrip("/") not in _DEFAULT_WRITABLE_PATHS:
                    add({"mountPath": target, "emptyDir": True}, item, _path_name(target))
                continue
            if kind == "anonymous":
                self.warn(
                    item,
                    f"anonymous volume: `{target}` becomes an emptyDir, its data goes with the "
                    "pod; name the volume to keep it",
                )
                add({"mountPath": target, "emptyDir": True}, item, _path_name(target))
                continue
            if kind != "volume":
                self.warn(item, f"a mount of type `{kind}` is not imported")
                continue
            if source not in definitions:
                self.error(item, f"refers to the undefined volume `{source}`")
                continue
            definition = definitions[source]
            self.volume_definition(source, definition)
            storage: dict[str, Any] = {"size": DEFAULT_VOLUME_SIZE}
            where_class = (
                "the default storage class" if self.has_default_class else "a storage class"
            )
            self.warn(
                item,
                f"volume `{source}` becomes a claim of {DEFAULT_VOLUME_SIZE} on {where_class}: "
                "the size is a guess, set the size the data needs",
            )
            users = volume_users.get(source, [])
            if len(users) > 1:
                others = ", ".join(f"`{user}`" for user in users if user != here[1])
                self.warn(
                    item,
                    f"volume `{source}` is also mounted by {others}: each service gets its own "
                    "claim, the data is not shared",
                )
            if read_only:
                self.warn(item, "mounted read-write: an app volume has no read-only mode")
            add({"mountPath": target, "storage": storage}, item, source)
        tmpfs = service.get("tmpfs")
        if tmpfs is not None:
            tmpfs_where = [*here, "tmpfs"]
            paths: list[tuple[Any, PathPart, list[PathPart]]]
            if isinstance(tmpfs, CommentedSeq):
                paths = [(tmpfs, index, [*tmpfs_where, index]) for index in range(len(tmpfs))]
            else:
                paths = [(service, "tmpfs", tmpfs_where)]
            for container, part, item in paths:
                text = self.text(container, part, item)
                if text is None:
                    continue
                target = text.split(":", 1)[0].strip()
                if not target.startswith("/"):
                    self.error(item, f"the target `{target}` is not an absolute path")
                    continue
                if target.rstrip("/") in _DEFAULT_WRITABLE_PATHS:
                    continue  # an app's pods have an empty writable /tmp already
                add({"mountPath": target, "emptyDir": True}, item, _path_name(target))
        if volumes:
            built.spec["volumes"] = volumes
            built.origins[("volumes",)] = built.origins[("volumes", 0)]

    def volume_mount(
        self, entries: CommentedSeq, index: int, entry: Any, item: list[PathPart]
    ) -> tuple[str, str, str, bool] | None:
        """(kind, source, target, read-only) of one `volumes` entry; kind is volume, bind,
        tmpfs, anonymous or another Compose mount type."""
        if isinstance(entry, CommentedMap):
            kind = str(entry.get("type", "volume"))
            if "target" not in entry:
                self.error(item, "a mount needs its `target`")
                return None
            target = self.text(entry, "target", [*item, "target"]) or ""
            source = ""
            if "source" in entry:
                source = self.text(entry, "source", [*item, "source"]) or ""
            if kind == "volume" and not source:
                kind = "anonymous"
            if "volume" in entry and kind == "volume":
                self.warn([*item, "volume"], "volume options are not imported", key=True)
            return kind, source, target, entry.get("read_only") is True
        text = self.text(entries, index, item)
        if text is None:
            return None
        parts = text.split(":")
        if len(parts) == 1:
            return "anonymous", "", parts[0], False
        if len(parts) > 3:
            self.error(item, "cannot be read as SOURCE:TARGET[:MODE]")
            return None
        source, target = parts[0], parts[1]
        read_only = len(parts) == 3 and "ro" in parts[2].split(",")
        return ("bind" if _is_path(source) else "volume"), source, target, read_only

    def volume_definition(self, name: str, definition: Any) -> None:
        if not isinstance(definition, CommentedMap):
            return
        where: list[PathPart] = ["volumes", name]
        for key in definition:
            key_name = str(key)
            if key_name == "external" and definition[key] not in (False, None):
                message = "the claim starts empty: copy the existing data into it"
            elif key_name in ("driver", "driver_opts"):
                message = "not imported: the claim uses the datacenter's storage class"
            else:
                continue
            problem_path = [*where, key_name]
            line, column = self.document.key_position(problem_path)
            problem = Problem(
                line, column, format_path(problem_path), message, Severity.WARNING, self.source
            )
            if problem not in self.problems:
                self.problems.append(problem)


def _is_path(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or "/" in source or "\\" in source


def _path_name(target: str) -> str:
    return dns_label(target.strip("/").replace("/", "-"), _VOLUME_NAME_MAX, truncate=True) or "root"
