"""`chartgen build`: validate, render, then write (or compare with) the output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from chartgen.errors import InvalidInput
from chartgen.gitops import GitopsOptions, gitops_files
from chartgen.loader import Document
from chartgen.model import Datacenter
from chartgen.problems import Problem, sort_problems
from chartgen.render import render_tree
from chartgen.validate import validate_file
from chartgen.version_steps import version_jumps
from chartgen.write import Difference, WriteResult, check_tree, write_tree


@dataclass(frozen=True)
class BuildResult:
    warnings: tuple[Problem, ...]
    written: WriteResult | None = None
    differences: tuple[Difference, ...] = ()


@dataclass(frozen=True)
class Built:
    """What a build writes, before it is written: the tree, and the input's warnings."""

    warnings: tuple[Problem, ...]
    files: dict[PurePosixPath, bytes]
    datacenter: Datacenter | None = None
    document: Document | None = None


def built_tree(file: str, gitops: GitopsOptions | None = None) -> Built:
    """Validates FILE and renders the whole tree a build writes (GitOps files included)."""
    validation = validate_file(file)
    if validation.datacenter is None:
        raise InvalidInput(validation.problems)
    rendered = render_tree(validation.datacenter)
    files = dict(rendered.files)
    if gitops is not None:
        files.update(gitops_files(validation.datacenter, rendered, gitops))
    return Built(validation.problems, files, validation.datacenter, validation.document)


def build(
    file: str,
    out: Path,
    *,
    check: bool = False,
    force: bool = False,
    gitops: GitopsOptions | None = None,
    allow_version_jump: bool = False,
) -> BuildResult:
    tree = built_tree(file, gitops)
    if check:
        return BuildResult(tree.warnings, differences=tuple(check_tree(out, tree.files)))
    if not allow_version_jump and tree.datacenter is not None and tree.document is not None:
        jumps = version_jumps(tree.datacenter, tree.document, out)
        if jumps:
            raise InvalidInput(sort_problems([*tree.warnings, *jumps]))
    return BuildResult(tree.warnings, written=write_tree(out, tree.files, force=force))
