"""`chartgen build`: validate, render, then write (or compare with) the output folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from chartgen.errors import InvalidInput, OperationFailed
from chartgen.gitops import (
    GITOPS_DIR,
    GitopsOptions,
    GitopsRequest,
    gitops_files,
    resolve_gitops,
)
from chartgen.loader import Document
from chartgen.model import Datacenter
from chartgen.problems import Problem, sort_problems
from chartgen.render import render_tree
from chartgen.validate import validate_file
from chartgen.version_steps import version_jumps
from chartgen.write import Difference, WriteResult, check_tree, read_manifest, write_tree

TOOL_NAMES = {"argocd": "Argo CD", "flux": "Flux"}


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
    gitops: GitopsOptions | None = None


def built_tree(file: str, gitops: GitopsOptions | GitopsRequest | None = None) -> Built:
    """Validates FILE and renders the whole tree a build writes (GitOps files included).

    A GitopsRequest (the command line's options) is merged with the file's `gitops` key; given
    GitopsOptions are used as they are.
    """
    validation = validate_file(file)
    if validation.datacenter is None:
        raise InvalidInput(validation.problems)
    dc = validation.datacenter
    if isinstance(gitops, GitopsRequest):
        gitops = resolve_gitops(dc.gitops, gitops)
    rendered = render_tree(dc)
    files = dict(rendered.files)
    if gitops is not None:
        files.update(gitops_files(dc, rendered, gitops))
    return Built(validation.problems, files, dc, validation.document, gitops)


def build(
    file: str,
    out: Path,
    *,
    check: bool = False,
    force: bool = False,
    gitops: GitopsOptions | GitopsRequest | None = None,
    allow_version_jump: bool = False,
) -> BuildResult:
    tree = built_tree(file, gitops)
    if check:
        return BuildResult(tree.warnings, differences=tuple(check_tree(out, tree.files)))
    if not allow_version_jump and tree.datacenter is not None and tree.document is not None:
        jumps = version_jumps(tree.datacenter, tree.document, out)
        if jumps:
            raise InvalidInput(sort_problems([*tree.warnings, *jumps]))
    if tree.gitops is None and not force:
        _refuse_to_drop_gitops(file, out)
    return BuildResult(tree.warnings, written=write_tree(out, tree.files, force=force))


def _refuse_to_drop_gitops(file: str, out: Path) -> None:
    """A build without GitOps settings prunes the GitOps files an earlier build wrote: a whole
    folder of Argo CD Applications or Flux HelmReleases the user has committed. Refused, saying
    how to keep them and how to delete them."""
    owned = read_manifest(out)
    gitops = GITOPS_DIR.name
    tools = sorted(
        {path.parts[1] for path in owned if len(path.parts) > 2 and path.parts[0] == gitops}
    )
    if not tools:
        return
    tool = tools[0]
    folder = out / GITOPS_DIR / tool
    raise OperationFailed(
        f"{folder}/ holds the {TOOL_NAMES.get(tool, tool)} files of an earlier build, and this "
        f"build has no GitOps settings: it would delete them. To keep them, add to {file}\n"
        f"    gitops:\n      tool: {tool}\n      repoURL: <the Git repository of {out}>\n"
        f"or give --gitops {tool} --repo-url URL as before. To delete them, build with --force."
    )
