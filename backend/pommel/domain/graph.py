"""Directed dependency graphs: cycle detection and topological order.

Used for task dependencies (a dependency that would close a cycle is refused) and for the
steps of a workflow (``needs``). Nodes are any hashable, comparable values; ties in the order
are broken by the node itself so the result is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

# Task primary keys and step names: hashable and totally ordered.
N = TypeVar("N", bound="SupportsRichComparison")


class CycleError(ValueError):
    """The graph has a cycle; ``cycle`` lists its nodes, first node repeated at the end."""

    def __init__(self, cycle: list[object]) -> None:
        super().__init__(" -> ".join(str(node) for node in cycle))
        self.cycle = cycle


def find_path(edges: Mapping[N, Iterable[N]], start: N, goal: N) -> list[N] | None:
    """A path ``start -> … -> goal`` following ``edges`` (node -> the nodes it depends on)."""
    parents: dict[N, N | None] = {start: None}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            path: list[N] = []
            cursor: N | None = node
            while cursor is not None:
                path.append(cursor)
                cursor = parents[cursor]
            return path[::-1]
        for nxt in edges.get(node, ()):
            if nxt not in parents:
                parents[nxt] = node
                stack.append(nxt)
    return None


def cycle_if_added(edges: Mapping[N, Iterable[N]], node: N, depends_on: N) -> list[N] | None:
    """The cycle that the edge ``node -> depends_on`` would close, or ``None``.

    Adding it closes a cycle exactly when ``node`` is already reachable from ``depends_on``.
    """
    if node == depends_on:
        return [node, node]
    path: list[N] | None = find_path(edges, depends_on, node)
    if path is None:
        return None
    return [node, *path]


def topological_order(nodes: Iterable[N], edges: Mapping[N, Iterable[N]]) -> list[N]:
    """Every node after all the nodes it depends on; raises ``CycleError`` on a cycle.

    ``edges`` maps a node to the nodes it depends on; edges to unknown nodes are ignored.
    """
    all_nodes = set(nodes)
    waiting: dict[N, int] = {}
    dependents: dict[N, list[N]] = {node: [] for node in all_nodes}
    for node in all_nodes:
        deps = {dep for dep in edges.get(node, ()) if dep in all_nodes}
        waiting[node] = len(deps)
        for dep in deps:
            dependents[dep].append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[N] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for dependent in dependents[node]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    if len(order) < len(all_nodes):
        stuck = {node for node, count in waiting.items() if count > 0}
        raise CycleError(_cycle_among(stuck, edges))
    return order


def _cycle_among(stuck: set[N], edges: Mapping[N, Iterable[N]]) -> list[object]:
    # Every stuck node depends on another stuck node, so walking dependencies must revisit one.
    node: N = min(stuck)
    seen: dict[N, int] = {}
    walk: list[N] = []
    while node not in seen:
        seen[node] = len(walk)
        walk.append(node)
        node = min(dep for dep in edges.get(node, ()) if dep in stuck)
    return [*walk[seen[node] :], node]


def transitive_dependents(edges: Mapping[N, Iterable[N]], roots: Iterable[N]) -> set[N]:
    """Every node that depends, directly or not, on one of ``roots`` (roots excluded)."""
    reverse: dict[N, list[N]] = {}
    for node, deps in edges.items():
        for dep in deps:
            reverse.setdefault(dep, []).append(node)
    found: set[N] = set()
    stack = list(roots)
    while stack:
        for dependent in reverse.get(stack.pop(), ()):
            if dependent not in found:
                found.add(dependent)
                stack.append(dependent)
    return found - set(roots)
