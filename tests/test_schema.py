"""The JSON Schema itself: well-formed, described, closed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import REPO

SCHEMA = json.loads((REPO / "schemas" / "datacenter.schema.json").read_text())


def _object_schemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _object_schemas(value, f"{path}/{index}")


def _is_type_dispatch(schema: dict[str, Any]) -> bool:
    """The services entry only dispatches on `type` to closed per-type schemas."""
    return all("if" in branch and "then" in branch for branch in schema.get("allOf", [])) and bool(
        schema.get("allOf")
    )


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_property_has_a_description() -> None:
    missing = [
        f"{path}/properties/{name}"
        for path, schema in _object_schemas(SCHEMA)
        for name, prop in schema["properties"].items()
        if "description" not in prop and "/if" not in path
    ]
    assert missing == []


def test_every_object_is_closed() -> None:
    open_objects = [
        path
        for path, schema in _object_schemas(SCHEMA)
        if schema.get("additionalProperties") is not False
        and not _is_type_dispatch(schema)
        # `if` conditions and the `properties` of a `not` are predicates, not object schemas
        and "/if" not in path
    ]
    assert open_objects == []


def test_example_of_the_spec_is_valid() -> None:
    from chartgen.validate import validate_file

    assert validate_file(str(REPO / "datacenter.yaml")).ok


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


QUANTITY_SUFFIXES = ("", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def test_every_suffix_of_the_quantities_is_the_datacenter_schemas() -> None:
    (pattern,) = set(_patterns(SCHEMA["$defs"]["quantity"]))
    for suffix in QUANTITY_SUFFIXES:
        assert re.fullmatch(pattern, f"0.50{suffix}"), suffix
    assert not re.fullmatch(pattern, "1ki")


@pytest.mark.parametrize("blueprint", ["nginx", "nextcloud", "storage"])
def test_chart_schemas_accept_every_quantity_the_datacenter_accepts(blueprint: str) -> None:
    # Found by test_every_chart_of_a_schema_document_lints: the storage chart's schema refused
    # a volume of "0.50Ki" that the datacenter schema accepts, and helm lint failed.
    chart_schema = json.loads((REPO / "blueprints" / blueprint / "values.schema.json").read_text())
    quantities = [pattern for pattern in _patterns(chart_schema) if "Gi" in pattern]
    assert quantities
    for pattern in quantities:
        for suffix in QUANTITY_SUFFIXES:
            assert re.search(pattern, f"0.50{suffix}"), (pattern, suffix)


def test_a_key_two_subschemas_refuse_is_reported_once_in_the_words_of_the_closest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A base object schema and its type's fragment (if/then) may both be closed: each unknown
    key is one problem, at the key, in the words of the subschema that knows the most keys."""
    from chartgen import schema
    from chartgen.loader import load_text

    both_closed = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"type": {}, "name": {}, "replicas": {}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": "web"}}},
                "then": {
                    "additionalProperties": False,
                    "properties": {"type": {}, "name": {}, "replicas": {}, "host": {}},
                },
            }
        ],
    }
    monkeypatch.setattr(schema, "_validator", lambda: schema._Validator(both_closed))
    loaded = load_text("type: web\nreplicsa: 2\nname: a\nhots: x\nzzz: 1\n", "f.yaml")
    assert loaded.document is not None
    problems = sorted(schema.schema_problems(loaded.document))
    assert [problem.format() for problem in problems] == [
        'f.yaml:2:1: replicsa: unknown field; did you mean "replicas"?',
        'f.yaml:4:1: hots: unknown field; did you mean "host"?',
        "f.yaml:5:1: zzz: unknown field (allowed: host, name, replicas, type)",
    ]


def test_the_service_part_is_assembled_from_the_kinds_fragments() -> None:
    """`make schema` writes the service definitions from chartgen/kinds/<type>.schema.json and
    $defs/serviceCommon: the committed schema is exactly that."""
    from chartgen.schema_source import assembled, schema_text

    text = (REPO / "schemas" / "datacenter.schema.json").read_text(encoding="utf-8")
    assert schema_text(assembled(json.loads(text))) == text, "run `make schema`"


def test_a_kind_fragment_adds_its_keys_to_the_common_ones() -> None:
    from chartgen.schema_source import assembled

    schema = assembled(SCHEMA)
    definitions = schema["$defs"]
    common = set(definitions["serviceCommon"]["properties"])
    for kind, own in (("nginx", {"site"}), ("nextcloud", {"host", "web"}), ("app", {"ports"})):
        keys = set(definitions[f"{kind}Service"]["properties"])
        assert common | own <= keys
        assert definitions[f"{kind}Service"]["additionalProperties"] is False
    assert definitions["service"]["properties"]["type"]["enum"] == ["nginx", "nextcloud", "app"]
    # A kind's fragment refines a common key: app images may be pinned by digest.
    assert "digest" in definitions["appService"]["properties"]["image"]["properties"]
    assert "digest" not in definitions["nginxService"]["properties"]["image"]["properties"]
