"""A service's environment (`environment`, `env_file`), and the warning on values that look
like secrets."""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.context import Origin, PathPart, _Builder, _Context
from chartgen.compose.interpolate import parse_dotenv
from chartgen.compose.parsing import decode, split_assignment
from chartgen.problems import Problem, Severity

_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)
_NO_VALUE = "{name} has no value: Compose takes it from the environment; skipped"
_SECRET = (
    "looks like a secret: its value would be kept in the datacenter file and the generated "
    "values; create a Secret outside git and use secretEnv instead"
)


class _Environment(_Context):
    """`environment` and `env_file`."""

    def environment(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        env: dict[str, str] = {}
        places: dict[str, tuple[str, Origin]] = {}  # name -> (file, where it is set)
        self.env_files(service, here, env, places)
        where = [*here, "environment"]
        value = service.get("environment")
        if isinstance(value, CommentedSeq):
            for index in range(len(value)):
                item: list[PathPart] = [*where, index]
                text = self.text(value, index, item)
                if text is None:
                    continue
                name, assigned = split_assignment(text)
                if assigned is None:
                    self.warn(item, _NO_VALUE.format(name=name))
                    continue
                env[name] = assigned
                places[name] = (self.source, self.origin(item))
        elif isinstance(value, CommentedMap):
            for key in value:
                name = str(key)
                item = [*where, name]
                if value[key] is None:
                    self.warn(item, _NO_VALUE.format(name=name), key=True)
                    continue
                text = self.text(value, key, item)
                if text is None:
                    continue
                env[name] = text
                places[name] = (self.source, self.origin(item))
        elif value is not None:
            self.error(where, "must be a list of NAME=VALUE or a mapping")
        for name, text in env.items():
            if _SECRET_NAME.search(name) and text and not name.endswith("_FILE"):
                file, origin = places[name]
                self.problems.append(
                    Problem(
                        origin.line, origin.column, origin.path, _SECRET, Severity.WARNING, file
                    )
                )
        if not env:
            return
        built.spec["env"] = env
        first = where if "environment" in service else [*here, "env_file"]
        built.origins[("env",)] = self.origin(first, key=True)
        for name, (file, origin) in places.items():
            if file == self.source:
                built.origins[("env", name)] = origin

    def env_files(
        self,
        service: CommentedMap,
        here: list[PathPart],
        env: dict[str, str],
        places: dict[str, tuple[str, Origin]],
    ) -> None:
        if "env_file" not in service or service["env_file"] is None:
            return
        where = [*here, "env_file"]
        value = service["env_file"]
        entries: list[tuple[Any, list[PathPart], Any, PathPart]] = []
        if isinstance(value, CommentedSeq):
            entries = [(entry, [*where, index], value, index) for index, entry in enumerate(value)]
        else:
            entries = [(value, where, service, "env_file")]
        for entry, item, container, part in entries:
            required = True
            if isinstance(entry, CommentedMap):
                required = entry.get("required", True) is not False
                if "path" not in entry:
                    self.error(item, "an env_file entry needs its `path`")
                    continue
                relative = self.text(entry, "path", [*item, "path"])
            else:
                relative = self.text(container, part, item)
            if relative is None:
                continue
            display = self.beside(relative)
            try:
                raw = self.read(relative)
            except OSError as problem:
                if required:
                    self.error(item, f"cannot read {display}: {problem.strerror or problem}")
                continue
            text = decode(raw, display)
            if isinstance(text, Problem):
                self.problems.append(text)
                continue
            parsed, notes = parse_dotenv(text)
            for line, column, message in notes:
                self.problems.append(Problem(line, column, "", message, Severity.WARNING, display))
            for name, env_value, line in parsed:
                if env_value is None:
                    message = _NO_VALUE.format(name=name)
                    self.problems.append(Problem(line, 1, name, message, Severity.WARNING, display))
                    continue
                env[name] = env_value
                places[name] = (display, Origin(line, 1, name))
