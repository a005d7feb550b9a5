"""The GitOps options that `build` and `diff` share, and their checks (usage errors: exit 2).

Kept apart from cli.py so that the options are declared once; `chartgen.gitops` (which renders)
is imported only once a command runs, so `chartgen --help` stays fast.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from chartgen.gitops import GitopsOptions

F = TypeVar("F", bound=Callable[..., Any])

GITOPS_TOOLS = ("argocd", "flux")


def gitops_options(command: F) -> F:
    """Adds --gitops, --repo-url, --revision, --path and --prune to a command."""
    decorators = [
        click.option(
            "--gitops",
            type=click.Choice(GITOPS_TOOLS),
            default=None,
            help="Also write gitops/<tool>/: Argo CD Applications (app-of-apps) or Flux "
            "HelmReleases for every chart.",
        ),
        click.option(
            "--repo-url",
            metavar="URL",
            default=None,
            help="Git repository the output folder is committed to (required with --gitops).",
        ),
        click.option(
            "--revision",
            metavar="REV",
            default=None,
            help="Branch, refs/... reference or commit the GitOps tool follows  [default: main]",
        ),
        click.option(
            "--path",
            "repo_path",
            metavar="P",
            default=None,
            help="Where the output folder is inside the repository  [default: the folder as "
            "given with -o]",
        ),
        click.option(
            "--prune",
            is_flag=True,
            help="Argo CD deletes what leaves Git (automated prune, cascading delete).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def resolve_gitops(
    output: str,
    gitops: str | None,
    repo_url: str | None,
    revision: str | None,
    repo_path: str | None,
    prune: bool,
) -> GitopsOptions | None:
    """The GitOps options of a command line, or None without --gitops; usage errors raised."""
    if gitops is None:
        given = [
            name
            for name, value in (
                ("--repo-url", repo_url),
                ("--revision", revision),
                ("--path", repo_path),
                ("--prune", prune or None),
            )
            if value is not None
        ]
        if given:
            raise click.UsageError(f"{', '.join(given)} need --gitops argocd or --gitops flux")
        return None
    if not repo_url:
        raise click.UsageError(f"--gitops {gitops} needs --repo-url URL")
    _check_repository(gitops, repo_url, revision)
    if prune and gitops == "flux":
        raise click.UsageError(
            "--prune is for Argo CD: Flux's Helm releases always remove what a chart no "
            "longer renders"
        )
    from chartgen.gitops import DEFAULT_REVISION, GitopsOptions

    return GitopsOptions(
        tool="argocd" if gitops == "argocd" else "flux",
        repo_url=repo_url,
        path=_repository_path(output, repo_path),
        revision=revision or DEFAULT_REVISION,
        prune=prune,
    )


def _check_repository(tool: str, repo_url: str, revision: str | None) -> None:
    """The URL and revision as Argo CD / Flux would take them: a refused one would otherwise
    surface only in the tool, after the commit is pushed."""
    from chartgen.git_refs import repo_url_problem, revision_problem

    problem = repo_url_problem(repo_url, tool)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="'--repo-url'")
    problem = revision_problem(revision) if revision is not None else None
    if problem is not None:
        raise click.BadParameter(problem, param_hint="'--revision'")


def _repository_path(output: str, repo_path: str | None) -> str:
    given = repo_path if repo_path is not None else output
    if PurePath(given).is_absolute() or given.startswith("/"):
        what = "--path" if repo_path is not None else f"-o {output} is absolute: --path"
        raise click.UsageError(f"{what} must be relative to the repository's root")
    normal = posixpath.normpath(PurePath(given).as_posix())
    if normal == ".." or normal.startswith("../"):
        raise click.UsageError(f"{given} is outside the repository; give --path")
    return "" if normal == "." else normal
