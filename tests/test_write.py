"""Writing the output folder: atomic swap, ownership manifest, pruning, mtimes, --check."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

import pytest

from chartgen import write
from chartgen.errors import OperationFailed
from chartgen.write import MANIFEST, check_tree, write_tree

P = PurePosixPath
TREE = {P("charts/web/values.yaml"): b"a: 1\n", P("releases.yaml"): b"releases: []\n"}


def _files(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes() for path in out.rglob("*") if path.is_file()
    }


def test_first_build_writes_every_file_and_the_manifest(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = write_tree(out, TREE)
    assert set(result.written) == {*TREE, MANIFEST}
    assert _files(out)["charts/web/values.yaml"] == b"a: 1\n"
    assert (out / MANIFEST).is_file()


def test_files_are_not_world_writable(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    for path in out.rglob("*"):
        assert not path.stat().st_mode & stat.S_IWOTH, path


SAME_BYTES = {
    P("charts/a/templates/service.yaml"): b"kind: Service\n",
    P("charts/b/templates/service.yaml"): b"kind: Service\n",
    P("charts/c/templates/service.yaml"): b"kind: Service\n",
    P("charts/a/values.yaml"): b"name: a\n",
    P("charts/b/values.yaml"): b"name: b\n",
}


def _inode(path: Path) -> int:
    return path.stat().st_ino


def test_files_with_the_same_bytes_share_one_inode(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, SAME_BYTES)
    services = [out / "charts" / name / "templates/service.yaml" for name in "abc"]
    assert len({_inode(path) for path in services}) == 1
    assert services[0].stat().st_nlink == 3
    assert _inode(out / "charts/a/values.yaml") != _inode(out / "charts/b/values.yaml")
    assert _files(out)["charts/c/templates/service.yaml"] == b"kind: Service\n"
    assert stat.S_IMODE(services[0].stat().st_mode) == 0o644


def test_a_changed_file_leaves_the_links_of_the_others(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, SAME_BYTES)
    kept = _inode(out / "charts/a/templates/service.yaml")
    changed = dict(SAME_BYTES)
    changed[P("charts/b/templates/service.yaml")] = b"kind: Service\nspec: {}\n"
    write_tree(out, changed)
    assert _files(out)["charts/b/templates/service.yaml"] == b"kind: Service\nspec: {}\n"
    assert _files(out)["charts/a/templates/service.yaml"] == b"kind: Service\n"
    assert _inode(out / "charts/a/templates/service.yaml") == kept
    assert _inode(out / "charts/c/templates/service.yaml") == kept
    assert _inode(out / "charts/b/templates/service.yaml") != kept


@pytest.fixture(params=[errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK])
def no_hard_links(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that refuses hard links (FAT, some network shares), or an inode that
    holds as many links as it can."""
    code: int = request.param

    def refuse(source: object, target: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", refuse)


@pytest.mark.usefixtures("no_hard_links")
def test_files_are_copied_where_the_file_system_refuses_links(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, SAME_BYTES)
    services = [out / "charts" / name / "templates/service.yaml" for name in "abc"]
    assert len({_inode(path) for path in services}) == 3
    assert {path.read_bytes() for path in services} == {b"kind: Service\n"}


@pytest.mark.usefixtures("no_hard_links")
def test_rebuilds_work_where_the_file_system_refuses_links(tmp_path: Path) -> None:
    _check_a_rebuild_keeps_unchanged_and_foreign_files(tmp_path / "generated")


def test_an_in_place_edit_of_a_shared_file_is_explained(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, SAME_BYTES)
    with open(out / "charts/a/templates/service.yaml", "r+b") as handle:  # as vim or VS Code
        handle.write(b"kind: Secret\n")
    with pytest.raises(OperationFailed) as refused:
        write_tree(out, SAME_BYTES)
    message = str(refused.value)
    for name in "abc":
        assert f"charts/{name}/templates/service.yaml: edited by hand" in message
    assert "3 of these are hard links to shared content" in message
    write_tree(out, SAME_BYTES, force=True)
    assert _files(out)["charts/b/templates/service.yaml"] == b"kind: Service\n"


def test_a_no_op_build_rewrites_nothing(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    before = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    inode = out.stat().st_ino
    result = write_tree(out, TREE)
    assert not result.changed
    assert out.stat().st_ino == inode
    assert {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()} == before


def test_unchanged_files_keep_their_mtime_when_others_change(tmp_path: Path) -> None:
    _check_a_rebuild_keeps_unchanged_and_foreign_files(tmp_path / "generated")


def _check_a_rebuild_keeps_unchanged_and_foreign_files(out: Path) -> None:
    write_tree(out, TREE)
    (out / "notes.txt").write_bytes(b"mine\n")
    kept = out / "releases.yaml"
    os.utime(kept, ns=(1_000_000_000, 1_000_000_000))
    changed = dict(TREE)
    changed[P("charts/web/values.yaml")] = b"a: 2\n"
    result = write_tree(out, changed)
    assert result.written == (MANIFEST, P("charts/web/values.yaml"))
    assert kept.stat().st_mtime_ns == 1_000_000_000
    assert kept.read_bytes() == TREE[P("releases.yaml")]
    assert (out / "charts/web/values.yaml").read_bytes() == b"a: 2\n"
    assert (out / "notes.txt").read_bytes() == b"mine\n"


def test_owned_files_no_longer_produced_are_pruned(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, {**TREE, P("charts/old/values.yaml"): b"old\n"})
    result = write_tree(out, TREE)
    assert result.pruned == (P("charts/old/values.yaml"),)
    assert not (out / "charts/old").exists()


def test_files_chartgen_does_not_own_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    (out / "NOTES-of-mine.md").write_text("mine\n")
    (out / "charts/web/extra.txt").write_text("mine too\n")
    write_tree(out, {**TREE, P("releases.yaml"): b"releases: [x]\n"})
    assert (out / "NOTES-of-mine.md").read_text() == "mine\n"
    assert (out / "charts/web/extra.txt").read_text() == "mine too\n"


def test_a_file_not_owned_in_the_way_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    (out / "charts/web").mkdir(parents=True)
    (out / "charts/web/values.yaml").write_text("someone else's\n")
    with pytest.raises(OperationFailed, match="was not written by chartgen"):
        write_tree(out, TREE)
    assert (out / "charts/web/values.yaml").read_text() == "someone else's\n"


def test_a_hand_edited_file_stops_the_build_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    (out / "releases.yaml").write_text("edited\n")
    changed = {**TREE, P("charts/web/values.yaml"): b"a: 3\n"}
    with pytest.raises(OperationFailed, match="edited by hand"):
        write_tree(out, changed)
    assert (out / "releases.yaml").read_text() == "edited\n"
    assert (out / "charts/web/values.yaml").read_bytes() == b"a: 1\n"
    write_tree(out, changed, force=True)
    assert (out / "releases.yaml").read_bytes() == TREE[P("releases.yaml")]


def test_check_lists_stale_missing_extra_and_edited_paths(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, {**TREE, P("gone.yaml"): b"x\n"})
    assert check_tree(out, {**TREE, P("gone.yaml"): b"x\n"}) == []
    (out / "releases.yaml").write_text("edited\n")
    new = {P("charts/web/values.yaml"): b"a: 9\n", P("releases.yaml"): TREE[P("releases.yaml")]}
    new[P("new.yaml")] = b"n\n"
    reasons = {str(d.path): d.reason for d in check_tree(out, new)}
    assert reasons == {
        ".chartgen-manifest.json": "stale",
        "charts/web/values.yaml": "stale",
        "gone.yaml": "extra",
        "new.yaml": "missing",
        "releases.yaml": "edited by hand",
    }


def test_a_failure_in_the_middle_of_a_write_leaves_the_old_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    before = _files(out)
    calls = 0
    real_place = write._place

    def failing_place(
        current: Path, target: Path, data: bytes, written_once: dict[bytes, Path]
    ) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk full")
        real_place(current, target, data, written_once)

    monkeypatch.setattr(write, "_place", failing_place)
    changed = {P("charts/web/values.yaml"): b"a: 2\n", P("releases.yaml"): b"releases: [y]\n"}
    with pytest.raises(OSError, match="disk full"):
        write_tree(out, changed)
    assert _files(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["generated"]


def test_an_interrupted_swap_is_recovered(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    write_tree(out, TREE)
    # A build that stopped between its two renames leaves only the old tree, set aside.
    out.rename(tmp_path / ".generated.chartgen-old")
    assert check_tree(out, TREE) == []
    assert _files(out)["releases.yaml"] == TREE[P("releases.yaml")]


def test_the_swap_works_without_renameat2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write, "_exchange", lambda first, second: False)
    out = tmp_path / "generated"
    write_tree(out, TREE)
    write_tree(out, {**TREE, P("releases.yaml"): b"releases: [z]\n"})
    assert (out / "releases.yaml").read_bytes() == b"releases: [z]\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["generated"]
