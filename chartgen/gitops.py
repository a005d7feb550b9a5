"""GitOps objects for the generated tree: Argo CD Applications or Flux HelmReleases.

Pure: the datacenter, the install order recorded in `releases.yaml` and the options give
`{path: bytes}` under `gitops/argocd/` or `gitops/flux/`. Both tools render the charts from the
Git repository the tree is committed to, so nothing here refers to the local folder.

- Argo CD: an app-of-apps. `gitops/argocd/root.yaml` is the one object applied by hand; it syncs
  `gitops/argocd/apps/`, which holds one `Application` per chart. Sync waves follow the install
  order (a release's wave is one more than the highest wave of the releases it needs).
- Flux: `gitops/flux/source.yaml` (a `GitRepository`, and a `HelmRepository` per chart
  repository of the platform layer) and one `HelmRelease` per chart under
  `gitops/flux/releases/`, each `dependsOn` the releases it needs.

The platform's upstream charts come from their own Helm repositories at their pinned versions,
with chartgen's values inline (the same data as `platform/values/`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from chartgen.emit import dump_yaml, dump_yaml_documents
from chartgen.errors import ChartgenError
from chartgen.model import Datacenter, GitopsSettings
from chartgen.plan import Release
from chartgen.render import Rendered, with_header

Tool = Literal["argocd", "flux"]
TOOLS: tuple[Tool, ...] = ("argocd", "flux")

GITOPS_DIR = PurePosixPath("gitops")
ARGOCD_NAMESPACE = "argocd"
FLUX_NAMESPACE = "flux-system"
IN_CLUSTER = "https://kubernetes.default.svc"
DEFAULT_REVISION = "main"
# Deleting an Application with this finalizer deletes what it deployed (a cascading delete);
# set only when pruning is wanted, so that removing a service from Git removes it from the cluster.
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SOURCE_INTERVAL = "1m"
RELEASE_INTERVAL = "10m"
REMEDIATION_RETRIES = 3


@dataclass(frozen=True)
class GitopsOptions:
    tool: Tool
    repo_url: str
    path: str  # where the generated tree lives inside the repository ("" or "." = its root)
    revision: str = DEFAULT_REVISION
    prune: bool = False


# Flux's GitRepository takes only these schemes (its CRD's pattern for spec.url); Argo CD also
# takes the scp-like form `git@host:org/repo.git`, which Flux refuses.
URL_SCHEMES = ("https", "http", "ssh")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)\S+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# What `git check-ref-format` refuses anywhere in a reference name.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def repo_url_problem(text: str, tool: Tool | None = None) -> str | None:
    """Why Argo CD or Flux could not clone `text` (None: they can).

    Both take http(s):// and ssh:// URLs with a host and a path; Argo CD also takes the scp-like
    `user@host:path`, Flux does not (give `tool` to know which; None accepts what either takes).
    """
    if not text.strip():
        return "is empty: give the URL of the Git repository the output folder is committed to"
    if any(char.isspace() or ord(char) < 0x20 for char in text):
        return "contains whitespace or a control character; a Git URL has none"
    if _SCP_LIKE.match(text):
        if tool == "flux":
            user_host, path = text.split(":", 1)
            return f"Flux takes no scp-like address: write ssh://{user_host}/{path.lstrip('/')}"
        return None
    parts = urlsplit(text)
    if parts.scheme not in URL_SCHEMES:
        if not parts.scheme:
            return f"has no scheme: did you mean https://{text.lstrip('/')}?"
        return (
            f"{parts.scheme}:// is not a scheme Argo CD and Flux clone from: use https://, "
            "http:// or ssh://"
        )
    if not parts.hostname:
        return f"names no host: {parts.scheme}://HOST/PATH"
    if parts.path.strip("/") == "":
        return f"names no repository on {parts.hostname}: {parts.scheme}://{parts.netloc}/PATH"
    return None


def revision_problem(text: str) -> str | None:
    """Why `text` is not a revision both tools follow (None: it is): a commit's full hash, or a
    branch, tag or `refs/...` name as `git check-ref-format` allows it."""
    if not text.strip():
        return "is empty: give a branch, a tag, refs/... or a full commit hash"
    if _COMMIT.match(text):
        return None
    found = _REF_FORBIDDEN.search(text)
    if found:
        shown = repr(found.group()) if found.group().strip() else "whitespace"
        return f"is not a Git reference name: {shown} is not allowed in one"
    if text == "@" or text.startswith("/") or text.endswith(("/", ".")):
        return "is not a Git reference name: it may not be @, nor begin with / or end in / or ."
    if any(part.startswith(".") or part.endswith(".lock") for part in text.split("/")):
        return "is not a Git reference name: no part may begin with . or end in .lock"
    return None


class GitopsUsage(ChartgenError):
    """The command line's GitOps options do not make sense (with the file's `gitops` key): a
    usage error, exit code 2."""


@dataclass(frozen=True)
class GitopsRequest:
    """What the command line says about GitOps; None: not given there (the file decides)."""

    output: str  # the output folder as given with -o: the default path inside the repository
    tool: Tool | None = None
    repo_url: str | None = None
    revision: str | None = None
    path: str | None = None
    prune: bool | None = None


def resolve_gitops(settings: GitopsSettings | None, request: GitopsRequest) -> GitopsOptions | None:
    """The file's `gitops` key with the command line's options over it; None when neither
    asks for GitOps files. Raises GitopsUsage for what no tool could use."""
    tool = request.tool or (settings.tool if settings else None)
    if tool is None:
        given = [
            name
            for name, value in (
                ("--repo-url", request.repo_url),
                ("--revision", request.revision),
                ("--path", request.path),
                ("--prune", request.prune),
            )
            if value is not None
        ]
        if given:
            raise GitopsUsage(
                f"{', '.join(given)} need --gitops argocd or --gitops flux, or a gitops key "
                "in the datacenter file"
            )
        return None
    # The file's other keys belong to the file's tool: a --gitops naming the other tool keeps
    # only repoURL, revision and path (prune means nothing to Flux).
    same_tool = settings is not None and settings.tool == tool
    repo_url = request.repo_url or (settings.repo_url if settings else None)
    if not repo_url:
        raise GitopsUsage(f"--gitops {tool} needs --repo-url URL (or gitops.repoURL in the file)")
    revision = request.revision or (settings.revision if settings else None) or DEFAULT_REVISION
    prune = request.prune
    if prune is None:
        prune = bool(same_tool and settings and settings.prune)
    if prune and tool == "flux":
        raise GitopsUsage(
            "--prune is for Argo CD: Flux's Helm releases always remove what a chart no "
            "longer renders"
        )
    for option, problem in (
        ("--repo-url", repo_url_problem(repo_url, tool)),
        ("--revision", revision_problem(revision)),
    ):
        if problem:
            raise GitopsUsage(f"{option}: {problem}")
    return GitopsOptions(tool, repo_url, _path_in_repository(settings, request), revision, prune)


def _path_in_repository(settings: GitopsSettings | None, request: GitopsRequest) -> str:
    if request.path is not None:
        given, what = request.path, "--path"
    elif settings is not None and settings.path is not None:
        given, what = settings.path, "gitops.path"
    else:
        given, what = request.output, f"-o {request.output}"
    problem = repository_path_problem(given)
    if problem and what.startswith("-o"):
        where = "is outside the repository" if "outside" in problem else "is absolute"
        raise GitopsUsage(
            f"{what} {where}: give --path (or gitops.path), relative to the repository's root"
        )
    if problem:
        raise GitopsUsage(f"{what} {problem}")
    normal = posixpath.normpath(PurePosixPath(given).as_posix()) if given else "."
    return "" if normal == "." else normal


def repository_path_problem(text: str) -> str | None:
    """Why `text` is not a folder inside a repository (None: it is one)."""
    if text.startswith("/") or PurePosixPath(text).is_absolute():
        return "must be relative to the repository's root"
    normal = posixpath.normpath(text) if text else "."
    if normal == ".." or normal.startswith("../"):
        return "is outside the repository"
    return None


def sync_waves(releases: Sequence[Release]) -> dict[str, int]:
    """Wave of each release: 0 without needs, else one more than the highest wave it needs.

    Releases that do not depend on each other share a wave, so Argo CD syncs them together,
    as `chartgen install` runs independent releases in parallel.
    """
    waves: dict[str, int] = {}
    for release in releases:  # install order: what a release needs comes before it
        waves[release.name] = 1 + max((waves[need] for need in release.needs), default=-1)
    return waves


def gitops_files(
    dc: Datacenter, rendered: Rendered, options: GitopsOptions
) -> dict[PurePosixPath, bytes]:
    """The GitOps files for a rendered tree, by path relative to that tree.

    The releases and their order are the ones the tree records in `releases.yaml`, so the
    GitOps tools deploy exactly what `chartgen install` would.
    """
    releases = rendered.releases
    values = rendered.platform_values
    if options.tool == "argocd":
        texts = _argocd_files(dc, releases, values, options)
    else:
        texts = _flux_files(dc, releases, values, options)
    source_name = PurePosixPath(dc.source).name
    return {
        path: with_header(path, text.encode("utf-8"), source_name)
        for path, text in sorted(texts.items())
    }


def _repo_path(options: GitopsOptions, *parts: str) -> str:
    """A path inside the repository, as both tools expect it (relative, no leading `./`)."""
    base = PurePosixPath(options.path.strip("/") or ".")
    return str(PurePosixPath(base, *parts))


def object_name(dc: Datacenter, release: Release) -> str:
    """Prefixed with the datacenter, so that one Argo CD or Flux can serve several of them."""
    return f"{dc.cluster.name}-{release.name}"


def _labels(dc: Datacenter) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": "chartgen",
        "app.kubernetes.io/part-of": dc.cluster.name,
    }


_ARGOCD_README = """\
# Argo CD

