"""Finds the binaries chartgen runs: helm (--helm / CHARTGEN_HELM, then the project's tools
folder, then PATH) and kubectl (the tools folder, then PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import OperationFailed

HELM_ENV = "CHARTGEN_HELM"
TOOLS_ENV = "CHARTGEN_TOOLS_DIR"


@dataclass(frozen=True)
class Helm:
    path: Path
    origin: str


def tools_dir() -> Path:
    """`make demo` puts helm and kubectl in .tools/bin of the checkout (git-ignored)."""
    configured = os.environ.get(TOOLS_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / ".tools" / "bin"


def find_helm(explicit: str | None = None) -> Helm:
    if explicit:
        return _checked(Path(explicit), "--helm")
    from_env = os.environ.get(HELM_ENV)
    if from_env:
        return _checked(Path(from_env), HELM_ENV)
    bundled = tools_dir() / "helm"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return Helm(bundled, "tools folder")
    on_path = shutil.which("helm")
    if on_path:
        return Helm(Path(on_path), "PATH")
    raise OperationFailed(
        f"helm not found: set {HELM_ENV} or --helm, run `make demo` (fetches it into "
        f"{tools_dir()}), or put helm on PATH"
    )


def find_kubectl(needed_by: str = "--delete-data") -> Path:
    """kubectl: the tools folder of `make demo`, then PATH."""
    bundled = tools_dir() / "kubectl"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    on_path = shutil.which("kubectl")
    if on_path:
        return Path(on_path)
    raise OperationFailed(
        f"kubectl not found (needed by {needed_by}): run `make demo` (fetches it into "
        f"{tools_dir()}) or put kubectl on PATH"
    )


def _checked(path: Path, origin: str) -> Helm:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise OperationFailed(f"helm from {origin} is not an executable file: {path}")
    return Helm(path, origin)


def helm_version(helm: Helm) -> str:
    try:
        done = subprocess.run(
            [str(helm.path), "version", "--template", "{{ .Version }}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError as error:
        raise OperationFailed(f"cannot run {helm.path}: {error}") from error
    if done.returncode != 0:
        raise OperationFailed(f"{helm.path} version failed: {done.stderr.strip()}")
    return done.stdout.strip()
