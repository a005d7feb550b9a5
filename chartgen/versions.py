"""Version numbers of the apps chartgen deploys, compared as numbers ("31.0.10" > "31.0.9").

Image tags and Chart.yaml appVersions carry them: "31.0.9-fpm" and "17.6" read as (31, 0, 9)
and (17, 6); what follows the leading dotted numbers (a variant, a suffix) does not count.
"""

from __future__ import annotations

import re

_NUMBERS = re.compile(r"v?(\d+(?:\.\d+)*)")


def numbers(version: str) -> tuple[int, ...] | None:
    """The leading dotted numbers of a version or image tag; None when it has none."""
    found = _NUMBERS.match(version.strip())
    if found is None:
        return None
    return tuple(int(part) for part in found.group(1).split("."))


def major(version: str) -> int | None:
    parsed = numbers(version)
    return parsed[0] if parsed else None


def older(version: str, than: str) -> bool:
    """True when both are versions and `version` comes before `than`."""
    left, right = numbers(version), numbers(than)
    return left is not None and right is not None and _padded(left, right) < _padded(right, left)


def _padded(version: tuple[int, ...], other: tuple[int, ...]) -> tuple[int, ...]:
    return version + (0,) * (len(other) - len(version))
