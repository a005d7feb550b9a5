"""The JSON Schema (the single source of the structural rules) and its problems."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from chartgen.loader import Document, written_token
from chartgen.problems import Problem, format_path

SCHEMA_FILE = "datacenter.schema.json"


@functools.cache
def schema_text() -> str:
    return (resources.files("chartgen.schemas") / SCHEMA_FILE).read_text(encoding="utf-8")


def _is_integer(_checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# JSON Schema counts 3.0 (and 1e300) as an integer; YAML and Kubernetes do not (an int32 field
# refuses 3.0), so an integer field takes integers only.
_Validator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in its stubs
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@functools.cache
def _validator() -> Draft202012Validator:
    # The schema is checked against the metaschema by the test suite (tests/test_schema.py),
    # not here: that check alone costs more than validating a datacenter of 200 services.
    validator: Draft202012Validator = _Validator(json.loads(schema_text()))
    return validator


def schema_problems(document: Document) -> list[Problem]:
    problems: dict[tuple[str, str], Problem] = {}
    # An unknown key, by its path: two subschemas of one object (the base `service` and its
    # type's fragment) may both refuse it; the key is reported once.
    unknown: dict[str, tuple[tuple[int, int], Problem]] = {}
    for error in _validator().iter_errors(document.data):
        for leaf in _leaves(error):
            if leaf.validator == "additionalProperties":
                for rank, problem in _unknown_problems(leaf, document):
                    if problem.path not in unknown or rank > unknown[problem.path][0]:
                        unknown[problem.path] = (rank, problem)
                continue
            path, message = _describe(leaf)
            line, column = document.position([*leaf.absolute_path, *_missing_key(leaf)])
            message += _quote_hint(leaf, document, (line, column))
            problems.setdefault(
                (path, message), Problem(line, column, path, message, file=document.source)
            )
    for _rank, problem in unknown.values():
        problems.setdefault((problem.path, problem.message), problem)
    return list(problems.values())


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The errors worth showing: for anyOf/oneOf, the best-matching alternative."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        # An alternative that failed only on type is the wrong alternative, not the error.
        typed = [sub for sub in error.context if sub.validator != "type" or sub.relative_path]
        match = best_match(typed or error.context)
        if match is not None and _is_type_only(error):
            yield error
            return
        if match is not None:
            yield from _leaves(match)
            return
    yield error


def _is_type_only(error: ValidationError) -> bool:
    """Every alternative failed on type alone: one message naming them all reads best."""
    return all(sub.validator == "type" and not sub.relative_path for sub in error.context or ())


def _missing_key(error: ValidationError) -> list[str]:
    """The key a problem is about when it is not in error.path: a missing one."""
    if error.validator == "required":
        return [_required_name(error)]
    return []


def _allowed(error: ValidationError) -> list[str]:
    schema: Any = error.schema
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return sorted(str(name) for name in properties)


def _unknown_names(error: ValidationError) -> list[str]:
    """Every key of the object that its schema refuses, in the order of the file."""
    schema: Any = error.schema
    if not isinstance(schema, dict) or not isinstance(error.instance, dict):
        return []
    properties = schema.get("properties", {})
    patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
    return [
        str(key)
        for key in error.instance
        if key not in properties and not any(p.search(str(key)) for p in patterns)
    ]


def _unknown_problems(
    error: ValidationError, document: Document
) -> Iterator[tuple[tuple[int, int], Problem]]:
    """One problem per unknown key, at the key, with its rank: when two subschemas refuse one
    key, a close suggestion says it best, then the subschema that knows the most keys (a
    type's fragment rather than the base `service`)."""
    allowed = _allowed(error)
    for name in _unknown_names(error):
        hint = closest_name(name, allowed)
        suggestion = f'; did you mean "{hint}"?' if hint else f" (allowed: {', '.join(allowed)})"
        parts = [*error.absolute_path, name]
        line, column = document.key_position(parts)
        problem = Problem(
            line, column, format_path(parts), f"unknown field{suggestion}", file=document.source
        )
        yield (1 if hint else 0, len(allowed)), problem


def closest_name(name: str, candidates: list[str]) -> str | None:
    """The candidate a typo of `name` most likely meant, or None when none is close: at most
    one edit per three characters (a swap of two neighbours is one edit), as rustc and cargo
    judge "did you mean"; a far-away name gets the list of allowed ones instead."""
    limit = max(len(name), 3) // 3
    scored = [(_edit_distance(name.lower(), c.lower()), c) for c in candidates]
    close = sorted((distance, c) for distance, c in scored if distance <= limit)
    return close[0][1] if close else None


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, transpositions."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def _required_name(error: ValidationError) -> str:
    """The missing key of a `required` error: jsonschema makes one error per missing key and
    names it only in its message ("'image' is a required property")."""
    instance = error.instance if isinstance(error.instance, dict) else {}
    required: Any = error.validator_value
    missing = [str(name) for name in required if name not in instance]
    named = [name for name in missing if error.message.startswith(f"{name!r} ")]
    return (named or missing or [""])[0]


def _describe(error: ValidationError) -> tuple[str, str]:
    parts: list[str | int] = list(error.absolute_path)
    kind = error.validator
    value = error.instance
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        return format_path([*parts, _required_name(error)]), "required field is missing"
    path = format_path(parts)
    if kind == "type" or (kind in ("anyOf", "oneOf") and _is_type_only(error)):
        expected = _expected_types(error)
        return path, f"expected {expected}, got {_json_type(value)} {_show(value)}"
    if kind == "const":
        return path, f"must be {_show(error.validator_value)}, not {_show(value)}"
    if kind == "enum":
        options_value: Any = error.validator_value
        options = ", ".join(_show(option) for option in options_value)
        return path, f"{_show(value)} is not one of {options}"
    if kind == "pattern" or kind == "format":
        title = schema.get("title", "the expected format")
        return path, f"{_show(value)} is not a valid {title}"
    if kind == "maxLength":
        return path, f"{_show(value)} is longer than {error.validator_value} characters"
    if kind == "minItems":
        return path, f"must have at least {error.validator_value} item(s)"
    if kind == "minProperties":
        return path, "must not be empty"
    if kind == "uniqueItems":
        return path, "items must be unique"
    if kind == "not" and kind in schema and "const" in schema["not"]:
        return path, f"{_show(value)} is not allowed"
    if kind == "not" and "required" in schema.get("not", {}):
        return path, f"{_show(schema['not']['required'][0])} is not allowed for this type"
    return path, error.message


def _quote_hint(error: ValidationError, document: Document, position: tuple[int, int]) -> str:
    """A string field given a plain number or boolean: YAML read `1.30` as 1.3 and `yes` as
    true; quoting what was written keeps it (the written text, since 1.30 and 1.3 differ)."""
    value = error.instance
    if error.validator != "type" or "string" not in _expected_types(error):
        return ""
    if not isinstance(value, (int, float)):
        return ""
    written = written_token(document.text, position) if document.text else None
    if written is None or written.startswith(("'", '"')):
        return ""
    shown = _show(value)
    read = _article(_json_type(value)) if written == shown else shown
    return f': write it in quotes, "{written}" (unquoted, YAML reads {written} as {read})'


def _expected_types(error: ValidationError) -> str:
    types: Any
    if error.validator == "type":
        types = error.validator_value
    else:
        types = [sub.validator_value for sub in error.context or ()]
    flat: list[str] = []
    for entry in types if isinstance(types, list) else [types]:
        for name in entry if isinstance(entry, list) else [entry]:
            if str(name) not in flat:
                flat.append(str(name))
    return " or ".join(_article(name) for name in flat)


def _article(type_name: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer"}.get(
        type_name, f"a {type_name}"
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping"


def _show(value: object) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:37] + "..."
    return json.dumps(value, ensure_ascii=False)
