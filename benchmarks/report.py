"""The targets of issue 8 as table rows: median, min, max, ratio, target, pass/fail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.measure import Series

HEADER = ("measure", "median", "min", "max", "ratio", "target", "result")


@dataclass(frozen=True)
class Row:
    measure: str
    series: Series | None = None  # None: not a timing (memory, files)
    ratio: str = ""
    target: str = ""
    passed: bool | None = None  # None: a reference, or information only
    value: str = ""  # shown in the median column when there is no series


def seconds_text(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 10 else f"{seconds * 1000:.0f} ms"


def at_most(measure: str, series: Series, reference: Series, limit: float, of: str) -> Row:
    """A timing whose median must be at most `limit` times the reference's median."""
    ratio = series.median / reference.median
    return Row(measure, series, f"{ratio:.2f}x", f"≤ {limit:g}x {of}", ratio <= limit)


def linear(sizes: Sequence[int], medians: Sequence[float], limit: float) -> Row:
    """Cost per added service from the largest size's step, against the step before it: a
    quadratic term makes later steps dearer; a flat cost keeps the ratio near 1."""
    (small, middle, large), (t_small, t_middle, t_large) = sizes[-3:], medians[-3:]
    first = (t_middle - t_small) / (middle - small)
    second = (t_large - t_middle) / (large - middle)
    ratio = second / first
    return Row(
        f"cost per added service, {middle}→{large} vs {small}→{middle}",
        ratio=f"{ratio:.2f}x",
        value=f"{second * 1000:.1f} vs {first * 1000:.1f} ms",
        target=f"≤ {limit:g}x (linear)",
        passed=ratio <= limit,
    )


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (it goes into README.md as printed)."""
    lines = [_line(HEADER), _line(tuple("---" for _ in HEADER))]
    for row in rows:
        series = row.series
        cells = (
            row.measure,
            seconds_text(series.median) if series else row.value,
            seconds_text(series.minimum) if series else "",
            seconds_text(series.maximum) if series else "",
            row.ratio,
            row.target,
            {None: "", True: "pass", False: "**FAIL**"}[row.passed],
        )
        lines.append(_line(cells))
    return "\n".join(lines) + "\n"


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def all_passed(rows: Sequence[Row]) -> bool:
    return all(row.passed is not False for row in rows)
