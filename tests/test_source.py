from __future__ import annotations

import pytest

from gitops_gen.errors import InputError
from gitops_gen.specs.source import parse_yaml


def test_every_key_and_item_keeps_its_line() -> None:
    doc = parse_yaml("a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n", file="f.yaml")
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}]}}
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("b", "c")) == 3
    assert doc.line_of(("b", "d", 0, "e")) == 5
    # an unknown path falls back to its nearest known ancestor
    assert doc.line_of(("b", "d", 0, "missing")) == 5


def test_dates_stay_strings_and_yaml11_booleans_are_booleans() -> None:
    doc = parse_yaml("date: 2026-06-12\nflag: on\nquoted: 'on'\n", file="f.yaml")
    assert doc.data == {"date": "2026-06-12", "flag": True, "quoted": "on"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "f.yaml:2: a: duplicate key (first defined on line 1)"),
        ("a: !!python/object:os.system x\n", "f.yaml:1: a: unsupported YAML tag"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "f.yaml:3: other: merge keys ('<<') are not"),
        ("? [a, b]\n: 1\n", "f.yaml:1: mapping keys must be plain strings"),
        ("", "f.yaml:1: file is empty"),
        ("a: [\n", "f.yaml:2: invalid YAML"),
    ],
)
def test_bad_documents_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, file="f.yaml")
    assert str(caught.value.problems[0]).startswith(message)


def test_alias_bomb_is_refused_not_expanded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(InputError) as caught:
        parse_yaml("\n".join(lines) + "\n", file="bomb.yaml")
    assert "too many nodes or aliases" in str(caught.value)
