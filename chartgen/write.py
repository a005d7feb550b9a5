"""Writes a rendered tree into the output folder, GitOps-safe.

- The new tree is built beside the old one and swapped in (an atomic exchange where the
  kernel offers one), so a crash or an error leaves the old folder whole.
- A manifest records every file chartgen owns with its sha256. Owned files no longer produced
  are pruned; files chartgen does not own are never touched; unchanged files keep their inode
  and mtime; an owned file edited by hand stops the build unless `force`.
- Files written with the same bytes share one inode (hard links). The charts of one blueprint
  differ only in `values.yaml`, so a big datacenter writes a few hundred files, not thousands:
  creating an inode costs far more than linking one on some file systems. Git, Helm and Argo
  CD read contents and never see the links; where the file system has no hard links, each
  file is written on its own.
- `check_tree` compares without writing, for `build --check`.
- Nothing is written or read through a symbolic link on a path chartgen writes (the output
  folder, its two siblings, the folders and files it produces), every produced path stays
  inside the folder, and modes are set explicitly (0644 files, 0755 folders), whatever the umask.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from chartgen.errors import OperationFailed

MANIFEST = PurePosixPath(".chartgen-manifest.json")
FILE_MODE = 0o644
DIR_MODE = 0o755

Tree = Mapping[PurePosixPath, bytes]


@dataclass(frozen=True)
class Difference:
    path: PurePosixPath
    reason: str  # "stale", "missing", "extra", "edited by hand", "not owned"


@dataclass(frozen=True)
class WriteResult:
    written: tuple[PurePosixPath, ...]
    pruned: tuple[PurePosixPath, ...]
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.written or self.pruned)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: Tree) -> bytes:
    owned = {str(path): sha256(data) for path, data in sorted(files.items())}
    document = {"generator": "chartgen", "files": owned}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def with_manifest(files: Tree) -> dict[PurePosixPath, bytes]:
    tree = dict(files)
    tree[MANIFEST] = manifest_bytes(files)
    return tree


def read_manifest(out: Path) -> dict[PurePosixPath, str]:
    path = out / MANIFEST
    try:
        document = json.loads(path.read_bytes())
        files = document["files"]
        return {PurePosixPath(name): str(digest) for name, digest in files.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise OperationFailed(f"{path} is unreadable ({error}); remove it to rebuild") from error


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def check_tree(out: Path, files: Tree) -> list[Difference]:
    """How `out` differs from what a build would write (empty: up to date)."""
    _refuse_unsafe_paths(out, files)
    recover_interrupted_swap(out)
    owned = read_manifest(out)
    differences: list[Difference] = []
    for path, data in sorted(with_manifest(files).items()):
        current = _read(out / path)
        if current is None:
            differences.append(Difference(path, "missing"))
        elif current != data:
            edited = path in owned and sha256(current) != owned[path]
            differences.append(Difference(path, "edited by hand" if edited else "stale"))
    for path in sorted(set(owned) - set(files)):
        if (out / path).exists():
            differences.append(Difference(path, "extra"))
    return differences


def write_tree(out: Path, files: Tree, *, force: bool = False) -> WriteResult:
    _refuse_unsafe_paths(out, files)
    recover_interrupted_swap(out)
    tree = with_manifest(files)
    owned = read_manifest(out)
    _refuse_conflicts(out, tree, owned, force)
    pruned = tuple(sorted(path for path in set(owned) - set(tree) if (out / path).exists()))
    written = tuple(sorted(path for path, data in tree.items() if _read(out / path) != data))
    unchanged = len(tree) - len(written)
    if not written and not pruned:
        return WriteResult((), (), unchanged)
    staging, _old = _siblings(out)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=DIR_MODE, parents=True)
    staging.chmod(DIR_MODE)
    try:
        if out.is_dir():
            _link_kept_files(out, staging, set(tree) | set(owned))
        written_once: dict[bytes, Path] = {}
        for path, data in tree.items():
            _place(out / path, staging / path, data, written_once)
        # One flush of the file system instead of an fsync per file (thousands for a big
        # datacenter): every byte of the new tree is on disk before it is swapped in.
        _flush_file_system(staging)
        _swap_in(staging, out)
        _fsync_folder(out.absolute().parent)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return WriteResult(written, pruned, unchanged)


def _refuse_unsafe_paths(out: Path, files: Tree) -> None:
    """Refuses a produced path that would leave `out`, and any symbolic link chartgen would
    write through: the output folder, its siblings, or a folder or file on a produced path."""
    for path in files:
        if not _stays_inside(path):
            raise OperationFailed(f"refusing to write {str(path)!r}: it is not inside {out}")
    candidates = {out, *_siblings(out)}
    for path in files:
        for depth in range(1, len(path.parts) + 1):
            candidates.add(out / PurePosixPath(*path.parts[:depth]))
    links = sorted(str(link) for link in candidates if link.is_symlink())
    if links:
        listing = "\n  ".join(links)
        raise OperationFailed(
            f"refusing to write through symbolic links:\n  {listing}\n"
            "chartgen writes only into real folders; remove the links"
        )


def _stays_inside(path: PurePosixPath) -> bool:
    parts = path.parts
    return (
        bool(parts)
        and not path.is_absolute()
        and all(part not in ("", ".", "..") and "\0" not in part for part in parts)
    )


def _refuse_conflicts(
    out: Path, tree: Tree, owned: Mapping[PurePosixPath, str], force: bool
) -> None:
    if force:
        return
    problems: list[str] = []
    shared = 0
    for path in sorted(set(tree) | set(owned)):
        if path == MANIFEST:
            continue
        current = _read(out / path)
        if current is None or current == tree.get(path):
            continue
        if path in owned and sha256(current) != owned[path]:
            problems.append(f"{out / path}: edited by hand since chartgen wrote it")
            shared += _has_other_links(out / path)
        elif path not in owned and path in tree:
            problems.append(f"{out / path}: exists and was not written by chartgen")
    if problems:
        listing = "\n  ".join(problems)
        links = (
            f"{shared} of these are hard links to shared content (chartgen writes identical "
            "files once): an editor that saves in place changes every link\n"
            if shared
            else ""
        )
        raise OperationFailed(
            f"refusing to overwrite:\n  {listing}\n{links}"
            "move your changes into the datacenter file, or rebuild with --force"
        )


def _has_other_links(path: Path) -> bool:
    try:
        return path.stat().st_nlink > 1
    except OSError:
        return False


def _siblings(out: Path) -> tuple[Path, Path]:
    parent = out.absolute().parent
    return parent / f".{out.name}.chartgen-new", parent / f".{out.name}.chartgen-old"


def recover_interrupted_swap(out: Path) -> None:
    """Puts the old tree back if a previous build stopped between its two renames."""
    staging, old = _siblings(out)
    if old.exists():
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(out)
    if staging.exists():
        shutil.rmtree(staging, ignore_errors=True)


def _link_kept_files(out: Path, staging: Path, produced: set[PurePosixPath]) -> None:
    """Hard-links into the staging tree every file the new tree does not replace or prune."""
    for folder, subfolders, names in os.walk(out, followlinks=False):
        relative = Path(folder).relative_to(out)
        for name in subfolders:
            source = Path(folder) / name
            if source.is_symlink():
                _copy_symlink(source, staging / relative / name)
        for name in names:
            source = Path(folder) / name
            path = PurePosixPath(*relative.parts, name)
            if path in produced:
                continue
            target = staging / relative / name
            _make_folder(target.parent)
            if source.is_symlink():
                _copy_symlink(source, target)
            else:
                _keep(source, target)


def _copy_symlink(source: Path, target: Path) -> None:
    _make_folder(target.parent)
    target.symlink_to(source.readlink())


def _make_folder(folder: Path) -> None:
    """mkdir -p with mode 0755 whatever the umask (mkdir's mode is masked by it)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=DIR_MODE)
        created.chmod(DIR_MODE)


def _place(current: Path, target: Path, data: bytes, written_once: dict[bytes, Path]) -> None:
    """Puts `data` at `target`: the current file's inode when unchanged, else the inode of a
    file this build already wrote with the same bytes, else a new file."""
    _make_folder(target.parent)
    if _read(current) == data:
        _keep(current, target)
        return
    same_bytes = written_once.get(data)
    if same_bytes is not None and _linked(same_bytes, target):
        return
    with open(target, "xb") as handle:
        handle.write(data)
    target.chmod(FILE_MODE)
    written_once[data] = target


_NO_LINK = (errno.EMLINK, errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.ENOSYS)


def _linked(source: Path, target: Path) -> bool:
    """Hard-links `target` to `source`; False where the file system refuses (no hard links,
    or too many links to one inode), and the caller writes a copy."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno in _NO_LINK:
            return False
        raise
    return True


def _keep(current: Path, target: Path) -> None:
    """An unchanged file into the new tree: the same inode and mtime, or where the file system
    has no hard links, a copy with the same mtime."""
    if not _linked(current, target):
        shutil.copy2(current, target, follow_symlinks=False)


def _swap_in(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging)
        return
    _staging, old = _siblings(out)
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old)


def _libc() -> Any:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    return None if name is None else ctypes.CDLL(name, use_errno=True)


def _flush_file_system(folder: Path) -> None:
    """syncfs(2) on the file system holding `folder`; sync(2) where syncfs is missing."""
    libc = _libc()
    syncfs = getattr(libc, "syncfs", None) if libc is not None else None
    if syncfs is None:
        os.sync()
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(descriptor) != 0:
            os.sync()
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    """Makes the swap itself durable: the folder's entries are on disk."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swaps two paths (Linux renameat2); False where that is not available."""
    import ctypes

    libc = _libc()
    if libc is None:
        return False
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OperationFailed(f"cannot swap {first} into {second}: {os.strerror(ctypes.get_errno())}")
