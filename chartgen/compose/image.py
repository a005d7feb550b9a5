"""What a service's container runs: its image reference (`image`, `build`) and its
`entrypoint` and `command`."""

from __future__ import annotations

import re

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from chartgen.compose.context import PathPart, _Builder, _Context
from chartgen.compose.parsing import shell_syntax, split_command, split_image

_IMAGE_PART = {"entrypoint": "ENTRYPOINT", "command": "CMD"}


class _Image(_Context):
    """`image`, `build`, `entrypoint` and `command`."""

    def image(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> str | None:
        if "image" not in service:
            if "build" in service:
                self.error(
                    [*here, "build"],
                    "no image to deploy: build the image, push it to a registry the cluster "
                    "can pull from, and name it in `image:`",
                    key=True,
                )
            else:
                self.error(here, "no image to deploy: give `image:`", key=True)
            return None
        where = [*here, "image"]
        reference = self.text(service, "image", where)
        if reference is None:
            if service["image"] is None:
                self.error(where, "no image to deploy: give `image:`")
            return None
        if "${" in reference or re.search(r"\$[A-Za-z_]", reference):
            self.error(where, f"`{reference}` holds a variable that is not set: write the image")
            return None
        if "build" in service:
            self.warn(
                [*here, "build"],
                f"not built here: the image `{reference}` is pulled from its registry (push it "
                "there first)",
                key=True,
            )
        image = split_image(reference)
        if isinstance(image, str):
            self.error(where, image)
            return None
        built.spec["image"] = image
        built.origins[("image",)] = self.origin(where)
        return str(image["repository"])

    def commands(self, service: CommentedMap, here: list[PathPart], built: _Builder) -> None:
        for compose_key, app_key in (("entrypoint", "command"), ("command", "args")):
            if compose_key not in service or service[compose_key] is None:
                continue
            where = [*here, compose_key]
            value = service[compose_key]
            words: list[str] = []
            if isinstance(value, CommentedSeq):
                for index, _item in enumerate(value):
                    word = self.text(value, index, [*where, index])
                    if word is not None:
                        words.append(word)
            else:
                text = self.text(service, compose_key, where)
                if text is None:
                    continue
                try:
                    words = split_command(text)
                except ValueError as problem:
                    self.error(where, f"cannot be split into words: {problem}")
                    continue
                syntax = shell_syntax(words)
                if syntax is not None:
                    self.warn(
                        where,
                        f"`{syntax}` is shell syntax, but no shell runs the command (nor in "
                        f'Compose): write ["/bin/sh", "-c", "..."] if one is meant',
                    )
            if not words:
                self.warn(
                    where,
                    f"empty: Kubernetes runs the image's {_IMAGE_PART[compose_key]} when "
                    f"`{app_key}` is empty, so it cannot be cleared; give what to run",
                    key=True,
                )
                continue
            built.spec[app_key] = words
            built.origins[(app_key,)] = self.origin(where)
