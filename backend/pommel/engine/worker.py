"""The worker: claims queued runs and executes them, at most ``worker_concurrency`` at a time.

It is woken the moment a run is queued in this process (``services.runs.watch``), by queued
runs and cancel requests of other processes through the event log on PostgreSQL, and by a slow
safety poll. At start-up, and on every poll, it resumes runs whose worker is gone
(``leases``). At shutdown it stops its steps and releases its runs, which the next start
resumes: a restart never cancels anybody's work.

Others learn about finished runs through ``on_run_finished`` (the project scheduler starts
dependent tasks from it) or the ``run.finished`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pommel.config import Settings
from pommel.domain.status import RunStatus
from pommel.engine import leases
from pommel.engine.cache import StepCache
from pommel.engine.composite import ChildRuns
from pommel.engine.executors import (
    EngineError,
    Executor,
    HttpCaller,
    build_executor,
    choose_executor,
)
from pommel.engine.journal import Journal
from pommel.engine.parts import EngineParts
from pommel.engine.runner import Runner
from pommel.engine.state import now
from pommel.events.broker import EventBroker
from pommel.events.model import EventType
from pommel.services import runs
from pommel.services.run_queries import get_run, get_runs, step_rows_of_runs
from pommel.services.run_records import RunRecord
from pommel.services.templates import TemplateRegistry
from pommel.storage.database import Database
from pommel.storage.tables import WorkflowRun

log = logging.getLogger(__name__)

#: A run whose worker died this many times is failed instead of resumed again.
MAX_RESUMES = 5


@dataclass(frozen=True)
class FinishedRun:
    """What ``on_run_finished`` callbacks receive, after the run's final transaction."""

    pk: int
    status: RunStatus
    task_pk: int
    workflow_pk: int
    project_pk: int
    project_run_pk: int | None
    error: str | None
    outputs: dict[str, Any]


RunFinishedCallback = Callable[[FinishedRun], Awaitable[None] | None]


