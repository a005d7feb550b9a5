"""Kubernetes quantities ("500m", "8Gi", 4) as exact numbers, for capacity arithmetic."""

from __future__ import annotations

import math
import re
from fractions import Fraction

_SUFFIX = {
    # metrics-server reports CPU in nanocores ("123456789n"); the schema allows neither n nor u.
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "": Fraction(1),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(?P<suffix>[a-zA-Z]*)$")


def parse_quantity(text: str | int) -> Fraction:
    """Exact value of a quantity already checked by the schema, or read from the cluster."""
    match = _QUANTITY.match(str(text))
    if match is None or match["suffix"] not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return Fraction(match["number"]) * _SUFFIX[match["suffix"]]


def format_cpu(value: Fraction) -> str:
    """Whole cores ("4") or millicores ("250m"), rounded up to the millicore: exact, never
    in exponent notation, which Kubernetes refuses."""
    millis = math.ceil(value * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_memory(value: Fraction) -> str:
    """Bytes in the largest binary unit that divides them exactly ("2496Mi", "8Gi")."""
    size = math.ceil(value)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIX[suffix])
        if size >= unit and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)
