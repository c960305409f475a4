"""The journal: every state change of executing runs, written with group commit.

Runners describe what changed as a :class:`Change` (the run's row, step rows, log lines,
events, a task status to follow) and ``submit`` it. One writer task applies all changes waiting
at that moment in a single transaction, with one multi-row statement per table, so the number
of transactions and statements does not grow with the number of runs executing: a lone change
is written at once, and changes that arrive while a commit is in progress share the next one.

Changes are applied in the order submitted, and each one's events are appended in the same
transaction as the rows they describe. Before writing, the journal checks that the worker still
holds each run's lease; changes for a run it lost (taken over, or deleted) fail with
:class:`LeaseLost` and write nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from piccolo.table import Table

from pommel.domain.status import RunStatus, task_status_for_run
from pommel.engine.state import now
from pommel.events import log as event_log
from pommel.events.model import NewEvent
from pommel.services.records import TaskRecord
from pommel.services.tasks import _status_event, get_tasks
from pommel.storage.database import Database
from pommel.storage.tables import LogLine, StepRun, Task, WorkflowRun

log = logging.getLogger(__name__)

#: Changes applied in one transaction at most.
MAX_BATCH = 500
#: Bound on the parameters of one statement (SQLite and asyncpg both stop at 32766/32767).
_MAX_PARAMETERS = 30_000
_RUN_UPDATED = (
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "outputs",
    "error",
    "executor",
    "executor_note",
    "heartbeat_at",
)
_STEP_UPDATED = (
    "position",
    "kind",
    "status",
    "exit_code",
    "stdout",
    "stderr",
    "outputs",
    "attempts",
    "cached",
    "cache_key",
    "error",
    "child_run",
    "reused_from",
    "started_at",
    "finished_at",
)


class LeaseLost(Exception):
    """The run is no longer this worker's: another took it over, or it was deleted."""

    def __init__(self, run_pk: int) -> None:
        super().__init__(f"run {run_pk} is no longer executed by this worker")
        self.run_pk = run_pk


@dataclass(frozen=True)
class TaskIntent:
    """Move the run's task as its run reached ``status`` (``services.tasks.apply_run_status``)."""

    task_pk: int
    status: RunStatus
    reason: str | None = None


@dataclass
class Change:
    """What changed in one run (the run must be claimed by this journal's worker)."""

    run_pk: int
    run: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    task: TaskIntent | None = None


@dataclass
class _Pending:
    change: Change
    future: asyncio.Future[None]


