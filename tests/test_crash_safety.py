"""A build that fails or dies at any point leaves the complete old tree or the complete new one.

Two ways: a test double fails each file operation of `write_tree` in turn (every write, link,
mkdir, rename, exchange, chmod, fsync and removal), and real `chartgen build` processes are
killed with SIGKILL at random moments. After each, the next build's recovery
(`recover_interrupted_swap`) runs, then the folder is compared byte for byte.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from chartgen import write
from chartgen.render import render
from chartgen.validate import validate_file
from chartgen.write import recover_interrupted_swap, with_manifest, write_tree
from tests.conftest import CASES

P = PurePosixPath
OLD = {
    P("charts/web/values.yaml"): b"a: 1\n",
    P("charts/web/Chart.yaml"): b"name: web\n",
    P("charts/gone/values.yaml"): b"pruned next time\n",
    P("releases.yaml"): b"releases: [web, gone]\n",
}
NEW = {
    P("charts/web/values.yaml"): b"a: 2\n",
    P("charts/web/Chart.yaml"): b"name: web\n",
    P("charts/new/templates/x.yaml"): b"new\n",
    P("releases.yaml"): b"releases: [web, new]\n",
}
NOT_OWNED = {"mine.txt": b"not chartgen's\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def expected(tree: dict[PurePosixPath, bytes]) -> dict[str, bytes]:
    return {**{str(k): v for k, v in with_manifest(tree).items()}, **NOT_OWNED}


class Injected(OSError):
    pass


class FailAt:
    """Counts the file operations of a write and fails the n-th (None: count only)."""

    def __init__(self, fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.seen: list[str] = []

    def step(self, name: str) -> None:
        self.seen.append(name)
        if len(self.seen) - 1 == self.fail_at:
            raise Injected(f"injected failure at {name}")

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.step(name)
            return function(*args, **kwargs)

        return wrapper


@contextmanager
def injected(monkeypatch: pytest.MonkeyPatch, plan: FailAt, *, exchange: bool) -> Iterator[FailAt]:
    with monkeypatch.context() as patch:
        for name in ("link", "fsync", "rename", "replace", "unlink", "rmdir", "chmod", "mkdir"):
            patch.setattr(os, name, plan.wrap(f"os.{name}", getattr(os, name)))
        for name in ("mkdir", "rename", "chmod", "symlink_to", "unlink", "rmdir"):
            patch.setattr(Path, name, plan.wrap(f"Path.{name}", getattr(Path, name)))
        patch.setattr(shutil, "rmtree", plan.wrap("shutil.rmtree", shutil.rmtree))
        real_open = open

        def write_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(flag in mode for flag in "wxa+"):
                plan.step("open for writing")
            return real_open(file, mode, *args, **kwargs)

        patch.setattr(write, "open", write_open, raising=False)
        real_exchange = write._exchange
        patch.setattr(
            write,
            "_exchange",
            plan.wrap("renameat2", real_exchange if exchange else lambda first, second: False),
        )
        yield plan


def _old_tree(out: Path) -> None:
    write_tree(out, OLD)
    for name, data in NOT_OWNED.items():
        (out / name).write_bytes(data)


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_failure_at_any_file_operation_leaves_the_old_or_the_new_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    counting = tmp_path / "counting" / "generated"
    _old_tree(counting)
    with injected(monkeypatch, FailAt(None), exchange=exchange) as plan:
        write_tree(counting, NEW)
    operations = plan.seen
    assert snapshot(counting) == expected(NEW)
    assert {"open for writing", "os.link", "shutil.rmtree", "renameat2"} <= set(operations)
    assert len(operations) > 10

    outcomes: dict[str, int] = {"old": 0, "new": 0}
    for index, operation in enumerate(operations):
        out = tmp_path / f"run-{index}" / "generated"
        _old_tree(out)
        with injected(monkeypatch, FailAt(index), exchange=exchange), suppress(Injected):
            write_tree(out, NEW)
        recover_interrupted_swap(out)  # what the next build does first
        found = snapshot(out)
        assert found in (expected(OLD), expected(NEW)), f"failure at #{index} {operation}"
        outcomes["old" if found == expected(OLD) else "new"] += 1
        leftovers = sorted(p.name for p in out.parent.iterdir())
        assert leftovers == ["generated"], f"failure at #{index} {operation}: {leftovers}"
        # and the next build completes from there
        write_tree(out, NEW)
        assert snapshot(out) == expected(NEW)
    assert outcomes["old"] > 0 and outcomes["new"] > 0


# ---------------------------------------------------------------- killing a real build


def _big_datacenter(folder: Path, replicas: int) -> Path:
    """The first 80 services of nginx-200 (some 1,000 files), every replica count changed, so
    that a rebuild rewrites most files."""
    text = (CASES / "valid" / "nginx-200" / "datacenter.yaml").read_text()
    text = text.split("  - name: web-081\n")[0]
    source = folder / f"datacenter-{replicas}.yaml"
    source.write_text(text.replace("replicas: 3\n", f"replicas: {replicas}\n"))
    return source


def _build(source: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "chartgen", "build", str(source), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


KILLS = int(os.environ.get("CHARTGEN_CRASH_KILLS", "4"))


def _tree_of(source: Path) -> dict[str, bytes]:
    validation = validate_file(str(source))
    assert validation.datacenter is not None
    return {str(path): data for path, data in with_manifest(render(validation.datacenter)).items()}


def test_killing_a_build_at_random_moments_leaves_the_old_or_the_new_tree(
    tmp_path: Path,
) -> None:
    sources = [_big_datacenter(tmp_path, replicas) for replicas in (3, 5)]
    trees = [_tree_of(source) for source in sources]
    assert trees[0] != trees[1]
    out = tmp_path / "generated"
    started = time.monotonic()
    assert _build(sources[0], out).wait() == 0
    duration = time.monotonic() - started
    assert snapshot(out) == trees[0]
    current = 0
    chance = random.Random(os.environ.get("CHARTGEN_CRASH_SEED", "0"))
    for _run in range(KILLS):
        process = _build(sources[1 - current], out)
        # Most of a build is start-up, validation and rendering; the writing is its last part.
        time.sleep(chance.uniform(0.6, 1.1) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        recover_interrupted_swap(out)
        found = snapshot(out)
        assert found in trees
        current = trees.index(found)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
