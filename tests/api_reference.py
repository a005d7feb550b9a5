"""Field lists of published APIs, written down by hand under tests/data/<folder>/, and a checker.

A folder holds one YAML file per API group version:

    apiVersion: example.io/v1       # or a list of versions that share the same types
    reference: <where the list was read: repository, tag, file path or URL>
    kinds: [Kind, ...]               # the kinds of this version that may be checked
    types:                           # every type, by name: {field: type}
      Kind: {apiVersion: string, kind: string, metadata: ObjectMeta, spec: KindSpec}
    required:                        # optional: fields a type must have
      KindSpec: [field, ...]

Type notation: a scalar of SCALARS, `enum[a,b]` (members that look like integers are
integers), `[]T` (list of T), `map[string]T`, or the name of a type listed under `types`.

`reference_problems(document, references)` lists, recursively, every field that the reference
does not have, has with another type, or requires and the document lacks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

GO_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")
# Gateway API's Duration: at most four parts of up to five digits, units h, m, s and ms only.
GATEWAY_DURATION = re.compile(r"([0-9]{1,5}(h|m|s|ms)){1,4}")
# Kubernetes resource.Quantity, as its CRD schemas spell it.
QUANTITY = re.compile(
    r"(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?"
)
BASE64 = re.compile(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _integer(value: object, bits: int) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    return -(1 << (bits - 1)) <= value < 1 << (bits - 1)


SCALARS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "bool": lambda value: isinstance(value, bool),
    "int32": lambda value: _integer(value, 32),
    "int64": lambda value: _integer(value, 64),
    "duration": lambda value: isinstance(value, str) and GO_DURATION.fullmatch(value) is not None,
    "gatewayDuration": lambda value: (
        isinstance(value, str) and GATEWAY_DURATION.fullmatch(value) is not None
    ),
    "quantity": lambda value: (
        _integer(value, 64) or (isinstance(value, str) and QUANTITY.fullmatch(value) is not None)
    ),
    "base64": lambda value: isinstance(value, str) and BASE64.fullmatch(value) is not None,
    "object": lambda value: isinstance(value, dict),
    "any": lambda value: True,
}

LIST = "[]"
MAP = "map[string]"
ENUM = "enum["


@functools.cache
def load_references(folder: Path) -> dict[str, dict[str, Any]]:
    """Every field list of `folder`, by apiVersion (a file may cover several versions)."""
    loaded: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        reference = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        versions = reference["apiVersion"]
        versions = [versions] if isinstance(versions, str) else list(versions)
        reference.setdefault("required", {})
        reference["file"] = path.name
        for version in versions:
            if version in loaded:
                raise ValueError(f"{path.name}: {version} is also in {loaded[version]['file']}")
            loaded[version] = reference
    return loaded


def enum_members(type_name: str) -> list[str | int]:
    members = type_name[len(ENUM) : -1].split(",")
    return [int(member) if re.fullmatch(r"-?[0-9]+", member) else member for member in members]


def definition_problems(references: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every kind, field type or required field that the field lists name but do not define."""
    problems = []
    for reference in {id(value): value for value in references.values()}.values():
        file, types = reference["file"], reference["types"]
        problems += [
            f"{file}: kind {kind} has no type" for kind in reference["kinds"] if kind not in types
        ]
        for type_name, fields in types.items():
            for field_name, field_type in fields.items():
                base = field_type
                while base.startswith((LIST, MAP)):
                    base = base.removeprefix(LIST).removeprefix(MAP)
                known = base in SCALARS or base in types
                known = known or (base.startswith(ENUM) and base.endswith("]"))
                if not known:
                    problems.append(f"{file}: {type_name}.{field_name}: {field_type}")
        for type_name, names in reference["required"].items():
            if type_name not in types:
                problems.append(f"{file}: required fields of unknown type {type_name}")
                continue
            problems += [
                f"{file}: {type_name}.{name} is required but not a field"
                for name in names
                if name not in types[type_name]
            ]
    return problems


def reference_problems(
    document: Mapping[str, Any], references: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Every field of `document` that its API reference does not have, or of the wrong type,
    and every field that the reference requires and `document` lacks."""
    reference = references.get(document.get("apiVersion", ""))
    if reference is None:
        return [f"apiVersion {document.get('apiVersion')!r} has no reference field list"]
    kind = str(document.get("kind"))
    if kind not in reference["kinds"]:
        return [f"{document['apiVersion']} has no kind {kind!r}"]
    return list(_check(document, kind, reference, kind))


def _check(value: Any, type_name: str, reference: Mapping[str, Any], at: str) -> Iterator[str]:
    types = reference["types"]
    if type_name.startswith(LIST):
        if not isinstance(value, list):
            yield f"{at}: expected a list, got {value!r}"
            return
        for index, item in enumerate(value):
            yield from _check(item, type_name[len(LIST) :], reference, f"{at}[{index}]")
    elif type_name.startswith(MAP):
        if not isinstance(value, dict):
            yield f"{at}: expected a map, got {value!r}"
            return
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{at}: key {key!r} is not a string"
            yield from _check(item, type_name[len(MAP) :], reference, f"{at}.{key}")
    elif type_name.startswith(ENUM):
        allowed = enum_members(type_name)
        if not any(type(value) is type(member) and value == member for member in allowed):
            yield f"{at}: {value!r} is not one of {allowed}"
    elif type_name in SCALARS:
        if not SCALARS[type_name](value):
            yield f"{at}: {value!r} is not a {type_name}"
    elif type_name in types:
        if not isinstance(value, dict):
            yield f"{at}: expected a {type_name} object, got {value!r}"
            return
        fields = types[type_name]
        for key, item in value.items():
            if key not in fields:
                yield f"{at}.{key}: unknown field of {type_name}"
            else:
                yield from _check(item, fields[key], reference, f"{at}.{key}")
        for name in reference["required"].get(type_name, []):
            if name not in value:
                yield f"{at}.{name}: required field of {type_name} is missing"
    else:
        raise AssertionError(f"reference data names an unknown type {type_name!r} ({at})")
