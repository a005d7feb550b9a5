"""values.yaml: the blueprint's commented defaults with chartgen's values set into them.

User data reaches a chart only here, through the YAML emitter. Every key chartgen sets must
already exist in the blueprint's values.yaml, so every key keeps its comment.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from chartgen.emit import RoundTripRepresenter


def _round_trip() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.Representer = RoundTripRepresenter
    return yaml


def merge_values(defaults_text: str, overrides: Mapping[str, Any], chart: str) -> str:
    yaml = _round_trip()
    tree = yaml.load(defaults_text)
    _merge(tree, overrides, chart, "")
    stream = io.StringIO()
    yaml.dump(tree, stream)
    return stream.getvalue()


def _merge(tree: CommentedMap, overrides: Mapping[str, Any], chart: str, prefix: str) -> None:
    for key, value in overrides.items():
        if key not in tree:
            raise KeyError(f"{chart}: values.yaml of the blueprint has no key {prefix}{key}")
        current = tree[key]
        if isinstance(value, Mapping) and isinstance(current, CommentedMap) and current:
            _merge(current, value, chart, f"{prefix}{key}.")
        else:
            tree[key] = _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
