"""Finds the binaries chartgen runs: helm (--helm / CHARTGEN_HELM, then the project's tools
folder, then the folder chartgen itself is installed in, then PATH) and kubectl (the tools
folders, then PATH).

A binary built for another processor (the amd64 helm of `make demo` on a Raspberry Pi) fails
with "Exec format error"; chartgen reads the ELF header first and says what to install instead.
"""

from __future__ import annotations

import errno
import os
import platform
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from chartgen.errors import OperationFailed

HELM_ENV = "CHARTGEN_HELM"
TOOLS_ENV = "CHARTGEN_TOOLS_DIR"
INSTALL_PAGES = {
    "helm": "https://helm.sh/docs/intro/install/",
    "kubectl": "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/",
}
# ELF e_machine values, in Go's names for the architectures (GOARCH).
ELF_MACHINES = {0x03: "386", 0x28: "arm", 0x3E: "amd64", 0xB7: "arm64", 0xF3: "riscv64"}
# platform.machine() of each, in the same names.
MACHINES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i686": "386",
    "i386": "386",
    "riscv64": "riscv64",
}


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


def installed_dir() -> Path:
    """Where chartgen's own command is (`make install` puts helm and kubectl beside it)."""
    return Path(sysconfig.get_path("scripts"))


def find_helm(explicit: str | None = None) -> Helm:
    if explicit:
        return _checked(Path(explicit), "--helm")
    from_env = os.environ.get(HELM_ENV)
    if from_env:
        return _checked(Path(from_env), HELM_ENV)
    found = _bundled("helm")
    if found is not None:
        return Helm(found[0], found[1])
    on_path = shutil.which("helm")
    if on_path:
        return _checked(Path(on_path), "PATH")
    raise OperationFailed(
        f"helm not found: set {HELM_ENV} or --helm, run `make demo` (fetches it into "
        f"{tools_dir()}), or put helm on PATH"
    )


def find_kubectl(needed_by: str = "--delete-data") -> Path:
    """kubectl: the tools folder of `make demo`, the folder of `make install`, then PATH."""
    found = _bundled("kubectl")
    if found is not None:
        return found[0]
    on_path = shutil.which("kubectl")
    if on_path:
        problem = wrong_architecture(Path(on_path), "kubectl")
        if problem:
            raise OperationFailed(problem)
        return Path(on_path)
    raise OperationFailed(
        f"kubectl not found (needed by {needed_by}): run `make demo` (fetches it into "
        f"{tools_dir()}) or put kubectl on PATH"
    )


def _bundled(name: str) -> tuple[Path, str] | None:
    """The fetched binary, from the checkout's tools folder or beside chartgen; one built for
    another processor is an error only when nothing else is found (PATH may have the right one)."""
    wrong = None
    for folder, origin in ((tools_dir(), "tools folder"), (installed_dir(), "chartgen's folder")):
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK):
            wrong = wrong_architecture(path, name)
            if wrong is None:
                return path, origin
    if wrong is not None and shutil.which(name) is None:
        raise OperationFailed(wrong)
    return None


def _checked(path: Path, origin: str) -> Helm:
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise OperationFailed(f"helm from {origin} is not an executable file: {path}")
    problem = wrong_architecture(path, "helm")
    if problem:
        raise OperationFailed(problem)
    return Helm(path, origin)


def machine_arch() -> str:
    """This machine's processor, in Go's names (amd64, arm64, arm, ...)."""
    machine = platform.machine().lower()
    return MACHINES.get(machine, machine)


def elf_arch(path: Path) -> str | None:
    """The processor an ELF program is built for (Go's names), None when it is no ELF file
    (a script, a binary of another system) or cannot be read."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    code = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
    return ELF_MACHINES.get(code, f"ELF machine {code:#x}")


def wrong_architecture(path: Path, name: str) -> str | None:
    """Why `path` cannot run here, when it is built for another processor (None: it may)."""
    built = elf_arch(path)
    here = machine_arch()
    if built is None or built == here:
        return None
    how = f"set {HELM_ENV} or put it on PATH" if name == "helm" else "put it on PATH"
    return (
        f"{name} at {path} is built for {built}, this machine is {here}: install {name} for "
        f"{here} ({INSTALL_PAGES[name]}) and {how}"
    )


def cannot_run(path: Path, name: str, error: OSError) -> str:
    """The message for a program that did not start: its architecture when that is why."""
    if error.errno == errno.ENOEXEC:
        return wrong_architecture(path, name) or (
            f"{path} is not a program this machine ({machine_arch()}) can run: install {name} "
            f"for {machine_arch()} ({INSTALL_PAGES[name]})"
        )
    return f"cannot run {path}: {error}"


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
        raise OperationFailed(cannot_run(helm.path, "helm", error)) from error
    if done.returncode != 0:
        raise OperationFailed(f"{helm.path} version failed: {done.stderr.strip()}")
    return done.stdout.strip()
