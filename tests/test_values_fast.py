"""The fast values.yaml merge gives the bytes of the ruamel round trip, or steps aside."""

from __future__ import annotations

import io
import random
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from chartgen import values_fast
from chartgen.blueprints import blueprint_files, blueprint_values
from chartgen.charts import ChartSource
from chartgen.emit import round_trip_yaml
from chartgen.render import _service_chart, _storage_chart
from chartgen.validate import validate_file
from chartgen.values import merge_values, merge_values_round_trip
from tests.conftest import case_dirs

BLUEPRINTS = ("nginx", "nextcloud", "app", "storage")


def _defaults(blueprint: str) -> str:
    return dict(blueprint_files(blueprint))[PurePosixPath("values.yaml")].decode("utf-8")


def _chart_sources(case: Path) -> list[ChartSource]:
    validation = validate_file(str(case / "datacenter.yaml"))
    assert validation.datacenter is not None
    dc = validation.datacenter
    charts = [_service_chart(dc, service) for service in dc.services]
    storage = _storage_chart(dc, [claim for chart in charts for claim in chart.claims])
    return charts + ([storage] if storage is not None else [])


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_blueprint_compiles(blueprint: str) -> None:
    assert values_fast.compile_blueprint(_defaults(blueprint)) is not None


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_blueprint_without_values_is_its_round_trip(blueprint: str) -> None:
    text = _defaults(blueprint)
    assert values_fast.merge(text, {}, blueprint) == merge_values_round_trip(text, {}, blueprint)


@pytest.mark.parametrize("case", case_dirs("valid"), ids=lambda path: path.name)
def test_every_chart_of_every_case_merges_like_the_round_trip(case: Path) -> None:
    for source in _chart_sources(case):
        text = _defaults(source.blueprint)
        expected = merge_values_round_trip(text, source.values, source.blueprint)
        assert merge_values(text, source.values, source.blueprint) == expected


def test_the_fast_path_serves_the_common_charts() -> None:
    """Not a silent fallback everywhere: the reference datacenter's charts are all fast."""
    for source in _chart_sources(Path(__file__).parent.parent):
        fast = values_fast.merge(_defaults(source.blueprint), source.values, source.blueprint)
        assert fast is not None, source.blueprint


@pytest.mark.parametrize(
    "value",
    ["{{ .Release.Name }}", "a: b", "x #y", "line\nbreak", None, 1.5, "é", " lead", "y" * 300],
)
def test_strings_the_emitter_quotes_or_folds_merge_exactly(value: Any) -> None:
    """A string beyond the simple forms is written by the emitter itself, at its column; a
    value of another type (None, a float) makes the fast path step aside."""
    text = _defaults("nginx")
    overrides = {"page": {"title": value}, "podAnnotations": {"k": value}}
    fast = values_fast.merge(text, overrides, "nginx")
    assert (fast is not None) == isinstance(value, str)
    expected = merge_values_round_trip(text, overrides, "nginx")
    assert merge_values(text, overrides, "nginx") == expected


_ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=120)


@given(_ANY_TEXT, _ANY_TEXT)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_any_string_anywhere_merges_like_the_round_trip(first: str, second: str) -> None:
    """Map values at several depths, list items, and the first and later keys of a mapping
    inside a list: where the emitter's column and the dash differ."""
    text = _defaults("app")
    overrides = {
        "image": {"repository": "r", "tag": "t"},
        "podAnnotations": {"a": first, "b": second},
        "env": {"A": first},
        "args": [first, second],
        "files": [{"path": first, "content": second}, {"path": "/p", "content": first}],
        "secretEnv": [{"name": "N", "secret": second, "key": first}],
        "service": {"targetPort": first},
    }
    fast = values_fast.merge(text, overrides, "app")
    assert fast is not None
    assert fast == merge_values_round_trip(text, overrides, "app")