`root.yaml` is an app-of-apps: apply it once, Argo CD does the rest from Git.

    kubectl apply -n argocd -f {root}/root.yaml

It syncs `apps/`, one `Application` per chart, in sync waves that follow the install order of
`releases.yaml`. Argo CD waits for the applications of one wave to be healthy before the next
only when it assesses the health of `Application` resources, which it does not by default: add
the health check for `argoproj.io/Application` to `argocd-cm` (see "App of Apps" health in the
Argo CD documentation). Without it, the applications retry until what they need is there.
"""

_ARGOCD_OCI_NOTE = """
`{registry}` is an OCI registry of Helm charts: declare it to Argo CD once, as a repository
Secret (label `argocd.argoproj.io/secret-type: repository`) with `type: helm`,
`url: {registry}` and `enableOCI: "true"`.
"""


_ARGOCD_FORWARD_ONLY_NOTE = """
{names}: an upgrade of Nextcloud ends with a post-upgrade Job (a PostSync hook to Argo CD)
that can run for most of an hour. An `Application` has no timeout of its own: Argo CD waits
for the hook until it ends, and the Job's own `activeDeadlineSeconds` ends it; a failed sync is
retried (`syncPolicy.retry`). Argo CD never rolls a sync back by itself. Do not roll these
applications back to a revision with an older Nextcloud (`argocd app rollback`): Nextcloud
does not start over data that a newer version upgraded. Restore a backup instead.
"""


def _oci(releases: Sequence[Release]) -> list[str]:
    """The OCI registries the releases' charts come from, each once, in order."""
    found = [r.repository for r in releases if r.repository and r.repository.startswith("oci://")]
    return list(dict.fromkeys(found))


