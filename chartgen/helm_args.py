"""The argv that reaches helm (and kubectl), built by pure functions from typed options.

Nothing here runs a process: `chartgen.install` hands these lists to pyhelm3, which runs them.
Every flag has one spelling, the one helm 4 documents (`--rollback-on-failure`, helm 3's
`--atomic`; `--wait=watcher`, written with `=` because helm 4's `--wait` takes a value).
Connection flags are only added when the user gave them, so that helm itself honours
`KUBECONFIG` and the `HELM_*` variables exactly as it does on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartgen.plan import Release

# A Go duration as helm's --timeout reads it ("90s", "5m", "1h30m", "2.5m").
_GO_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")


@dataclass(frozen=True)
class Connection:
    """Which cluster: None leaves the choice to helm (KUBECONFIG, HELM_KUBECONTEXT, ...)."""

    kubeconfig: Path | None = None
    kube_context: str | None = None


@dataclass(frozen=True)
class ChangeOptions:
    """How install, upgrade, rollback and uninstall go: passed on to helm as they are."""

    dry_run: bool = False
    wait: bool = False
    timeout: str | None = None
    rollback_on_failure: bool = False


def parse_timeout(text: str) -> str:
    """A Go duration for --timeout; a bare number means seconds. ValueError when neither."""
    value = text.strip()
    if value.isdigit():
        return f"{int(value)}s"
    if _GO_DURATION.fullmatch(value) is None:
        raise ValueError(f"{text!r} is not a duration like 90s, 5m or 1h30m")
    return value


def connection_flags(connection: Connection) -> list[str]:
    flags: list[str] = []
    if connection.kubeconfig is not None:
        flags += ["--kubeconfig", str(connection.kubeconfig)]
    if connection.kube_context is not None:
        flags += ["--kube-context", connection.kube_context]
    return flags


def _waiting(options: ChangeOptions, release: Release | None = None) -> list[str]:
    """--wait when asked (or when the release records that it must be waited for) and the
    timeout: the command line's, else the release's own."""
    flags: list[str] = []
    if options.wait or (release is not None and release.wait and not options.dry_run):
        flags += ["--wait=watcher", "--wait-for-jobs"]
    timeout = options.timeout or (release.timeout if release is not None else None)
    if timeout is not None:
        flags += ["--timeout", timeout]
    return flags


def chart_argv(release: Release, tree: Path) -> list[str]:
    """The chart of a release: its folder in the tree, or a repository chart at its version
    with the values file of the tree."""
    if release.repository is None:
        argv = [str(tree / release.chart)]
    elif release.repository.startswith("oci://"):
        argv = [f"{release.repository.rstrip('/')}/{release.chart}"]
    else:
        argv = [release.chart, "--repo", release.repository]
    if release.version is not None:
        argv += ["--version", release.version]
    if release.values is not None:
        argv += ["--values", str(tree / release.values)]
    return argv


def upgrade_argv(
    release: Release, tree: Path, options: ChangeOptions, connection: Connection
) -> list[str]:
    """Upgrade-or-install of one release of the tree, the result as JSON on stdout."""
    chart, *source = chart_argv(release, tree)
    argv = [
        "upgrade",
        release.name,
        chart,
        "--install",
        "--namespace",
        release.namespace,
        "--create-namespace",
        "--output",
        "json",
        *source,
    ]
    if options.dry_run:
        # "server": the cluster is contacted (so lookups, validation and conflicts are real)
        # but nothing is changed.
        argv.append("--dry-run=server")
    argv += _waiting(options, release)
    if options.rollback_on_failure and not options.dry_run:
        argv.append("--rollback-on-failure")
    return argv + connection_flags(connection)


def preview_argv(release: Release, tree: Path, connection: Connection) -> list[str]:
    """What an upgrade would deploy, computed by the cluster without changing it."""
    return upgrade_argv(release, tree, ChangeOptions(dry_run=True), connection)


def template_argv(release: Release, tree: Path) -> list[str]:
    """What a local release deploys, rendered by helm alone (no cluster: `lookup` finds nothing,
    as under Argo CD). Repository charts are not rendered offline: they would be fetched."""
    if release.repository is not None:
        raise ValueError(f"{release.name}: a repository chart is not rendered offline")
    return ["template", release.name, *chart_argv(release, tree), "--namespace", release.namespace]


def crd_argv(name: str, connection: Connection) -> list[str]:
    """kubectl's argv reading one CustomResourceDefinition (is it there, is it Established?)."""
    argv = ["get", "customresourcedefinition", name, "--output", "json"]
    return argv + kubectl_connection_flags(connection)


