"""Placement by index (NodeIndex.admitted) is exactly placement by its definition
(scheduling.admitted: every node tested against nodeName, nodeSelector and required node
affinity), node for node and in the same order, on many generated pods and nodes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gitops_gen.render.scheduling import NodeIndex, admitted
from gitops_gen.specs.model import Node
from gitops_gen.specs.source import SourceDoc

KEYS = ["zone", "gpu", "tier", "kubernetes.io/hostname", "size"]
VALUES = ["a", "b", "c", "1", "7", "12"]
DOC = SourceDoc("hardware/n.yaml", {}, {})
OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Bogus"]


def _nodes(rng: random.Random) -> list[Node]:
    nodes = []
    for i in range(rng.randint(0, 12)):
        labels = {k: rng.choice(VALUES) for k in rng.sample(KEYS[:3] + KEYS[4:], rng.randint(0, 4))}
        if rng.random() < 0.4:  # a hostname that differs from the node's name
            labels["kubernetes.io/hostname"] = rng.choice([f"host-{i}", f"n{rng.randint(0, 12)}"])
        nodes.append(Node(DOC, name=f"n{i}", cluster="c", labels=labels))
    return nodes


def _expression(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return "not a mapping"
    expression: dict[str, Any] = {"key": rng.choice(KEYS), "operator": rng.choice(OPERATORS)}
    if rng.random() < 0.8:
        expression["values"] = rng.sample(VALUES, rng.randint(0, 3))
    return expression


def _pod(rng: random.Random) -> dict[str, Any]:
    pod: dict[str, Any] = {}
    if rng.random() < 0.3:
        pod["nodeName"] = rng.choice(["n0", "n3", "host-2", "nowhere", 5])
    if rng.random() < 0.6:
        selector: Any = {
            k: rng.choice([*VALUES, 1, None]) for k in rng.sample(KEYS, rng.randint(0, 3))
        }
        if rng.random() < 0.05:
            selector = {"zone": ["a"]}  # unhashable: matches no label
        if rng.random() < 0.03:
            selector = ["zone"]  # not a mapping: no constraint (the schema rule reports it)
        pod["nodeSelector"] = selector
    if rng.random() < 0.5:
        terms = []
        for _ in range(rng.randint(0, 3)):
            term: dict[str, Any] = {}
            if rng.random() < 0.9:
                term["matchExpressions"] = [_expression(rng) for _ in range(rng.randint(0, 3))]
            if rng.random() < 0.3:
                term["matchFields"] = [
                    {"key": "metadata.name", "operator": "In", "values": [f"n{rng.randint(0, 9)}"]}
                ]
            terms.append(term)
        pod["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        }
    return pod


@pytest.mark.parametrize("seed", range(40))
def test_the_index_admits_what_the_definition_admits(seed: int) -> None:
    rng = random.Random(seed)
    nodes = _nodes(rng)
    index = NodeIndex(nodes)
    for _ in range(200):
        pod = _pod(rng)
        assert index.admitted(pod) == admitted(pod, nodes), pod


def test_the_generator_reaches_every_case() -> None:
    # The comparison above means something only if pods land on some, none and all nodes.
    rng = random.Random(1)
    sizes = set()
    for _ in range(300):
        nodes = _nodes(rng)
        pod = _pod(rng)
        found = admitted(pod, nodes)
        sizes.add("none" if not found else "all" if len(found) == len(nodes) else "some")
    assert sizes == {"none", "some", "all"}


NODE = Node(DOC, name="n1", cluster="c", labels={"zone": "a", "size": "12"})
LABELS = {"zone": "a", "size": "12", "kubernetes.io/hostname": "n1"}
MANY = [f"host-{i}" for i in range(500)]


@pytest.mark.parametrize(
    ("expression", "matches"),
    [
        ({"key": "zone", "operator": "In", "values": ["b", "a"]}, True),
        ({"key": "zone", "operator": "In", "values": ["b"]}, False),
        ({"key": "missing", "operator": "In", "values": ["a"]}, False),
        ({"key": "kubernetes.io/hostname", "operator": "In", "values": [*MANY, "n1"]}, True),
        ({"key": "kubernetes.io/hostname", "operator": "In", "values": MANY}, False),
        ({"key": "zone", "operator": "NotIn", "values": ["b"]}, True),
        ({"key": "zone", "operator": "NotIn", "values": ["a"]}, False),
        ({"key": "missing", "operator": "NotIn", "values": ["a"]}, True),  # absent: not in
        ({"key": "zone", "operator": "Exists"}, True),
        ({"key": "missing", "operator": "Exists"}, False),
        ({"key": "missing", "operator": "DoesNotExist"}, True),
        ({"key": "zone", "operator": "DoesNotExist"}, False),
        ({"key": "size", "operator": "Gt", "values": ["7"]}, True),
        ({"key": "size", "operator": "Gt", "values": ["12"]}, False),
        ({"key": "size", "operator": "Lt", "values": ["13"]}, True),
        ({"key": "zone", "operator": "Gt", "values": ["1"]}, False),  # not a number
        ({"key": "size", "operator": "Gt", "values": ["x"]}, False),
        ({"key": "missing", "operator": "Lt", "values": ["9"]}, False),
        ({"key": "zone", "operator": "Bogus", "values": ["a"]}, False),
        ({"key": "zone", "operator": "In", "values": [1]}, False),  # "1" != "a"
        ("not a mapping", False),
    ],
)
def test_each_operator_means_what_kubernetes_says(expression: Any, matches: bool) -> None:
    """The compiled affinity against the scheduler's meaning of each operator (the index
    test above only compares two users of it)."""
    from gitops_gen.render.scheduling import compile_terms

    term = {"matchExpressions": [expression]}
    assert compile_terms([term])(LABELS, NODE) is matches
    # a term holds only if every expression does; the terms are alternatives
    always = {"key": "zone", "operator": "Exists"}
    assert compile_terms([{"matchExpressions": [expression, always]}])(LABELS, NODE) is matches
    never = {"matchExpressions": [{"key": "missing", "operator": "Exists"}]}
    assert compile_terms([never, term])(LABELS, NODE) is matches


def test_fields_and_empty_terms() -> None:
    from gitops_gen.render.scheduling import compile_terms

    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    assert compile_terms([by_name])(LABELS, NODE) is True
    # matchFields look at the node's fields only, never at its labels
    by_label = {"matchFields": [{"key": "zone", "operator": "In", "values": ["a"]}]}
    assert compile_terms([by_label])(LABELS, NODE) is False
    assert compile_terms([{}])(LABELS, NODE) is False  # an empty term matches nothing
    assert compile_terms([])(LABELS, NODE) is False