_FLUX_README = """\
# Flux

`source.yaml` is the `GitRepository` this tree is committed to; `releases/` holds one
`HelmRelease` per chart, each depending on the releases it needs (the order of
`releases.yaml`). Have Flux apply this folder, for example with a `Kustomization` whose path is
`{root}`, or once by hand:

    kubectl apply -R -f {root}
"""


# Argo CD ------------------------------------------------------------------------------------


def _argocd_files(
    dc: Datacenter,
    releases: Sequence[Release],
    values: Mapping[str, Mapping[str, Any]],
    options: GitopsOptions,
) -> dict[PurePosixPath, str]:
    directory = GITOPS_DIR / "argocd"
    files = {
        directory / "README.md": _ARGOCD_README.format(root=_repo_path(options, "gitops", "argocd"))
        + "".join(
            _ARGOCD_OCI_NOTE.format(registry=_argocd_repository(url)) for url in _oci(releases)
        )
        + _forward_only_note(releases),
        directory / "root.yaml": dump_yaml(_argocd_root(dc, options)),
    }
    waves = sync_waves(releases)
    for release in releases:
        document = _argocd_application(dc, release, waves[release.name], values, options)
        files[directory / "apps" / f"{release.name}.yaml"] = dump_yaml(document)
    return files


def _forward_only_note(releases: Sequence[Release]) -> str:
    names = [f"`{release.name}`" for release in releases if release.forward_only]
    return _ARGOCD_FORWARD_ONLY_NOTE.format(names=", ".join(names)) if names else ""


