"""Kubernetes resource quantities: the API server's grammar, and exact values.

The grammar is the one k8s.io/apimachinery/pkg/api/resource parses (quantity.go):
`<signedNumber><suffix>`, the number `1`, `1.5`, `1.` or `.5` after an optional sign, the
suffix a binary one (Ki Mi Gi Ti Pi Ei), a decimal one (n u m "" k M G T P E) or a
decimal exponent (e or E and a signed integer that fits in int64). Two deliberate
differences, both stricter: no surrounding spaces (the API server trims them when
decoding JSON, but `"32Gi "` is a typo that Argo CD would show as a diff forever), and at
least one digit (the parser reads `Gi`, `+` or `.` alone as zero; nobody means that).
OpenAPI only says "string or number", so `"64 GiB"` passed every schema until this check.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

_GRAMMAR = re.compile(
    r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE](?P<exp>[+-]?[0-9]+))?"
)
_INT64 = 2**63
# Beyond 10^±1000 no resource is meant; the exact value would only cost memory.
_EXPONENT_CLAMP = 1000
_FACTORS = {
    None: Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
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

QUANTITY_HINT = "a number with an optional suffix, like 8, 2500m, 32Gi or 1e9, without spaces"


def _match(text: str) -> re.Match[str] | None:
    match = _GRAMMAR.fullmatch(text)
    if match is None or not (match["int"] or match["frac"]):
        return None
    exponent = match["exp"]
    if exponent is not None and (
        len(exponent.lstrip("+-").lstrip("0")) > 19 or not -_INT64 <= int(exponent) < _INT64
    ):
        return None  # the parser reads the exponent with strconv.ParseInt(s, 10, 64)
    return match


def is_quantity(value: Any) -> bool:
    """Would the API server accept `value` (a JSON string or number) as a quantity?"""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no Infinity or NaN
    return isinstance(value, str) and _match(value) is not None


def quantity_format(value: Any) -> bool:
    """The `quantity` format assertion: only strings and numbers are judged (the schema's
    `type` judges the rest), as JSON Schema formats do."""
    if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return is_quantity(value)
    return True


def parse_quantity(text: str | int | float) -> Fraction:
    """The exact value of a quantity (CPU in cores, memory in bytes); ValueError if the
    API server would refuse it."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not is_quantity(text):
            raise ValueError(f"not a Kubernetes quantity: {text!r}")
        return Fraction(text)
    match = _match(str(text))
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    digits = (match["int"] or "") + (match["frac"] or "")
    value = Fraction(int(digits), 10 ** len(match["frac"] or ""))
    if match["exp"] is not None:
        exponent = max(-_EXPONENT_CLAMP, min(_EXPONENT_CLAMP, int(match["exp"])))
        value *= Fraction(10) ** exponent
    else:
        value *= _FACTORS[match["suffix"]]
    return -value if match["sign"] == "-" else value


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


# Docker's byte sizes (go-units RAMInBytes): a number, then b, k, m, g, t or p, with an
# optional trailing b and any case; every unit is binary.
_DOCKER_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)b?\s*\Z", re.IGNORECASE)
_DOCKER_FACTORS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}


def parse_docker_size(value: str | int) -> Fraction:
    """A compose `memory` or `shm_size` (`24g`, `512m`, `1073741824`) in bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    match = _DOCKER_SIZE.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a byte size like 512m or 24g")
    return Fraction(match[1]) * _DOCKER_FACTORS[match[2].lower()]
