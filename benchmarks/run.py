"""Runs every measurement in interleaved rounds and prints the table; exit 1 on a missed target.

Each round runs every subject once, in an order rotated per round, so that load from other
processes on the machine spreads over all of them and the ratios stay comparable. A warm-up
run of every subject comes first: it writes the bytecode caches (into a private
PYTHONPYCACHEPREFIX, for chartgen and the floor alike, as an installed program has them) and
the output trees that the up-to-date and --check subjects need.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ruamel.yaml import YAML

from benchmarks.datacenters import SIZES, app_datacenter_text, datacenter_text
from benchmarks.measure import Sample, Series, file_costs, run_process
from benchmarks.report import Row, all_passed, at_most, linear, table

REPO = Path(__file__).resolve().parent.parent
FLOOR_IMPORTS = "import click, jinja2, ruamel.yaml, jsonschema"
REFERENCE_SIZE = 200

BUILD_LIMIT = 2.0  # x the import floor
STARTUP_LIMIT = 1.5  # --help and --version, x the import floor
HELM_LIMIT = 0.15  # x `helm template` of every chart once
LINEAR_LIMIT = 1.5  # marginal cost per service, largest step vs the one before
MEMORY_LIMIT_MB = 200.0

Subject = Callable[[], Sample]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="service counts of the synthetic datacenters (default %(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    work = Path(tempfile.mkdtemp(prefix="chartgen-bench-"))
    try:
        rows = Bench(work, sizes, max(1, args.rounds)).rows()
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(_environment(args.rounds))
    print(table(rows), end="")
    return 0 if all_passed(rows) else 1


class Bench:
    def __init__(self, work: Path, sizes: Sequence[int], rounds: int) -> None:
        self.work = work
        self.sizes = sizes
        self.rounds = rounds
        self.reference = REFERENCE_SIZE if REFERENCE_SIZE in sizes else max(sizes)
        self.env = dict(os.environ)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.python = sys.executable
        script = Path(sys.executable).with_name("chartgen")
        self.chartgen = [str(script)] if script.is_file() else [self.python, "-m", "chartgen"]
        self.helm = _helm()
        self.env["CHARTGEN_HELM"] = self.helm
        self.inputs = {
            size: self._datacenter(f"datacenter-{size}", datacenter_text(size)) for size in sizes
        }
        self.app_input = self._datacenter(
            f"app-datacenter-{self.reference}", app_datacenter_text(self.reference)
        )

    def _datacenter(self, name: str, text: str) -> Path:
        folder = self.work / name
        folder.mkdir()
        path = folder / "datacenter.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def _run(self, *command: str, ok_codes: tuple[int, ...] = (0,)) -> Sample:
        return run_process(command, self.env, self.work, ok_codes)

    def _chartgen(self, *arguments: str) -> Sample:
        return self._run(*self.chartgen, *arguments)

    def _fresh_build(self, datacenter: Path, out: Path) -> Subject:
        def subject() -> Sample:
            shutil.rmtree(out, ignore_errors=True)
            return self._chartgen("build", str(datacenter), "-o", str(out))

        return subject

    def _helm_templates(self, tree: Path) -> Subject:
        yaml = YAML(typ="safe", pure=True)
        releases = yaml.load((tree / "releases.yaml").read_text(encoding="utf-8"))["releases"]
        charts = [release for release in releases if release["chart"].startswith("charts/")]

        def subject() -> Sample:
            samples = [
                self._run(
                    self.helm,
                    "template",
                    release["name"],
                    str(tree / release["chart"]),
                    "--namespace",
                    release["namespace"],
                )
                for release in charts
            ]
            return Sample(
                sum(sample.seconds for sample in samples),
                max(sample.peak_rss_mb for sample in samples),
            )

        return subject

    def rows(self) -> list[Row]:
        root = str(REPO / "datacenter.yaml")
        root_out = str(self.work / "root")
        kept = self.work / f"kept-{self.reference}"
        reference_input = str(self.inputs[self.reference])
        subjects: dict[str, Subject] = {
            "floor": lambda: self._run(self.python, "-c", FLOOR_IMPORTS),
            "root build": lambda: self._chartgen("build", root, "-o", root_out),
            "root check": lambda: self._chartgen("build", root, "-o", root_out, "--check"),
            "help": lambda: self._chartgen("--help"),
            "version": lambda: self._chartgen("--version"),
            "kept build": lambda: self._chartgen("build", reference_input, "-o", str(kept)),
            "kept check": lambda: self._chartgen(
                "build", reference_input, "-o", str(kept), "--check"
            ),
        }
        for size in self.sizes:
            subjects[f"build {size}"] = self._fresh_build(
                self.inputs[size], self.work / f"fresh-{size}"
            )
        subjects["build app"] = self._fresh_build(self.app_input, self.work / "fresh-app")
        self._chartgen("build", reference_input, "-o", str(kept))
        subjects["helm"] = self._helm_templates(kept)
        kept_app = self.work / "kept-app"
        self._chartgen("build", str(self.app_input), "-o", str(kept_app))
        subjects["helm app"] = self._helm_templates(kept_app)
        series = self._interleaved(subjects)
        rewritten = self._noop_rewrites(kept, reference_input)
        return [*self._report(series, rewritten), self._file_costs()]

    def _file_costs(self) -> Row:
        costs = [file_costs(self.work / f"file-costs-{number}") for number in range(self.rounds)]
        create = statistics.median(cost.create for cost in costs)
        link = statistics.median(cost.link for cost in costs)
        return Row(
            "file system of the work folder, per file: create vs hard link",
            value=f"{create * 1000:.3f} vs {link * 1000:.3f} ms",
            target="information",
        )

    def _interleaved(self, subjects: dict[str, Subject]) -> dict[str, Series]:
        names = list(subjects)
        for name in names:  # warm-up: bytecode caches, output trees
            subjects[name]()
        samples: dict[str, list[Sample]] = {name: [] for name in names}
        for round_number in range(self.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(subjects[name]())
        return {name: Series(tuple(found)) for name, found in samples.items()}

    def _noop_rewrites(self, tree: Path, datacenter: str) -> list[str]:
        """Files whose inode or mtime a build of an up-to-date tree changed."""
        before = _stamps(tree)
        self._chartgen("build", datacenter, "-o", str(tree))
        after = _stamps(tree)
        return sorted(
            path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
        )

    def _report(self, series: dict[str, Series], rewritten: list[str]) -> list[Row]:
        floor = series["floor"]
        size = self.reference
        build = series[f"build {size}"]
        rows = [
            Row(f"import floor: `python -c '{FLOOR_IMPORTS}'`", floor, "1.00x", "reference"),
            at_most(
                "`chartgen build datacenter.yaml` (root, up to date)",
                series["root build"],
                floor,
                BUILD_LIMIT,
                "floor",
            ),
            at_most(
                "`chartgen build --check datacenter.yaml` (root)",
                series["root check"],
                series["root build"],
                1.0 + 0.1,
                "root build (noise allowance)",
            ),
            at_most("`chartgen --help`", series["help"], floor, STARTUP_LIMIT, "floor"),
            at_most(
                "`chartgen --version` (runs `helm version`)",
                series["version"],
                floor,
                STARTUP_LIMIT,
                "floor",
            ),
            Row(
                f"`helm template`, {size} charts one after the other",
                series["helm"],
                "",
                "reference",
            ),
            at_most(
                f"`chartgen build`, {size} services, empty output folder",
                build,
                series["helm"],
                HELM_LIMIT,
                "helm",
            ),
            at_most(
                f"`chartgen build --check`, {size} services (up to date)",
                series["kept check"],
                build,
                1.0,
                "build",
            ),
            Row(
                f"`chartgen build`, {size} services, up to date (no-op)",
                series["kept build"],
                f"{series['kept build'].median / build.median:.2f}x",
                "information (x build)",
            ),
        ]
        medians = []
        for count in self.sizes:
            timing = series[f"build {count}"]
            medians.append(timing.median)
            rows.append(
                Row(
                    f"`chartgen build`, {count} services: per service",
                    timing,
                    f"{timing.median / count * 1000:.1f} ms/service",
                    "information",
                )
            )
        if len(self.sizes) >= 3:
            rows.append(linear(self.sizes, medians, LINEAR_LIMIT))
        rows.extend(self._app_rows(series))
        peak = build.peak_rss_mb
        rows.append(
            Row(
                f"peak RSS, `chartgen build` of {size} services",
                value=f"{peak:.0f} MB",
                target=f"< {MEMORY_LIMIT_MB:g} MB",
                passed=peak < MEMORY_LIMIT_MB,
            )
        )
        rows.append(
            Row(
                f"files rewritten by a no-op build ({size} services)",
                value=str(len(rewritten)),
                target="0 (mtime and inode kept)",
                passed=not rewritten,
            )
        )
        return rows

    def _app_rows(self, series: dict[str, Series]) -> list[Row]:
        """The app type against the same targets as nginx."""
        size = self.reference
        build = series["build app"]
        peak = build.peak_rss_mb
        return [
            Row(
                f"`helm template`, {size} app charts one after the other",
                series["helm app"],
                "",
                "reference",
            ),
            at_most(
                f"`chartgen build`, {size} app services, empty output folder",
                build,
                series["helm app"],
                HELM_LIMIT,
                "helm (app)",
            ),
            Row(
                f"peak RSS, `chartgen build` of {size} app services",
                value=f"{peak:.0f} MB",
                target=f"< {MEMORY_LIMIT_MB:g} MB",
                passed=peak < MEMORY_LIMIT_MB,
            ),
        ]


def _stamps(tree: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(tree)): (path.stat().st_mtime_ns, path.stat().st_ino)
        for path in tree.rglob("*")
        if path.is_file()
    }


def _helm() -> str:
    from chartgen.tools import find_helm

    return str(find_helm().path)


def _environment(rounds: int) -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"chartgen benchmark: {rounds} interleaved rounds, medians; Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average {load}\n"
    )
