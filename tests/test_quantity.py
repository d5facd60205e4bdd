"""The Kubernetes quantity grammar, case by case as k8s.io/apimachinery's parser reads it."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gitops_gen.specs.quantity import is_quantity, parse_quantity, quantity_format

# (text, exact value): every form ParseQuantity accepts.
VALID = [
    ("8", Fraction(8)),
    ("0", Fraction(0)),
    ("2500m", Fraction(5, 2)),
    ("32Gi", Fraction(32 * 2**30)),
    ("57457452Ki", Fraction(57457452 * 1024)),
    ("1.5", Fraction(3, 2)),
    ("1.", Fraction(1)),  # <digits>.
    (".5", Fraction(1, 2)),  # .<digits>
    ("+1", Fraction(1)),
    ("-1", Fraction(-1)),  # the grammar allows a sign; fields forbid negatives themselves
    ("100u", Fraction(1, 10_000)),
    ("5n", Fraction(5, 10**9)),
    ("1k", Fraction(1000)),
    ("1E", Fraction(10**18)),  # exa, not an exponent
    ("1Ei", Fraction(2**60)),
    ("1e9", Fraction(10**9)),
    ("1E-3", Fraction(1, 1000)),
    ("1e+5", Fraction(10**5)),
    ("1.5e3", Fraction(1500)),
    ("1e9223372036854775807", None),  # the exponent fits int64
]
# Refused by the API server, and by gitops-gen (the last four only by gitops-gen: see the
# module docstring).
INVALID = [
    "64 GiB",
    "eight",
    "32GB ",
    "32GB",
    "1K",  # decimal kilo is lowercase
    "1ki",
    "1Gb",
    "1ee5",
    "1e",
    "1e1.5",
    "1e9223372036854775808",  # the exponent overflows int64
    "0x10",
    "1,5",
    "٣",  # a digit, but not an ASCII one
    "",
    " 32Gi",
    "32Gi\n",
    "Gi",
    "+",
    ".",
]


@pytest.mark.parametrize(("text", "value"), VALID, ids=[t for t, _v in VALID])
def test_valid_quantities(text: str, value: Fraction | None) -> None:
    assert is_quantity(text) and quantity_format(text)
    if value is not None:
        assert parse_quantity(text) == value


@pytest.mark.parametrize("text", INVALID)
def test_invalid_quantities(text: str) -> None:
    assert not is_quantity(text) and not quantity_format(text)
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_numbers_are_quantities_when_json_can_carry_them() -> None:
    assert is_quantity(8) and is_quantity(0.5) and parse_quantity(0.5) == Fraction(1, 2)
    assert not is_quantity(float("inf")) and not is_quantity(float("nan"))
    assert not is_quantity(True) and not is_quantity(None)
    # the format assertion leaves non-strings and non-numbers to the schema's `type`
    assert quantity_format(None) and quantity_format(True) and quantity_format([1])


def test_absurd_exponents_parse_without_exhausting_memory() -> None:
    assert parse_quantity("1e9223372036854775807") > 10**999
    assert 0 < parse_quantity("1e-9223372036854775808") < Fraction(1, 10**999)
