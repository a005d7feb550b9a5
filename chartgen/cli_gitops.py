"""The GitOps options that `build` and `diff` share.

They override the datacenter file's `gitops` key (`chartgen.gitops.resolve_gitops` merges both,
once the file is read; what no tool could use is a usage error, exit 2). Kept apart from cli.py so
that the options are declared once; `chartgen.gitops` (which renders) is imported only once a
command runs, so `chartgen --help` stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from chartgen.gitops import GitopsRequest

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
            "HelmReleases for every chart  [default: the file's gitops key]",
        ),
        click.option(
            "--repo-url",
            metavar="URL",
            default=None,
            help="Git repository the output folder is committed to (required with --gitops, "
            "unless the file's gitops.repoURL gives it).",
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
            "--prune/--no-prune",
            default=None,
            help="Argo CD deletes what leaves Git (automated prune, cascading delete)  "
            "[default: the file's gitops.prune, else no]",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def gitops_request(
    output: str,
    gitops: str | None,
    repo_url: str | None,
    revision: str | None,
    repo_path: str | None,
    prune: bool | None,
) -> GitopsRequest:
    """What the command line says about GitOps; the file's `gitops` key fills in the rest."""
    from chartgen.gitops import GitopsRequest

    return GitopsRequest(
        output=output,
        tool=None if gitops is None else "argocd" if gitops == "argocd" else "flux",
        repo_url=repo_url,
        revision=revision,
        path=repo_path,
        prune=prune,
    )


@contextlib.contextmanager
def usage_errors() -> Iterator[None]:
    """GitOps options that do not make sense (with the file's key): a usage error, exit 2."""
    from chartgen.gitops import GitopsUsage

    try:
        yield
    except GitopsUsage as error:
        raise click.UsageError(str(error)) from None
