"""The output folder is never left through a symbolic link or a crafted path, and its modes
do not depend on the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner

from chartgen.cli import main
from chartgen.errors import OperationFailed
from chartgen.write import check_tree, write_tree
from tests.conftest import CASES

P = PurePosixPath
TREE = {P("charts/web/values.yaml"): b"a: 1\n", P("releases.yaml"): b"releases: []\n"}


def _everything(folder: Path) -> dict[str, bytes | str]:
    """Every entry under `folder`: file bytes, or the target of a link."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = f"-> {path.readlink()}"
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def test_a_symlinked_output_folder_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "generated"
    out.symlink_to(elsewhere)
    with pytest.raises(OperationFailed, match="symbolic link") as refused:
        write_tree(out, TREE)
    assert str(out) in str(refused.value)
    assert list(elsewhere.iterdir()) == []
    assert out.is_symlink()
    with pytest.raises(OperationFailed, match="symbolic link"):
        check_tree(out, TREE)


def test_a_symlinked_sibling_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep\n")
    (tmp_path / ".generated.chartgen-old").symlink_to(elsewhere)
    with pytest.raises(OperationFailed, match="chartgen-old"):
        write_tree(tmp_path / "generated", TREE)
    assert (elsewhere / "precious").read_text() == "keep\n"


@pytest.mark.parametrize("planted", ["charts", "charts/web", "charts/web/values.yaml"])
def test_a_link_planted_on_a_produced_path_is_refused(tmp_path: Path, planted: str) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "values.yaml").write_text("outside\n")
    target = out / planted
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink()
    target.symlink_to(outside if planted != "charts/web/values.yaml" else outside / "values.yaml")
    before_out, before_outside = _everything(out), _everything(outside)
    changed = {**TREE, P("charts/web/values.yaml"): b"a: 2\n"}
    with pytest.raises(OperationFailed, match=f"{planted}"):
        write_tree(out, changed, force=True)
    assert _everything(outside) == before_outside
    assert _everything(out) == before_out


def test_a_link_off_the_produced_paths_is_kept_and_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "theirs.txt").write_text("theirs\n")
    (out / "notes").symlink_to(outside)
    write_tree(out, {**TREE, P("releases.yaml"): b"releases: [x]\n"})
    assert (out / "notes").is_symlink()
    assert (out / "notes").readlink() == outside
    assert _everything(outside) == {"theirs.txt": b"theirs\n"}


@pytest.mark.parametrize(
    "path", ["../escaped.yaml", "charts/../../escaped.yaml", "/tmp/escaped.yaml", "a/\0/b"]
)
def test_a_path_leaving_the_folder_is_refused(tmp_path: Path, path: str) -> None:
    out = tmp_path / "sub" / "generated"
    with pytest.raises(OperationFailed, match="not inside"):
        write_tree(out, {**TREE, P(path): b"x\n"})
    assert not (tmp_path / "escaped.yaml").exists()
    assert not (tmp_path / "sub" / "escaped.yaml").exists()
    assert not out.exists()


@pytest.mark.parametrize(
    "name", ["../evil", "..", "a/b", "/etc", "UPPER", "evil\x00", "a" * 54, "é", "-lead"]
)
def test_a_service_name_that_is_a_path_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    source = (CASES / "valid" / "single-node" / "datacenter.yaml").read_text()
    quoted = '"' + name.replace("\x00", "\\0") + '"'
    crafted = source.replace("  - name: web\n", f"  - name: {quoted}\n", 1)
    assert crafted != source
    (tmp_path / "datacenter.yaml").write_text(crafted)
    out = tmp_path / "out" / "generated"
    result = CliRunner().invoke(main, ["build", str(tmp_path / "datacenter.yaml"), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "services[0].name" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def umask_zero() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def umask_strict() -> Iterator[None]:
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(out: Path) -> set[tuple[str, int]]:
    return {
        ("dir" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode))
        for path in [out, *out.rglob("*")]
    }


@pytest.mark.usefixtures("umask_zero")
def test_modes_are_ordinary_under_a_permissive_umask(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    write_tree(out, {**TREE, P("charts/new/values.yaml"): b"n\n"})
    assert _modes(out) == {("dir", 0o755), ("file", 0o644)}


@pytest.mark.usefixtures("umask_strict")
def test_modes_are_ordinary_under_a_strict_umask(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    assert _modes(out) == {("dir", 0o755), ("file", 0o644)}


@pytest.mark.usefixtures("umask_zero")
def test_a_real_build_writes_nothing_world_writable(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    source = CASES / "valid" / "single-node" / "datacenter.yaml"
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    for path in [out, *out.rglob("*")]:
        assert not path.stat().st_mode & (stat.S_IWOTH | stat.S_IWGRP), path
