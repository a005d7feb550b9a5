"""How a service's container runs: its user and group (`user`), and a read-only root file
system (`read_only`)."""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from chartgen.compose.context import PathPart, _Builder, _Context


class _Run(_Context):
    """`user` and `read_only`."""

    def run(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        run: dict[str, Any] = {}
        if service.get("user") not in (None, ""):
            where = [*here, "user"]
            text = self.text(service, "user", where)
            if text is not None:
                user, _sep, group = text.partition(":")
                if user.isdigit():
                    run["user"] = int(user)
                else:
                    self.warn(
                        where,
                        f"the user `{user}` is a name: give its number (`id -u {user}` in the "
                        "image); chartgen's non-root default applies",
                    )
                if group and group.isdigit():
                    run["group"] = int(group)
                elif group:
                    self.warn(where, f"the group `{group}` is a name: give its number")
                built.origins[("run",)] = self.origin(where)
        else:
            self.warn(
                here,
                "no `user`: the pod runs as chartgen's default non-root user 65532, not the "
                "image's own; set run.user if the image needs another",
                key=True,
            )
        read_only = service.get("read_only") is True
        run["readOnlyRootFilesystem"] = read_only
        if "read_only" in service:
            built.origins.setdefault(("run",), self.origin([*here, "read_only"]))
        built.spec["run"] = run