class Journal:
    """Applies submitted changes in order, as few transactions as the load allows."""

    def __init__(self, db: Database, owner: str, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.owner = owner
        self.max_batch = max_batch
        self.transactions = 0
        self.changes = 0
        self._queue: list[_Pending] = []
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task = asyncio.create_task(self._run(), name="run-journal")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Write what is queued (for at most ``grace`` seconds), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        for pending in self._queue:
            if not pending.future.done():
                pending.future.set_exception(RuntimeError("the run journal stopped"))
        self._queue.clear()

    def submit(self, change: Change) -> asyncio.Future[None]:
        """Queue ``change``; the future completes once it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._task is None:
            future.set_exception(RuntimeError("the run journal is not running"))
            return future
        self._queue.append(_Pending(change, future))
        self._idle.clear()
        self._ready.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
                await self._flush(batch)
            self._idle.set()

    async def _flush(self, batch: list[_Pending]) -> None:
        try:
            lost = await self._apply([p.change for p in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch, set(), exc)
                run_pk = batch[0].change.run_pk
                log.exception("run journal: writing a change of run %s failed", run_pk)
                return
            # One bad change must not sink the others: write each on its own.
            for pending in batch:
                await self._flush([pending])
            return
        _settle(batch, lost, None)

    async def _apply(self, changes: Sequence[Change]) -> set[int]:
        """Write ``changes`` in one transaction; returns the runs whose lease was lost."""
        async with self.db.write():
            owned = await self._owned({c.run_pk for c in changes})
            kept = [c for c in changes if c.run_pk in owned]
            runs: dict[int, dict[str, Any]] = {}
            steps: dict[tuple[int, str], dict[str, Any]] = {}
            logs: list[dict[str, Any]] = []
            events: list[NewEvent] = []
            intents: list[TaskIntent] = []
            for change in kept:
                if change.run is not None:
                    runs[change.run_pk] = change.run  # a later snapshot replaces an earlier one
                for step in change.steps:
                    steps[(step["run"], step["name"])] = step
                logs.extend(change.logs)
                events.extend(change.events)
                if change.task is not None:
                    intents.append(change.task)
            await _insert(WorkflowRun, list(runs.values()), conflict=("id",), updated=_RUN_UPDATED)
            await _insert(
                StepRun, list(steps.values()), conflict=("run", "name"), updated=_STEP_UPDATED
            )
            await _insert(LogLine, logs)
            events.extend(await _follow_runs(intents))
            await event_log.append(self.db, events)
        self.transactions += 1
        self.changes += len(kept)
        return {c.run_pk for c in changes} - owned

    async def _owned(self, pks: set[int]) -> set[int]:
        if not pks:
            return set()
        rows = (
            await WorkflowRun.select(WorkflowRun.id)
            .where(WorkflowRun.id.is_in(sorted(pks)))
            .where(WorkflowRun.claimed_by == self.owner)
        )
        return {row["id"] for row in rows}


def _settle(batch: list[_Pending], lost: set[int], error: BaseException | None) -> None:
    for pending in batch:
        if pending.future.done():
            continue
        if error is not None:
            pending.future.set_exception(error)
        elif pending.change.run_pk in lost:
            pending.future.set_exception(LeaseLost(pending.change.run_pk))
        else:
            pending.future.set_result(None)


def _chunks(rows: list[dict[str, Any]], width: int) -> Iterable[list[dict[str, Any]]]:
    size = max(1, _MAX_PARAMETERS // max(width, 1))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert(
    table: type[Table],
    rows: list[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    updated: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (all with the same keys) in multi-row statements; with ``conflict``,
    rows that exist are updated instead (``ON CONFLICT … DO UPDATE SET`` the ``updated``
    columns, which PostgreSQL and SQLite 3.24+ both support).

    The SQL is written here rather than built from Table instances: for the hundreds of rows
    a busy batch holds, Piccolo's per-row query building cost four times as much CPU.
    """
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    tail = ""
    if conflict:
        targets = ", ".join(f'"{c}"' for c in conflict)
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updated)
        tail = f" ON CONFLICT ({targets}) DO UPDATE SET {sets}"
    for chunk in _chunks(rows, len(columns)):
        values = ", ".join(one for _ in chunk)
        sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {values}{tail}'
        await table.raw(sql, *(row[c] for row in chunk for c in columns))


async def _follow_runs(intents: list[TaskIntent]) -> list[NewEvent]:
    """Move tasks as their runs changed, like ``apply_run_status`` but batched: one read for
    all tasks, one update per resulting status, an event for every transition."""
    if not intents:
        return []
    tasks = await get_tasks(sorted({i.task_pk for i in intents}))
    current: dict[int, TaskRecord] = dict(tasks)
    events: list[NewEvent] = []
    changed: set[int] = set()
    for intent in intents:
        task = current.get(intent.task_pk)
        if task is None:  # deleted meanwhile
            continue
        target = task_status_for_run(intent.status, task.status)
        if target is task.status and intent.reason == task.status_reason:
            continue
        moved = dataclasses.replace(task, status=target, status_reason=intent.reason)
        if moved.status is not task.status:
            events.append(_status_event(task, moved))
        current[intent.task_pk] = moved
        changed.add(intent.task_pk)
    groups: dict[tuple[str, str | None], list[int]] = {}
    for pk in sorted(changed):
        task = current[pk]
        groups.setdefault((task.status.value, task.status_reason), []).append(pk)
    stamp = now()
    for (status, reason), pks in groups.items():
        await Task.update(
            {Task.status: status, Task.status_reason: reason, Task.updated_at: stamp}
        ).where(Task.id.is_in(pks))
    return events
