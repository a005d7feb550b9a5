"""`chartgen diff`: what a build would change in the output folder, as a unified diff.

The human side of `build --check`: the same comparison (`write.check_tree` decides whether the
folder is stale), shown line by line. Paths in the headers are those of the folder, `a/` being
what is there and `b/` what a build writes, as `git diff` prints them. No colour here: the CLI
colours the lines it prints.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from chartgen.write import Difference, check_tree, with_manifest

CONTEXT_LINES = 3


@dataclass(frozen=True)
class TreeDiff:
    differences: tuple[Difference, ...]  # what `build --check` reports
    lines: tuple[str, ...]  # the unified diff of the files' contents, without line endings

    @property
    def differs(self) -> bool:
        return bool(self.differences)


def tree_diff(out: Path, files: Mapping[PurePosixPath, bytes]) -> TreeDiff:
    """How `out` differs from the tree a build would write there.

    The manifest is part of the diff (its hashes change with the files), so that applying
    the diff (`git apply`) leaves the folder exactly as a build would. Files chartgen does not
    own and does not write are never looked at.
    """
    differences = tuple(check_tree(out, files))
    tree = with_manifest(files)
    lines: list[str] = []
    for difference in differences:
        current = _read(out / difference.path) if difference.reason != "missing" else None
        wanted = tree.get(difference.path)
        lines.extend(_file_diff(out, difference.path, current, wanted))
    return TreeDiff(differences, tuple(lines))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _text_lines(data: bytes | None) -> list[str] | None:
    if data is None:
        return []
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _file_diff(
    out: Path, path: PurePosixPath, current: bytes | None, wanted: bytes | None
) -> Iterator[str]:
    shown = PurePosixPath(out.as_posix()) / path
    # git's a/ and b/ prefixes, so that `git apply` takes the diff; an absolute path as it is.
    old_name, new_name = (str(shown),) * 2 if shown.is_absolute() else (f"a/{shown}", f"b/{shown}")
    before = old_name if current is not None else "/dev/null"
    after = new_name if wanted is not None else "/dev/null"
    old, new = _text_lines(current), _text_lines(wanted)
    if old is None or new is None:
        yield f"Binary files {before} and {after} differ"
        return
    for line in difflib.unified_diff(old, new, before, after, n=CONTEXT_LINES):
        text = line.rstrip("\n")
        yield text
        if not line.endswith("\n"):  # the last line of a file without a final newline
            yield "\\ No newline at end of file"
