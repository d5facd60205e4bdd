"""The emitter: whatever the data, two independent YAML parsers read back exactly it."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from ruamel.yaml import YAML

from gitops_gen.render.emitter import RenderedYAMLError, dump_yaml, load_rendered
from gitops_gen.specs.source import load_yaml

TRICKY = [
    "",
    " ",
    "true",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "null",
    "~",
    "NULL",
    "0",
    "8",
    "-1",
    "1e3",
    "1_000",
    "0x1F",
    "0o17",
    "1:20",
    ".inf",
    "-.inf",
    ".nan",
    "2026-06-12",
    "3.14",
    "a: b",
    "a #b",
    "#c",
    "- x",
    "? x",
    "[x]",
    "{x}",
    "*a",
    "&a",
    "!tag",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "'x'",
    '"x"',
    "x:",
    ":x",
    "x\n",
    "x\n\n",
    "\nx",
    "  x\ny",
    "x \ny",
    "a\tb",
    "a\rb",
    "a\u2028b",
    "a\u0085b",
    "caf\u00e9",
    "\u00a0",
    "x\\y",
    "<<",
    "=",
    "0.0.0.0:8080",
    "nvidia.com/gpu",
    "16Mi",
    "500m",
    "1e3x",
    "2001-12-14t21:59:43.10-05:00",
    "12e+3",
    "0b101",
    "1_000_000",
    "-c",
    "--ctx-size",
    "-",
    "--",
    "---",
    "-.inf",
    "-1x",
    "-x: y",
    "190:20:30",
    "6.8523015e+5",
    "2002-12-14",
    "ghcr.io/a/b:tag@sha256:" + "a" * 64,
    "https://x.example/y?z=1",
    'set -eu\n  echo "$X"\ndone\n',
    "line\n   \nline",
    "{{ 7*7 }}",
    "x\n---\ny",
]


def _random_scalar(rng: random.Random) -> Any:
    choice = rng.randrange(7)
    if choice == 0:
        return rng.choice(TRICKY)
    if choice == 1:
        alphabet = "ab:#- \n\t'\"{}[],&*!|>%@`\\~.0123456789\u2028\u00e9yn"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if choice == 2:
        return rng.randrange(-(10**12), 10**12)
    if choice == 3:
        return rng.choice([0.5, 0.92, 1e-05, 1e20, -2.5, 3.0, float("inf")])
    if choice == 4:
        return rng.choice([True, False, None])
    return rng.choice(TRICKY) + rng.choice(TRICKY)


def _random(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(5) if depth < 4 else 4
    if kind == 0:
        return {str(_random_scalar(rng)): _random(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 1:
        return [_random(rng, depth + 1) for _ in range(rng.randrange(4))]
    return _random_scalar(rng)


def _ruamel_load(text: str) -> Any:
    yaml = YAML(typ="safe", pure=True)
    return yaml.load(io.StringIO(text))


@pytest.mark.parametrize("seed", range(40))
def test_random_documents_round_trip_through_two_parsers(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        data = {"root": _random(rng)}
        text = dump_yaml(data)
        assert text.isascii()
        assert load_yaml(text) == data, text
        assert _ruamel_load(text) == data, text
        assert load_rendered(text) == data, text


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_strings_stay_strings(value: str) -> None:
    text = dump_yaml({"k": value, value: "v"})
    assert load_yaml(text) == {"k": value, value: "v"}
    assert _ruamel_load(text) == {"k": value, value: "v"}


def test_reserved_words_and_numbers_are_quoted_not_plain() -> None:
    text = dump_yaml(["true", "on", "y", "8", "1e3", "0.0.0.0", "null"])
    assert text == '- "true"\n- "on"\n- "y"\n- "8"\n- "1e3"\n- "0.0.0.0"\n- "null"\n'


def test_quantities_stay_plain_and_readable() -> None:
    assert dump_yaml({"cpu": "500m", "memory": "16Mi", "count": "8"}) == (
        'cpu: 500m\nmemory: 16Mi\ncount: "8"\n'
    )


def test_multiline_text_is_a_literal_block_for_review() -> None:
    assert dump_yaml({"script": "set -eu\necho ok\n"}) == "script: |\n  set -eu\n  echo ok\n"
    assert dump_yaml({"sums": "a  x\nb  y"}) == "sums: |-\n  a  x\n  b  y\n"


def test_non_data_is_refused() -> None:
    with pytest.raises(TypeError):
        dump_yaml({"x": object()})
    with pytest.raises(TypeError):
        dump_yaml({1: "x"})


def test_rendered_tree_reads_the_same_with_the_fast_loader() -> None:
    from tests.conftest import ROOT

    files = sorted(ROOT.glob("**/rendered/**/*.yaml"))
    assert len(files) > 80
    for path in files:
        text = path.read_text()
        assert load_rendered(text) == load_yaml(text), path


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: 1\n---\nb: 2\n", "? [1]\n: x\n"],
)
def test_fast_loader_refuses_what_no_template_should_emit(text: str) -> None:
    with pytest.raises(RenderedYAMLError):
        load_rendered(text)
