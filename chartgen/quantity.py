"""Kubernetes quantities ("500m", "8Gi", 4) as exact numbers, for capacity arithmetic."""

from __future__ import annotations

import re
from fractions import Fraction

_SUFFIX = {
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
    """Exact value of a quantity already checked by the schema."""
    match = _QUANTITY.match(str(text))
    if match is None or match["suffix"] not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return Fraction(match["number"]) * _SUFFIX[match["suffix"]]


def format_cpu(value: Fraction) -> str:
    millis = value * 1000
    if millis.denominator == 1 and millis % 1000 == 0:
        return str(int(millis // 1000))
    return f"{float(millis):g}m"


def format_memory(value: Fraction) -> str:
    for suffix in ("Ti", "Gi", "Mi", "Ki"):
        unit = _SUFFIX[suffix]
        if value >= unit:
            scaled = value / unit
            return f"{float(scaled):.4g}{suffix}"
    return f"{float(value):g}"
