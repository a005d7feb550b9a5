"""`chartgen init`: the commented example, and the schema beside it for editors."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from chartgen.errors import OperationFailed
from chartgen.schema import SCHEMA_FILE, schema_text

EXAMPLE_FILE = "datacenter.example.yaml"


def example_text() -> str:
    return (resources.files("chartgen.schemas") / EXAMPLE_FILE).read_text(encoding="utf-8")


def write_example(target: Path) -> list[Path]:
    """Writes the example (refusing to overwrite it) and, when absent, the schema it names."""
    written: list[Path] = []
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(example_text())
    except FileExistsError:
        raise OperationFailed(f"{target} exists; not overwriting it") from None
    except OSError as error:
        raise OperationFailed(f"cannot write {target}: {error.strerror or error}") from error
    written.append(target)
    schema_path = target.parent / SCHEMA_FILE
    if not schema_path.exists():
        schema_path.write_text(schema_text(), encoding="utf-8")
        written.append(schema_path)
    return written
