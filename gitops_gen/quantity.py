"""Kubernetes resource quantities as exact numbers: CPU in millicores, memory in bytes."""

from __future__ import annotations

import re
from fractions import Fraction

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?\Z")
_FACTORS = {
    None: Fraction(1),
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


def parse_quantity(text: str | int | float) -> Fraction:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Fraction(text)
    match = _QUANTITY.match(str(text))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return Fraction(match.group(1)) * _FACTORS[match.group(2)]


def format_cpu(cores: Fraction) -> str:
    millis = cores * 1000
    if millis.denominator == 1 and millis % 1000 == 0:
        return str(int(millis // 1000))
    return f"{float(millis):.0f}m"


def format_memory(size: Fraction) -> str:
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            value = size / factor
            return f"{float(value):.1f}{unit}" if value.denominator != 1 else f"{int(value)}{unit}"
    return f"{int(size)}"