def _sync_policy(options: GitopsOptions, sync_options: list[str]) -> dict[str, Any]:
    policy: dict[str, Any] = {"automated": {"prune": options.prune, "selfHeal": True}}
    if sync_options:
        policy["syncOptions"] = sync_options
    # A release whose dependency is not yet healthy fails its first sync: retry, backing off.
    policy["retry"] = {
        "limit": 5,
        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
    }
    return policy


def _argocd_metadata(
    name: str, dc: Datacenter, annotations: Mapping[str, str], options: GitopsOptions
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": _labels(dc)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    if options.prune:
        metadata["finalizers"] = [CASCADE_FINALIZER]
    return metadata


def _argocd_root(dc: Datacenter, options: GitopsOptions) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": _argocd_metadata(dc.cluster.name, dc, {}, options),
        "spec": {
            "project": "default",
            "source": {
                "repoURL": options.repo_url,
                "targetRevision": options.revision,
                "path": _repo_path(options, "gitops", "argocd", "apps"),
            },
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": _sync_policy(options, []),
        },
    }


def _argocd_application(
    dc: Datacenter,
    release: Release,
    wave: int,
    values: Mapping[str, Mapping[str, Any]],
    options: GitopsOptions,
) -> dict[str, Any]:
    source: dict[str, Any]
    sync_options = ["CreateNamespace=true"]
    if release.repository is not None:
        source = {
            "repoURL": _argocd_repository(release.repository),
            "chart": release.chart,
            "targetRevision": release.version,
            "helm": {"releaseName": release.name},
        }
        if values.get(release.name):
            source["helm"]["valuesObject"] = dict(values[release.name])
        # Upstream CRDs are too large for the last-applied annotation of a client-side apply.
        sync_options.append("ServerSideApply=true")
    else:
        source = {
            "repoURL": options.repo_url,
            "targetRevision": options.revision,
            "path": _repo_path(options, release.chart),
            "helm": {"releaseName": release.name},
        }
    if release.crds:
        # Its CRDs come from an application of an earlier wave.
        sync_options.append("SkipDryRunOnMissingResource=true")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": _argocd_metadata(object_name(dc, release), dc, {SYNC_WAVE: str(wave)}, options),
        "spec": {
            "project": "default",
            "source": source,
            "destination": {"server": IN_CLUSTER, "namespace": release.namespace},
            "syncPolicy": _sync_policy(options, sync_options),
        },
    }


def _argocd_repository(url: str) -> str:
    """Argo CD names an OCI Helm registry without its scheme (and declares it `enableOCI`)."""
    return url.removeprefix("oci://")


# Flux ---------------------------------------------------------------------------------------


def _flux_files(
    dc: Datacenter,
    releases: Sequence[Release],
    values: Mapping[str, Mapping[str, Any]],
    options: GitopsOptions,
) -> dict[PurePosixPath, str]:
    directory = GITOPS_DIR / "flux"
    repositories = flux_repositories(dc, releases)
    sources = [_flux_source(dc, options)] + [
        _flux_helm_repository(dc, name, url) for url, name in repositories.items()
    ]
    files = {
        directory / "README.md": _FLUX_README.format(root=_repo_path(options, "gitops", "flux")),
        directory / "source.yaml": dump_yaml_documents(sources),
    }
    names = {release.name: object_name(dc, release) for release in releases}
    for release in releases:
        document = _flux_release(dc, release, names, repositories, values, options)
        files[directory / "releases" / f"{release.name}.yaml"] = dump_yaml(document)
    return files


