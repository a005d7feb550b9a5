"""Whole-process measurements, like /usr/bin/time: wall time and peak resident memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mb: float


class CommandFailed(Exception):
    pass


def run_process(
    command: Sequence[str], env: Mapping[str, str], cwd: Path, ok_codes: tuple[int, ...] = (0,)
) -> Sample:
    """Runs `command` once; its wall time and peak RSS (from wait4, as /usr/bin/time reads it)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in ok_codes:
        raise CommandFailed(
            f"{' '.join(command)} exited {process.returncode}:\n{stderr.decode(errors='replace')}"
        )
    return Sample(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class Series:
    """The samples of one measurement, over the interleaved rounds."""

    samples: tuple[Sample, ...]

    @property
    def seconds(self) -> list[float]:
        return [sample.seconds for sample in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)

    @property
    def maximum(self) -> float:
        return max(self.seconds)

    @property
    def peak_rss_mb(self) -> float:
        return max(sample.peak_rss_mb for sample in self.samples)


@dataclass(frozen=True)
class FileCosts:
    """What the file system under the work folder charges per file, in seconds."""

    create: float
    link: float


def file_costs(folder: Path, count: int = 500) -> FileCosts:
    """Creating a small file, and hard-linking one, in a fresh folder under `folder`: the
    writer does one of the two per output path, and their cost differs widely between file
    systems (and between machines), so the table shows them beside the timings."""
    folder.mkdir()
    data = b"x" * 1024
    start = time.perf_counter()
    for number in range(count):
        with open(folder / f"file-{number}", "xb") as handle:
            handle.write(data)
    created = time.perf_counter()
    for number in range(count):
        os.link(folder / f"file-{number}", folder / f"link-{number}")
    linked = time.perf_counter()
    return FileCosts((created - start) / count, (linked - created) / count)
