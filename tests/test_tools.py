"""Where chartgen finds helm and kubectl: explicit, then the tools folder, then PATH."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartgen.errors import OperationFailed
from chartgen.tools import HELM_ENV, TOOLS_ENV, find_helm, find_kubectl


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
