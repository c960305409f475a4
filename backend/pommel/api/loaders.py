"""DataLoaders: batch the lookups of nested fields into one query per kind and level.

A fresh ``Loaders`` is made per HTTP request; on a WebSocket it lives for the connection, so
subscription resolvers must not rely on it for data that changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from pommel.services import phases, projects, tasks
from pommel.services.records import PhaseRecord, ProjectRecord, TaskRecord

K = TypeVar("K")
V = TypeVar("V")


def _by_key(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]], default: Callable[[], V] | None = None
) -> Callable[[Sequence[K]], Awaitable[list[V | None]]]:
    async def load(keys: Sequence[K]) -> list[V | None]:
        found = await fetch(list(keys))
        if default is None:
            return [found.get(key) for key in keys]
        return [found.get(key, default()) for key in keys]

    return load


class Loaders:
    """One DataLoader per lookup a resolver may batch."""

    def __init__(self) -> None:
        self.project: DataLoader[int, ProjectRecord | None] = DataLoader(
            _by_key(projects.get_projects)
        )
        self.phase: DataLoader[int, PhaseRecord | None] = DataLoader(_by_key(phases.get_phases))
        self.task: DataLoader[int, TaskRecord | None] = DataLoader(_by_key(tasks.get_tasks))
        self.phases_of_project: DataLoader[int, list[PhaseRecord]] = DataLoader(
            _by_key(phases.phases_of_projects, list)
        )
        self.dependencies: DataLoader[int, list[TaskRecord]] = DataLoader(
            _by_key(tasks.dependencies_of, list)
        )
        self.dependents: DataLoader[int, list[TaskRecord]] = DataLoader(
            _by_key(tasks.dependents_of, list)
        )
