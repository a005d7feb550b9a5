"""Where the service part of the JSON Schema comes from: each kind's own fragment.

`schemas/datacenter.schema.json` is the published schema (what `chartgen schema` prints and
editors read). Its service part is assembled here from the kinds' registry: `$defs/<kind>Service`
is `$defs/serviceCommon` (the keys every service has, written once in the schema file) with the
kind's own properties added or overriding; `$defs/service` switches on `type` over every kind.
Everything else in the file is written by hand. `make schema` rewrites the file; the test suite
fails when the committed file is not what this module assembles.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chartgen.kinds import Kind, kinds

COMMON = "serviceCommon"


def fragment_name(kind: Kind[Any]) -> str:
    return f"{kind.name}Service"


def assembled(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with its service part rebuilt from the kinds (the rest kept as it is)."""
    result = copy.deepcopy(dict(schema))
    definitions: dict[str, Any] = result["$defs"]
    common: Mapping[str, Any] = definitions[COMMON]["properties"]
    names = [kind.name for kind in kinds().values()]
    type_property = {**common["type"], "enum": names}
    for kind in kinds().values():
        own = kind.schema
        properties = {**common, "type": type_property}
        properties.update(own.get("properties", {}))
        fragment: dict[str, Any] = {"type": "object", "additionalProperties": False}
        if own.get("required"):
            fragment["required"] = list(own["required"])
        fragment["description"] = own["description"]
        fragment["properties"] = properties
        if own.get("allOf"):
            fragment["allOf"] = list(own["allOf"])
        definitions[fragment_name(kind)] = fragment
    service = definitions["service"]
    service["properties"]["type"] = type_property
    service["allOf"] = [
        {
            "if": {"properties": {"type": {"const": kind.name}}, "required": ["type"]},
            "then": {"$ref": f"#/$defs/{fragment_name(kind)}"},
        }
        for kind in kinds().values()
    ]
    return result


def schema_text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """`python -m chartgen.schema_source FILE`: rewrites FILE's service part from the kinds."""
    (path,) = argv
    published = Path(path)
    text = schema_text(assembled(json.loads(published.read_text(encoding="utf-8"))))
    if text != published.read_text(encoding="utf-8"):
        published.write_text(text, encoding="utf-8")
        print(f"{path}: service part rewritten from chartgen/kinds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
