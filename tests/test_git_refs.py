"""Repository URLs and revisions as Argo CD and Flux take them (chartgen.git_refs)."""

from __future__ import annotations

import pytest

from chartgen.git_refs import repo_url_problem, revision_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/me/dc.git",
        "http://gitea.lan:3000/me/dc",
        "ssh://git@git.example.com/me/dc.git",
    ],
)
def test_both_tools_read_http_and_ssh_urls(url: str) -> None:
    assert repo_url_problem(url, "argocd") is None
    assert repo_url_problem(url, "flux") is None


@pytest.mark.parametrize("url", ["git@github.com:me/dc.git", "oci://ghcr.io/me/dc"])
def test_argo_cd_also_reads_scp_like_and_oci(url: str) -> None:
    assert repo_url_problem(url, "argocd") is None
    assert repo_url_problem(url, "flux") is not None


@pytest.mark.parametrize(
    "url", ["not a url", "", "github.com/me/dc", "ftp://host/dc", "file:///srv/dc", "https://"]
)
def test_what_neither_tool_reads_is_refused(url: str) -> None:
    assert repo_url_problem(url, "argocd") is not None
    assert repo_url_problem(url, "flux") is not None


@pytest.mark.parametrize(
    "revision",
    ["main", "release/1.2", "v1.0.0", "refs/tags/v1", "HEAD", "a" * 40, "0123abcd" * 8],
)
def test_names_git_accepts(revision: str) -> None:
    assert revision_problem(revision) is None


@pytest.mark.parametrize(
    ("revision", "reason"),
    [
        ("bad rev", "it contains a space"),
        ("a..b", 'it contains ".."'),
        ("feat~1", "it contains '~'"),
        ("x^", "it contains '^'"),
        ("a:b", "it contains ':'"),
        ("wild*", "it contains '*'"),
        ("-x", 'it starts with "-"'),
        ("x/", 'it starts or ends with "/" or contains "//"'),
        ("a//b", 'it starts or ends with "/" or contains "//"'),
        ("x.", 'it ends with "."'),
        ("a/.hidden", 'a part of it starts with "."'),
        ("main.lock", 'a part of it ends with ".lock"'),
        ("@", 'it is "@" or contains "@{"'),
        ("a@{1}", 'it is "@" or contains "@{"'),
        ("", "it is empty"),
    ],
)
def test_names_git_check_ref_format_refuses(revision: str, reason: str) -> None:
    assert revision_problem(revision) == (
        f"{revision!r} is not a branch, tag or commit name git accepts: {reason}"
    )
