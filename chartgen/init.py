"""`chartgen init`: the commented example, and the schema beside it for editors."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from chartgen.errors import OperationFailed
from chartgen.schema import SCHEMA_FILE, schema_text

EXAMPLE_FILE = "datacenter.example.yaml"


def example_text() -> str:
    return (resources.files("chartgen.schemas") / EXAMPLE_FILE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Initialized:
    written: tuple[Path, ...]
    kept_schema: Path | None = None  # an existing schema left as it was
    schema_differs: bool = False  # ... and not the one this chartgen would write


def write_example(target: Path) -> Initialized:
    """Writes the example (refusing to overwrite it) and, when absent, the schema it names.

    An existing schema is kept (it may be the user's, or one an editor points at), and said so,
    with whether it is this chartgen's.
    """
    text = example_text()  # read first: a broken installation is not a write error
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise OperationFailed(f"{target} exists; not overwriting it") from None
    except OSError as error:
        raise OperationFailed(f"cannot write {target}: {error.strerror or error}") from error
    schema_path = target.parent / SCHEMA_FILE
    current = schema_text()
    try:
        existing = schema_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        schema_path.write_text(current, encoding="utf-8")
        return Initialized((target, schema_path))
    except (OSError, UnicodeDecodeError):
        existing = None
    return Initialized((target,), schema_path, existing != current)
