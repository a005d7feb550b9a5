"""What Argo CD and Flux accept as a repository URL and as a Git revision.

A URL or revision they refuse is otherwise written into the GitOps objects as it is, and the
mistake shows up only in the tool's UI, after a commit and a push.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Flux's GitRepository CRD: `+kubebuilder:validation:Pattern="^(http|https|ssh)://.*$"`.
FLUX_SCHEMES = ("http", "https", "ssh")
# Argo CD clones http(s) and ssh URLs, the scp-like form `git@host:path`, and reads OCI
# artifacts (`oci://registry/repository`).
ARGOCD_SCHEMES = (*FLUX_SCHEMES, "oci")
_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!//)[^\s]+$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# git check-ref-format: no control character, space, ~ ^ : ? * [ or backslash anywhere.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def repo_url_problem(url: str, tool: str) -> str | None:
    """Why `tool` (argocd or flux) would refuse `url`, or None."""
    schemes = ARGOCD_SCHEMES if tool == "argocd" else FLUX_SCHEMES
    forms = ", ".join(f"{scheme}://" for scheme in schemes)
    if tool == "argocd":
        forms += " or git@host:path"
    expected = f"expected a repository URL ({forms})"
    if tool == "flux" and "://" not in url and _SCP_LIKE.match(url):
        host, path = url.split(":", 1)
        return f"Flux reads ssh:// URLs, not the scp-like form: write ssh://{host}/{path}"
    if (
        not url
        or any(char.isspace() for char in url)
        or ("://" not in url and not (tool == "argocd" and _SCP_LIKE.match(url)))
    ):
        return f"{url!r} is not a URL: {expected}"
    if "://" not in url:
        return None  # git@host:path, for Argo CD
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        return f"{_TOOL_NAMES[tool]} does not read {parts.scheme}:// URLs: {expected}"
    if not parts.hostname or not parts.path.strip("/"):
        return f"{url!r} names no host and repository path: {expected}"
    return None


_TOOL_NAMES = {"argocd": "Argo CD", "flux": "Flux"}


def revision_problem(revision: str) -> str | None:
    """Why `revision` is neither a commit hash nor a name git accepts for a branch or tag
    (the rules of `git check-ref-format --branch`), or None."""
    if _COMMIT.match(revision):
        return None
    reason = _ref_name_problem(revision)
    if reason is None:
        return None
    return f"{revision!r} is not a branch, tag or commit name git accepts: {reason}"


def _ref_name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    bad = _REF_FORBIDDEN.search(name)
    if bad is not None:
        shown = "a space" if bad.group() == " " else repr(bad.group())
        return f"it contains {shown}"
    if name == "@" or "@{" in name:
        return 'it is "@" or contains "@{"'
    if name.startswith("-"):
        return 'it starts with "-"'
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return 'it starts or ends with "/" or contains "//"'
    if ".." in name:
        return 'it contains ".."'
    if name.endswith("."):
        return 'it ends with "."'
    for component in name.split("/"):
        if component.startswith("."):
            return 'a part of it starts with "."'
        if component.endswith(".lock"):
            return 'a part of it ends with ".lock"'
    return None
