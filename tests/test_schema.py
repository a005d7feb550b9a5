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
