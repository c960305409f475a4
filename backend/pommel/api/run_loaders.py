"""DataLoaders for runs, their steps and their workflows.

Runs change while a WebSocket connection (and its loaders) lives, so these batch the lookups of
one resolution level into one statement but never cache across them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from pommel.services import run_queries, workflows
from pommel.services.records import WorkflowRecord
from pommel.services.run_records import RunRecord, StepRecord

K = TypeVar("K")
V = TypeVar("V")


def _batch(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]], default: Callable[[], V] | None = None
) -> Callable[[Sequence[K]], Awaitable[list[V | None]]]:
    async def load(keys: Sequence[K]) -> list[V | None]:
        found = await fetch(list(dict.fromkeys(keys)))
        if default is None:
            return [found.get(key) for key in keys]
        return [found.get(key, default()) for key in keys]

    return load


async def _recent(keys: Sequence[tuple[int, int]]) -> list[list[RunRecord]]:
    """``(workflow pk, limit)`` -> its newest runs; one fetch per distinct limit."""
    found: dict[tuple[int, int], list[RunRecord]] = {}
    for limit in {limit for _, limit in keys}:
        pks = sorted({pk for pk, n in keys if n == limit})
        for pk, runs in (await run_queries.recent_runs_of_workflows(pks, limit)).items():
            found[(pk, limit)] = runs
    return [found.get(key, []) for key in keys]


class RunLoaders:
    def __init__(self) -> None:
        self.run: DataLoader[int, RunRecord | None] = DataLoader(
            _batch(run_queries.get_runs), cache=False
        )
        self.step_rows: DataLoader[int, list[StepRecord] | None] = DataLoader(
            _batch(run_queries.step_rows_of_runs, list), cache=False
        )
        self.children: DataLoader[int, list[RunRecord] | None] = DataLoader(
            _batch(run_queries.child_runs_of, list), cache=False
        )
        self.latest_of_workflow: DataLoader[int, RunRecord | None] = DataLoader(
            _batch(run_queries.latest_runs_of_workflows), cache=False
        )
        self.count_of_workflow: DataLoader[int, int | None] = DataLoader(
            _batch(run_queries.run_counts_of_workflows, int), cache=False
        )
        self.recent_of_workflow: DataLoader[tuple[int, int], list[RunRecord]] = DataLoader(
            _recent, cache=False
        )
        self.workflow: DataLoader[int, WorkflowRecord | None] = DataLoader(
            _batch(workflows.get_workflows)
        )
