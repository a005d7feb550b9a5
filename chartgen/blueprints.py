"""Blueprints: real Helm chart sources shipped in the package (blueprints/<name>/).

Files ending in `.j2` are rendered by Jinja2 with chartgen's own facts (versions, never user
data); every other file is copied byte for byte, so Helm's `{{ }}` needs no escaping.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any

import jinja2

JINJA_SUFFIX = ".j2"
_SKIPPED = frozenset({"__init__.py", "__pycache__"})


@functools.cache
def blueprint_files(name: str) -> tuple[tuple[PurePosixPath, bytes], ...]:
    """Every file of a blueprint, sorted by path (read once per process)."""
    root = resources.files("chartgen.blueprint_data") / name
    if not root.is_dir():
        raise LookupError(f"no blueprint named {name!r}")
    found: list[tuple[PurePosixPath, bytes]] = []
    _collect(root, PurePosixPath(), found)
    return tuple(sorted(found))


def _collect(
    folder: Traversable, prefix: PurePosixPath, found: list[tuple[PurePosixPath, bytes]]
) -> None:
    for entry in folder.iterdir():
        if entry.name in _SKIPPED or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            _collect(entry, prefix / entry.name, found)
        else:
            found.append((prefix / entry.name, entry.read_bytes()))


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )


def _template_source(key: str) -> str:
    blueprint, _, path = key.partition(":")
    for relative, data in blueprint_files(blueprint):
        if str(relative) == path:
            return data.decode("utf-8")
    raise jinja2.TemplateNotFound(key)


def render_blueprint(name: str, context: Mapping[str, Any]) -> dict[PurePosixPath, bytes]:
    """The blueprint's files, `.j2` ones rendered (and their suffix dropped)."""
    files: dict[PurePosixPath, bytes] = {}
    for relative, data in blueprint_files(name):
        if relative.suffix == JINJA_SUFFIX:
            template = _environment().get_template(f"{name}:{relative}")
            files[relative.with_suffix("")] = template.render(context).encode("utf-8")
        else:
            files[relative] = data
    return files


@functools.cache
def blueprint_values(name: str) -> Mapping[str, Any]:
    """The blueprint's default values as plain data, parsed once per process (callers must
    not change the mapping). The skeleton that values.yaml is merged on already holds them;
    a YAML parser reads what the skeleton does not model."""
    from chartgen import values_fast

    for relative, data in blueprint_files(name):
        if relative == PurePosixPath("values.yaml"):
            text = data.decode("utf-8")
            fast = values_fast.defaults(text)
            return fast if fast is not None else _parsed_values(text)
    raise LookupError(f"blueprint {name!r} has no values.yaml")


def _parsed_values(text: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    parsed: Any = YAML(typ="safe", pure=True).load(text)
    return parsed if isinstance(parsed, dict) else {}


def merged_values(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`overrides` over `defaults` as values.py merges them: mappings recursively, the rest
    replaced (a new structure; neither argument is changed)."""
    merged = dict(defaults)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping) and current:
            merged[key] = merged_values(current, value)
        else:
            merged[key] = value
    return merged