class Worker:
    def __init__(
        self,
        *,
        db: Database,
        settings: Settings,
        templates: TemplateRegistry,
        broker: EventBroker | None = None,
        executor: Executor | None = None,
        lease_s: float = 30.0,
        poll_s: float = 5.0,
    ) -> None:
        """``lease_s``: how long a run whose worker stopped renewing waits before another worker
        resumes it; ``poll_s``: the safety poll for queued runs no wake-up announced."""
        self.db = db
        self.settings = settings
        self.templates = templates
        self.broker = broker
        self.concurrency = settings.worker_concurrency
        self.lease_s = lease_s
        self.poll_s = poll_s
        # Heartbeat, dead-worker scan and cross-process cancels: well within the lease.
        self.maintain_s = min(poll_s, lease_s / 3)
        self.owner = leases.new_identity()
        self.executor_reason = "given by the caller"
        self._executor = executor
        self._callbacks: list[RunFinishedCallback] = []
        self._active: dict[int, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._unwatch: Callable[[], None] | None = None
        self.parts: EngineParts | None = None

    # -- public API ---------------------------------------------------------------------

    def on_run_finished(self, callback: RunFinishedCallback) -> Callable[[], None]:
        """Call ``callback`` (sync or async) after each top-level run this worker executed
        (or that was cancelled while queued in this process) is finally recorded. Returns an
        unsubscribe."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def wake(self) -> None:
        """Look for queued runs now."""
        self._wake.set()

    @property
    def executor(self) -> Executor:
        assert self.parts is not None, "the worker is not started"
        return self.parts.executor

    @property
    def running(self) -> list[int]:
        """The top-level runs executing now."""
        return sorted(self._active)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        executor = self._executor
        if executor is None:
            name, self.executor_reason = choose_executor(self.settings.executor, environ=os.environ)
            executor = build_executor(name, work_dir=self.settings.work_dir)
        log.info(
            "run executor: %s (%s); %s", executor.name, self.executor_reason, executor.description
        )
        journal = Journal(self.db, self.owner)
        journal.start()
        self.parts = EngineParts(
            db=self.db,
            owner=self.owner,
            journal=journal,
            executor=executor,
            http=HttpCaller(),
            cache=StepCache(),
            secrets=dict(self.settings.secrets),
            children=ChildRuns(self.db, self.templates, self.owner),
            take_over=lambda run: leases.take_over(self.db, run, self.owner),
        )
        self._wake = asyncio.Event()
        self._wake.set()  # resume orphans and start what is queued right away
        self._unwatch = runs.watch(self.db, self._signal)
        self._tasks.append(asyncio.create_task(self._start_executor(executor)))
        self._tasks.append(asyncio.create_task(self._loop(), name="run-worker"))
        if self.broker is not None and self.db.is_postgres:
            self._tasks.append(asyncio.create_task(self._listen(), name="run-worker-events"))

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop executing: steps are stopped, runs are released for the next start."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        parts = self.parts
        if parts is None:
            return
        for runner in list(parts.runners.values()):
            runner.stop("shutdown")
        if self._active:
            _, late = await asyncio.wait(list(self._active.values()), timeout=grace)
            for task in late:  # steps that would not stop: cancelled outright
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await parts.journal.stop()
        try:
            await leases.release(self.db, self.owner)
        except Exception:
            log.exception("run worker: releasing its runs failed; they resume after the lease")
        with contextlib.suppress(Exception):
            await parts.executor.close()
        await parts.http.close()
        self.parts = None

    async def _start_executor(self, executor: Executor) -> None:
        try:
            await executor.start()
        except EngineError as exc:
            log.error("run executor %s is not available: %s", executor.name, exc)

    # -- finding work -------------------------------------------------------------------

    def _signal(self, signal: runs.RunSignal, pk: int) -> None:
        if signal == "queued":
            self._wake.set()
        elif signal == "cancel_requested":
            self._cancel(pk)
        elif signal == "finished":
            task = asyncio.create_task(self._announce_cancelled(pk))
            self._tasks.append(task)
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    def _cancel(self, pk: int) -> None:
        runner = self.parts.runners.get(pk) if self.parts is not None else None
        if runner is not None:
            runner.stop("cancel")

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        maintained = -self.maintain_s
        while True:
            woken = True
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
            except TimeoutError:
                woken = False
            self._wake.clear()
            try:
                # The slow path (dead workers, other processes' cancels, heartbeat) keeps its
                # period even while wake-ups keep the worker busy.
                if loop.time() - maintained >= self.maintain_s:
                    maintained = loop.time()
                    await self._maintain()
                # Woken: claim at once. The safety poll (runs queued by another process
                # without a wake-up reaching us) reads before it takes the write lock.
                if woken or await leases.queued_waiting():
                    await self._fill()
            except Exception:
                log.exception("run worker: looking for work failed; trying again")
                await asyncio.sleep(self.poll_s)

    async def _maintain(self) -> None:
        if self.parts is not None and self.parts.runners:
            for pk in await leases.cancel_requests(self.owner):
                self._cancel(pk)
            await leases.renew(self.db, self.owner, now=now())
        free = self.concurrency - len(self._active)
        if free <= 0:
            return
        found = await leases.orphans(self.owner, lease_s=self.lease_s, now=now(), limit=free)
        for run in found:
            if run.status is RunStatus.QUEUED:
                await leases.requeue(self.db, run)  # claimed, never started
                self._wake.set()
            else:
                await self._resume(run)

    async def _resume(self, run: RunRecord) -> None:
        if run.resumed >= MAX_RESUMES:
            log.error("run %s: its worker stopped %d times; failing it", run.pk, run.resumed)
            await _give_up(self.db, run)
            return
        taken = await leases.take_over(self.db, run, self.owner)
        if taken is None:
            return
        log.info("run worker: resuming run %s (resumed %d time(s))", run.pk, taken.resumed)
        steps = (await step_rows_of_runs([run.pk]))[run.pk]
        self._spawn(taken, steps)

    async def _fill(self) -> None:
        """Claim queued runs for the free slots and start them."""
        free = self.concurrency - len(self._active)
        if free <= 0:
            return
        claimed = await leases.claim_queued(self.db, self.owner, limit=free, skip=set(self._active))
        if not claimed:
            return
        found = await get_runs(claimed)
        chosen = [found[pk] for pk in claimed if pk in found]
        # A retry starts with the step outcomes it keeps; a fresh run has no step rows.
        kept = await step_rows_of_runs([r.pk for r in chosen if r.retry_of_pk is not None])
        for run in chosen:
            self._spawn(run, kept.get(run.pk, []))

    def _spawn(self, run: RunRecord, steps: list[Any]) -> None:
        assert self.parts is not None
        runner = Runner(self.parts, run, steps)
        self._active[run.pk] = asyncio.create_task(self._execute(runner), name=f"run {run.pk}")

    async def _execute(self, runner: Runner) -> None:
        pk = runner.state.pk
        try:
            state = await runner.execute()
        except Exception:
            log.exception("run %s: the runner failed; releasing it to be resumed", pk)
            try:
                await _release_one(self.db, pk, self.owner)
            except Exception:
                log.exception("run %s: releasing it failed; it resumes at the next start", pk)
            return
        finally:
            self._active.pop(pk, None)
            self._wake.set()
        if runner.recorded:
            await self._announce(
                FinishedRun(
                    pk=pk,
                    status=state.status,
                    task_pk=state.task_pk,
                    workflow_pk=state.workflow_pk,
                    project_pk=state.project_pk,
                    project_run_pk=state.project_run_pk,
                    error=state.error,
                    outputs=state.outputs,
                )
            )

    async def _announce_cancelled(self, pk: int) -> None:
        run = await get_run(pk)
        if run.parent_run_pk is None:
            await self._announce(
                FinishedRun(
                    pk=run.pk,
                    status=run.status,
                    task_pk=run.task_pk,
                    workflow_pk=run.workflow_pk,
                    project_pk=run.project_pk,
                    project_run_pk=run.project_run_pk,
                    error=run.error,
                    outputs=run.outputs,
                )
            )

    async def _announce(self, finished: FinishedRun) -> None:
        for callback in list(self._callbacks):
            try:
                result = callback(finished)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("run worker: an on_run_finished callback failed")

    async def _listen(self) -> None:
        """On PostgreSQL: queued runs and cancel requests of other processes."""
        assert self.broker is not None
        types = [EventType.RUN_QUEUED.value, EventType.RUN_CANCEL_REQUESTED.value]
        while True:
            try:
                async for event in self.broker.subscribe(types=types):
                    if event.type == EventType.RUN_QUEUED.value:
                        self._wake.set()
                    elif event.run_id is not None:
                        self._cancel(event.run_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("run worker: event subscription ended (%s); subscribing again", exc)
            await asyncio.sleep(self.poll_s)


async def _release_one(db: Database, pk: int, owner: str) -> None:
    """Give up a run whose runner failed, so the dead-worker scan resumes it; retried, since
    the failure may well have been the database's."""
    for attempt in range(5):
        try:
            async with db.write():
                await WorkflowRun.update({WorkflowRun.claimed_by: None}).where(
                    (WorkflowRun.id == pk) & (WorkflowRun.claimed_by == owner)
                )
            return
        except Exception:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5 * 2**attempt)


async def _give_up(db: Database, run: RunRecord) -> None:
    """Fail a run that keeps killing its workers, instead of resuming it forever."""
    from pommel.engine.journal import TaskIntent, _follow_runs
    from pommel.events import log as event_log

    error = f"gave up after its worker stopped {run.resumed} times while executing it"
    async with db.write():
        updated = (
            await WorkflowRun.update(
                {
                    WorkflowRun.status: RunStatus.FAILED.value,
                    WorkflowRun.error: error,
                    WorkflowRun.finished_at: now(),
                    WorkflowRun.claimed_by: None,
                }
            )
            .where(WorkflowRun.id == run.pk)
            .where(WorkflowRun.status == RunStatus.RUNNING.value)
            .returning(WorkflowRun.id)
        )
        if not updated:
            return
        events = [
            runs.run_event(
                EventType.RUN_FINISHED,
                runs.RunIds.of(run),
                status=RunStatus.FAILED.value,
                message=f"run run-{run.pk} failed: {error}",
                error=error,
                durationMs=None,
                outputs={},
            )
        ]
        reason = f"run-{run.pk} failed: {error}"
        events += await _follow_runs([TaskIntent(run.task_pk, RunStatus.FAILED, reason)])
        await event_log.append(db, events)