def test_an_unknown_key_is_refused_like_the_round_trip() -> None:
    text = _defaults("nginx")
    with pytest.raises(KeyError, match=r"nginx: values.yaml of the blueprint has no key image\.x"):
        merge_values(text, {"image": {"x": 1}}, "nginx")


def _random_strings(count: int) -> list[str]:
    rng = random.Random(8)
    alphabet = "aZ09._/()@+=- :#'\"yYnNtTeE{}[],!&*|>%`?~\\\n\u00e9xo"
    words = ["yes", "no", "on", "off", "true", "null", "~", "1", "0x1f", "1.5", "1e3", ".inf"]
    words += ["2024-01-02", "1:20", "0o17", "010", "+1", "-1", "1_000", "=", "<<", "Y", "n", ""]
    found = []
    for _ in range(count):
        if rng.random() < 0.3:
            found.append(rng.choice(words) + rng.choice(["", " ", "x", ".5", "-a", "/b"]))
        else:
            found.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))))
    return found


def _round_trip(data: Any) -> str:
    stream = io.StringIO()
    round_trip_yaml().dump(data, stream)
    return stream.getvalue()


def test_scalars_and_keys_are_emitted_like_the_round_trip_emitter() -> None:
    emitted = 0
    for text in _random_strings(4000):
        try:
            scalar = values_fast.scalar_text(text)
        except values_fast.NotFast:
            continue
        emitted += 1
        assert f"k: {scalar}\n" == _round_trip({"k": text}), text
        try:
            key = values_fast.key_text(text)
        except values_fast.NotFast:
            continue
        assert f"{key}: 1\n" == _round_trip({text: 1}), text
    assert emitted > 500  # the generator does reach the fast path


def test_nested_values_are_emitted_like_the_round_trip_emitter() -> None:
    value = {
        "a": [{"b": [1, "x"], "c": {}}, "y", [], {}, {"d": {"e": True}}],
        "f": {"g": [], "h": "10.0.0.0/8"},
    }
    lines: list[str] = []
    values_fast.value_lines(0, "top", value, lines)
    assert "".join(f"{line}\n" for line in lines) == _round_trip({"top": value})


def _typed(value: Any) -> Any:
    """`value` with every scalar paired with its type: True == 1 in Python, not in YAML."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize("blueprint", (*BLUEPRINTS, "namespaces"))
def test_blueprint_defaults_are_what_a_yaml_parser_reads(blueprint: str) -> None:
    text = _defaults(blueprint)
    fast = values_fast.defaults(text)
    assert fast is not None
    parsed = YAML(typ="safe", pure=True).load(text)
    assert _typed(fast) == _typed(parsed)
    assert blueprint_values(blueprint) == parsed


BLUEPRINT_SCALARS = """\
# head
port: 8080
enabled: true
disabled: false
name: "quoted"
plain: web front
empty: ''
map: {}
list: []
nested:
  # before the first child
  items:
    - a
    - 7
    - true
    - {}
  deeper:
    key: value
"""


def test_the_defaults_of_every_kind_of_scalar_match_the_parser() -> None:
    fast = values_fast.defaults(BLUEPRINT_SCALARS)
    assert fast is not None
    assert _typed(fast) == _typed(YAML(typ="safe", pure=True).load(BLUEPRINT_SCALARS))


def test_every_call_gets_its_own_defaults() -> None:
    first = values_fast.defaults(BLUEPRINT_SCALARS)
    assert first is not None
    first["map"]["changed"] = 1
    first["nested"]["items"][3]["changed"] = 1
    first["nested"]["deeper"]["key"] = "changed"
    assert values_fast.defaults(BLUEPRINT_SCALARS) == YAML(typ="safe", pure=True).load(
        BLUEPRINT_SCALARS
    )


def test_defaults_the_skeleton_does_not_model_are_left_to_the_parser() -> None:
    assert values_fast.defaults("ratio: 0.5\n") is None
    assert values_fast.defaults("empty:\n") is None