def kubectl_connection_flags(connection: Connection) -> list[str]:
    argv: list[str] = []
    if connection.kubeconfig is not None:
        argv += ["--kubeconfig", str(connection.kubeconfig)]
    if connection.kube_context is not None:
        argv += ["--context", connection.kube_context]
    return argv


def status_argv(release: Release, connection: Connection) -> list[str]:
    return [
        "status",
        release.name,
        "--namespace",
        release.namespace,
        "--output",
        "json",
        *connection_flags(connection),
    ]


def list_argv(release: Release, connection: Connection) -> list[str]:
    """The release's row of `helm list` (chart version, app version), in any state."""
    return [
        "list",
        "--namespace",
        release.namespace,
        "--filter",
        f"^{re.escape(release.name)}$",
        # Every state, not only deployed ones (helm 4 has no --all for list).
        "--deployed",
        "--failed",
        "--pending",
        "--superseded",
        "--uninstalling",
        "--output",
        "json",
        *connection_flags(connection),
    ]


def history_argv(release: Release, connection: Connection) -> list[str]:
    """The release's revisions with their chart and app version (`helm history`)."""
    return [
        "history",
        release.name,
        "--namespace",
        release.namespace,
        "--output",
        "json",
        *connection_flags(connection),
    ]


def rollback_argv(
    release: Release, revision: int | None, options: ChangeOptions, connection: Connection
) -> list[str]:
    argv = ["rollback", release.name]
    if revision is not None:
        argv.append(str(revision))
    argv += ["--namespace", release.namespace]
    if options.dry_run:
        argv.append("--dry-run=server")
    return argv + _waiting(options) + connection_flags(connection)


def uninstall_argv(release: Release, options: ChangeOptions, connection: Connection) -> list[str]:
    argv = ["uninstall", release.name, "--namespace", release.namespace]
    if options.dry_run:
        argv.append("--dry-run")
    return argv + _waiting(options) + connection_flags(connection)


def delete_claims_argv(namespace: str, claims: Sequence[str], connection: Connection) -> list[str]:
    """kubectl's argv deleting the named PersistentVolumeClaims (`uninstall --delete-data`)."""
    argv = [
        "delete",
        "persistentvolumeclaim",
        *claims,
        "--namespace",
        namespace,
        "--ignore-not-found",
        "--wait=false",
    ]
    return argv + kubectl_connection_flags(connection)


def missing_kubeconfig(
    connection: Connection, environ: Mapping[str, str], home: Path
) -> str | None:
    """Why helm would find no cluster to talk to, or None when it has one (as helm looks)."""
    if connection.kubeconfig is not None:
        if connection.kubeconfig.is_file():
            return None
        return f"no kubeconfig: {connection.kubeconfig} (--kubeconfig) is not a file"
    if environ.get("HELM_KUBEAPISERVER") or environ.get("KUBERNETES_SERVICE_HOST"):
        return None  # an API server given directly, or running inside a pod
    listed = environ.get("KUBECONFIG")
    if listed:
        paths = [Path(part) for part in listed.split(":") if part]
        if any(path.is_file() for path in paths):
            return None
        return f"no kubeconfig: none of the files in KUBECONFIG exists ({listed})"
    if (home / ".kube" / "config").is_file():
        return None
    return (
        "no kubeconfig: pass --kubeconfig PATH, set KUBECONFIG, or create "
        f"{home / '.kube' / 'config'}"
    )