def git_reference(revision: str) -> dict[str, str]:
    """Flux wants to know what kind of reference a revision is; Argo CD takes any of them.

    A full commit hash pins a commit, `refs/...` names any reference (`refs/tags/v1`), anything
    else is a branch.
    """
    if len(revision) == 40 and all(char in "0123456789abcdef" for char in revision):
        return {"commit": revision}
    if revision.startswith("refs/"):
        return {"name": revision}
    return {"branch": revision}


def _flux_source(dc: Datacenter, options: GitopsOptions) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": dc.cluster.name, "namespace": FLUX_NAMESPACE, "labels": _labels(dc)},
        "spec": {
            "interval": SOURCE_INTERVAL,
            "url": options.repo_url,
            "ref": git_reference(options.revision),
        },
    }


def flux_repositories(dc: Datacenter, releases: Sequence[Release]) -> dict[str, str]:
    """A `HelmRepository` name for each chart repository, after the first release using it."""
    repositories: dict[str, str] = {}
    for release in releases:
        if release.repository is not None and release.repository not in repositories:
            repositories[release.repository] = object_name(dc, release)
    return repositories


def _flux_helm_repository(dc: Datacenter, name: str, url: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"interval": RELEASE_INTERVAL, "url": url}
    if url.startswith("oci://"):
        spec["type"] = "oci"
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE, "labels": _labels(dc)},
        "spec": spec,
    }


def _flux_chart(
    dc: Datacenter, release: Release, repositories: Mapping[str, str], options: GitopsOptions
) -> dict[str, Any]:
    if release.repository is not None:
        return {
            "chart": release.chart,
            "version": release.version,
            "sourceRef": {
                "kind": "HelmRepository",
                "name": repositories[release.repository],
                "namespace": FLUX_NAMESPACE,
            },
        }
    return {
        "chart": _repo_path(options, release.chart),
        # The chart version stays the same from one build to the next: without this,
        # Flux would not upgrade a release whose chart changed in Git.
        "reconcileStrategy": "Revision",
        "sourceRef": {
            "kind": "GitRepository",
            "name": dc.cluster.name,
            "namespace": FLUX_NAMESPACE,
        },
    }


def _flux_release(
    dc: Datacenter,
    release: Release,
    names: Mapping[str, str],
    repositories: Mapping[str, str],
    values: Mapping[str, Mapping[str, Any]],
    options: GitopsOptions,
) -> dict[str, Any]:
    install: dict[str, Any] = {
        "createNamespace": True,
        "remediation": {"retries": REMEDIATION_RETRIES},
    }
    upgrade: dict[str, Any] = {"remediation": {"retries": REMEDIATION_RETRIES}}
    if release.forward_only:
        # Flux remediates a failed upgrade by rolling it back, which would start the older
        # app over data the newer one upgraded (Nextcloud refuses it): no remediation, the
        # failed upgrade stays for a person to look at.
        upgrade["remediation"] = {"retries": 0, "remediateLastFailure": False}
    if release.repository is not None:
        # Helm itself never upgrades a chart's crds/ folder; Flux does when told to.
        install["crds"] = "CreateReplace"
        upgrade["crds"] = "CreateReplace"
    spec: dict[str, Any] = {
        "interval": RELEASE_INTERVAL,
        "releaseName": release.name,
        "targetNamespace": release.namespace,
        # Helm keeps its release records in the release's namespace, as `chartgen install`
        # does, so `helm list -n NAMESPACE` and `chartgen status` see Flux's releases too.
        "storageNamespace": release.namespace,
        "chart": {"spec": _flux_chart(dc, release, repositories, options)},
        "install": install,
        "upgrade": upgrade,
    }
    if release.timeout is not None:
        spec["timeout"] = release.timeout
    if values.get(release.name):
        spec["values"] = dict(values[release.name])
    if release.needs:
        spec["dependsOn"] = [
            {"name": names[need], "namespace": FLUX_NAMESPACE} for need in release.needs
        ]
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {
            "name": names[release.name],
            "namespace": FLUX_NAMESPACE,
            "labels": _labels(dc),
        },
        "spec": spec,
    }
