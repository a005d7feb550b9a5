"""`chartgen build`: validate, render, then write (or compare with) the output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import InvalidInput
from chartgen.problems import Problem
from chartgen.render import render
from chartgen.validate import validate_file
from chartgen.write import Difference, WriteResult, check_tree, write_tree


@dataclass(frozen=True)
class BuildResult:
    warnings: tuple[Problem, ...]
    written: WriteResult | None = None
    differences: tuple[Difference, ...] = ()


def build(file: str, out: Path, *, check: bool = False, force: bool = False) -> BuildResult:
    validation = validate_file(file)
    if validation.datacenter is None:
        raise InvalidInput(validation.problems)
    files = render(validation.datacenter)
    if check:
        return BuildResult(validation.problems, differences=tuple(check_tree(out, files)))
    return BuildResult(validation.problems, written=write_tree(out, files, force=force))
