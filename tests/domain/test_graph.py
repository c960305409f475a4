from __future__ import annotations

import random

import pytest

from pommel.domain.graph import (
    CycleError,
    cycle_if_added,
    topological_order,
    transitive_dependents,
)


def test_topological_order_is_deterministic_and_valid() -> None:
    edges = {4: [2, 3], 2: [1], 3: [1]}
    assert topological_order([1, 2, 3, 4], edges) == [1, 2, 3, 4]


def test_topological_order_names_a_cycle() -> None:
    with pytest.raises(CycleError) as caught:
        topological_order(["a", "b", "c", "d"], {"a": ["c"], "b": ["a"], "c": ["b"], "d": ["a"]})
    cycle = caught.value.cycle
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"}


def test_cycle_if_added() -> None:
    edges = {2: [1], 3: [2]}
    assert cycle_if_added(edges, 1, 3) == [1, 3, 2, 1]
    assert cycle_if_added(edges, 3, 1) is None
    assert cycle_if_added(edges, 5, 5) == [5, 5]


def test_transitive_dependents() -> None:
    edges = {2: [1], 3: [2], 4: [1], 5: []}
    assert transitive_dependents(edges, [1]) == {2, 3, 4}
    assert transitive_dependents(edges, [3]) == set()


def test_random_dags_sort_validly() -> None:
    rng = random.Random(7)
    for _ in range(50):
        nodes = list(range(40))
        edges = {n: rng.sample(range(n), k=min(n, rng.randint(0, 3))) for n in nodes}
        order = topological_order(nodes, edges)
        position = {n: i for i, n in enumerate(order)}
        assert sorted(order) == nodes
        assert all(position[d] < position[n] for n, deps in edges.items() for d in deps)
