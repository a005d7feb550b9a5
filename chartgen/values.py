"""values.yaml: the blueprint's commented defaults with chartgen's values set into them.

User data reaches a chart only here, through the YAML emitter. Every key chartgen sets must
already exist in the blueprint's values.yaml, so every key keeps its comment.

The reference behaviour is a ruamel.yaml round trip (load the blueprint with its comments, set
the values, dump): `merge_values_round_trip`. It is exact but slow (pure-Python scanner and
emitter, ~50 ms per chart), so `merge_values` takes a fast path that produces the same bytes:
the blueprint is compiled once per process into a tree of lines (`chartgen.values_fast`) and
the values are emitted line by line. Whatever the fast path does not model exactly (a scalar
that needs quoting rules beyond the simple ones, a structure the compiler does not know) makes
it step aside, and the round trip runs instead; tests compare both paths.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap

from chartgen import values_fast
from chartgen.emit import round_trip_yaml


def merge_values(defaults_text: str, overrides: Mapping[str, Any], chart: str) -> str:
    """The blueprint's values.yaml with `overrides` set into it (keys must exist there)."""
    fast = values_fast.merge(defaults_text, _plain(overrides), chart)
    if fast is not None:
        return fast
    return merge_values_round_trip(defaults_text, overrides, chart)


def merge_values_round_trip(defaults_text: str, overrides: Mapping[str, Any], chart: str) -> str:
    """The reference: a ruamel.yaml round trip of the blueprint with the values set."""
    yaml = round_trip_yaml()
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
