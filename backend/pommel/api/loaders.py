"""DataLoaders: batch the lookups of nested fields into one query per kind and level.

A fresh ``Loaders`` is made per HTTP request; on a WebSocket it lives for the connection, so
subscription resolvers must not rely on it for data that changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from pommel.api.run_loaders import RunLoaders
from pommel.services import phases, projects, tasks
from pommel.services.records import PhaseRecord, ProjectRecord, TaskRecord

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


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
        self.runs = RunLoaders()


def now_or_later(loader: DataLoader[K, V], key: K, convert: Callable[[V], T]) -> Any:
    """``convert(value)`` at once when ``loader`` already holds ``key``, else an awaitable of it.

    A resolver returning this is synchronous whenever the value was prefetched, which spares
    graphql-core a coroutine, a future and a gather per object of a list.
    """
    future = loader.cache_map.get(key) if loader.cache else None
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return convert(future.result())

    async def later() -> T:
        return convert(await loader.load(key))

    return later()


def _selected_names(selections: Sequence[Any], path: Sequence[str]) -> set[str]:
    """Names of the fields selected at ``path`` below ``selections`` (fragments included)."""
    found: set[str] = set()
    for selection in selections:
        name = getattr(selection, "name", None)
        if name is None:  # a fragment: its selections are at this same level
            found |= _selected_names(selection.selections, path)
        elif not path:
            found.add(name)
        elif name == path[0]:
            found |= _selected_names(selection.selections, path[1:])
    return found


def selected_node_fields(info: Any) -> set[str]:
    """The fields asked of the nodes of the connection ``info`` resolves (edges or nodes)."""
    fields = [selection for field in info.selected_fields for selection in field.selections]
    return _selected_names(fields, ("edges", "node")) | _selected_names(fields, ("nodes",))


async def prefetch_task_fields(info: Any, records: Sequence[TaskRecord]) -> None:
    """Batch-load what a page's tasks were asked for, before they resolve (one query per kind)."""
    loaders: Loaders = info.context.loaders
    loaders.task.prime_many({record.pk: record for record in records})
    wanted = selected_node_fields(info)
    loads: list[Awaitable[Any]] = []
    if "phase" in wanted:
        phase_pks = {r.phase_pk for r in records if r.phase_pk is not None}
        loads.append(loaders.phase.load_many(sorted(phase_pks)))
    if "dependencies" in wanted:
        loads.append(loaders.dependencies.load_many([r.pk for r in records]))
    if "dependents" in wanted:
        loads.append(loaders.dependents.load_many([r.pk for r in records]))
    if loads:
        await asyncio.gather(*loads)
