"""Project execution: run every task's workflow in dependency order, at most ``max_parallel``
at once, each task as soon as its dependencies are completed.

The decisions are ``domain.project_schedule``'s; this module persists them (the project run,
blocked tasks, events), queues runs, and listens for finished runs through the worker's
``on_run_finished`` hook. A slow reconciliation pass also reads finished runs from the
database, so runs executed by another process's worker, or finished while this process was
down, still advance their project run. Project runs left ``running`` are resumed at start-up.

Bookkeeping is batched, so that it costs little beside the runs themselves (see
``bench/engine.py``): an outcome is noted in the schedule the moment it is reported, and each
pass of ``_advance`` queues everything that became ready meanwhile in one transaction (a group
commit: runs finishing while a pass writes share the next one). A pass writes nothing else
unless something changed: blocked tasks and the project run's summary only on failures, and a
finished run's dependents are only unblocked after a read found some blocked by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pommel.domain.project_schedule import ProjectSchedule
from pommel.domain.status import RunStatus, TaskStatus
from pommel.engine.worker import FinishedRun, Worker
from pommel.errors import InvalidTransition, PommelError
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services import runs, tasks, workflows
from pommel.services.project_runs import (
    ProjectRunRecord,
    check_max_parallel,
    get_project_run,
    summary_json,
    task_nodes,
)
from pommel.services.projects import get_project
from pommel.services.templates import TemplateRegistry
from pommel.storage.database import Database
from pommel.storage.tables import ProjectRun, Task, Workflow, WorkflowRun

log = logging.getLogger(__name__)


@dataclass
class _Active:
    """A project run this process is steering."""

    pk: int
    project_pk: int
    max_parallel: int
    skip_cache: bool
    schedule: ProjectSchedule
    run_tasks: dict[int, int] = field(default_factory=dict)  # workflow run pk -> task pk
    cancelling: bool = False
    finished: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Tasks blocked in the schedule whose status is not written yet (the next pass writes them).
    unwritten_blocks: dict[int, str] = field(default_factory=dict)
    # The sizes of the summary's parts (skipped, blocked, failed: they only ever grow) as last
    # written, so a pass only serialises and writes the summary when it changed.
    written_sizes: tuple[int, int, int] = (-1, -1, -1)


class ProjectScheduler:
    """Starts, advances, cancels and resumes project runs."""

    def __init__(
        self,
        *,
        db: Database,
        templates: TemplateRegistry,
        worker: Worker,
        reconcile_s: float = 2.0,
    ) -> None:
        self.db = db
        self.templates = templates
        self.worker = worker
        self.reconcile_s = reconcile_s
        self._active: dict[int, _Active] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._loop_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._unsubscribe.append(self.worker.on_run_finished(self._on_run_finished))
        for row in await ProjectRun.select(ProjectRun.id).where(
            ProjectRun.status == RunStatus.RUNNING.value
        ):
            with contextlib.suppress(PommelError):
                await self._resume(row["id"])
        self._loop_task = asyncio.create_task(self._reconcile_loop(), name="project-reconcile")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        self._active.clear()

    # -- commands -----------------------------------------------------------------------

    async def launch(
        self, *, project_pk: int, max_parallel: int = 4, skip_cache: bool = False
    ) -> ProjectRunRecord:
        """Start executing a project; returns the persisted project run."""
        check_max_parallel(max_parallel)
        project = await get_project(project_pk)
        nodes = await task_nodes(project_pk)
        schedule = ProjectSchedule.start(nodes)
        now = datetime.now(UTC)
        async with self.db.write():
            rows = await ProjectRun.insert(
                ProjectRun(
                    project=project_pk,
                    status=RunStatus.RUNNING.value,
                    max_parallel=max_parallel,
                    skip_cache=skip_cache,
                    started_at=now,
                    summary=_summary(schedule),
                )
            ).returning(ProjectRun.id)
            pk = rows[0]["id"]
            await tasks.block_tasks(self.db, reasons=dict(schedule.blocked))
            await event_log.append(
                self.db,
                [
                    NewEvent(
                        EventType.PROJECT_RUN_STARTED,
                        project_id=project_pk,
                        status=RunStatus.RUNNING.value,
                        message=f"executing project '{project.name}': {len(schedule.waiting)} "
                        f"task(s) to run, {len(schedule.skipped)} skipped, at most "
                        f"{max_parallel} at once",
                        data={"projectRun": format_id(Kind.PROJECT_RUN, pk)},
                    )
                ],
            )
        active = _Active(pk, project_pk, max_parallel, skip_cache, schedule)
        active.written_sizes = _sizes(schedule)
        self._active[pk] = active
        async with active.lock:
            await self._advance(active)
        return await get_project_run(pk)

    async def cancel(self, pk: int) -> ProjectRunRecord:
        """Stop starting tasks and cancel the runs still going."""
        record = await get_project_run(pk)
        if record.status.finished:
            if record.status is RunStatus.CANCELLED:
                return record
            raise InvalidTransition(
                f"{format_id(Kind.PROJECT_RUN, pk)} already {record.status.value}"
            )
        active = self._active.get(pk) or await self._resume(pk)
        async with active.lock:
            active.cancelling = True
            active.schedule.cancel_waiting()
            running = [
                run for run, task in active.run_tasks.items() if task in active.schedule.running
            ]
        for run_pk in running:
            with contextlib.suppress(PommelError):
                await runs.request_cancel(self.db, pk=run_pk)
        async with active.lock:
            if active.schedule.done and not active.finished:
                await self._finish(active)
        return await get_project_run(pk)

    # -- progress -----------------------------------------------------------------------

    async def _on_run_finished(self, finished: FinishedRun) -> None:
        active = None
        if finished.project_run_pk is not None:
            active = self._active.get(finished.project_run_pk)
        # Noted at once, without waiting for the lock: a pass advancing this project run right
        # now then starts this run's dependents in its next batch, together with those of
        # every other run that finished meanwhile.
        if active is not None and self._note(active, finished.pk, finished.status, finished.error):
            async with active.lock:
                await self._advance(active)
        if finished.status is RunStatus.SUCCEEDED:
            # A retried dependency succeeding lifts the blocks its failure had caused.
            await self._unblock_dependents(finished.task_pk)

    async def _unblock_dependents(self, task_pk: int) -> None:
        """``tasks.unblock_dependents``, but only when a task is blocked by ``task_pk``.

        Almost always none is: looking first is one indexed read (raw SQL, which Piccolo does
        not have to build), where unblocking takes the write lock: a transaction per finished
        run, which on SQLite every other writer would queue behind.
        """
        blocked = await Task.raw(
            "SELECT 1 FROM task WHERE status = {} AND status_reason = {} LIMIT 1",
            TaskStatus.BLOCKED.value,
            tasks.blocked_by_reason(task_pk),
        )
        if blocked:
            await tasks.unblock_dependents(self.db, pk=task_pk)

    def _note(self, active: _Active, run_pk: int, status: RunStatus, error: str | None) -> bool:
        """Record a run's outcome in the schedule (no I/O); False if it was already recorded
        (callback and reconciliation may both report a run) or is not this project run's."""
        task_pk = active.run_tasks.get(run_pk)
        if task_pk is None or task_pk not in active.schedule.running:
            return False
        ok = status is RunStatus.SUCCEEDED
        reason = (
            "" if ok else f"{format_id(Kind.RUN, run_pk)} {status.value}: {error or ''}".strip()
        )
        active.unwritten_blocks.update(
            active.schedule.finished(task_pk, succeeded=ok, reason=reason)
        )
        return True

    async def _advance(self, active: _Active) -> None:
        """Queue every task that may start now, then finish if nothing is left (under the lock).

        Each round queues all the tasks ready at that moment as one batch (one read for their
        workflows, one transaction for the runs and their events); tasks made ready while it
        was writing go in the next round. Blocked tasks and the summary are written only when
        they changed (a failure), in a transaction of their own.
        """
        while not active.finished:
            ready: list[int] = []
            if not active.cancelling:
                ready = active.schedule.take_ready(
                    active.max_parallel - len(active.schedule.running)
                )
            requests: list[tuple[int, runs.RunRequest]] = []
            for task_pk, found in (await self._workflows_for(ready)).items():
                if isinstance(found, PommelError):
                    blocked = active.schedule.finished(
                        task_pk, succeeded=False, reason=f"{found.code}: {found.message}"
                    )
                    active.unwritten_blocks.update(
                        {task_pk: f"cannot run: {found.message}", **blocked}
                    )
                    continue
                request = runs.RunRequest(
                    workflow_pk=found,
                    trigger="project",
                    skip_cache=active.skip_cache,
                    project_run_pk=active.pk,
                )
                requests.append((task_pk, request))
            await self._write_changes(active)
            if requests:
                queued = await runs.queue_runs(self.db, [request for _, request in requests])
                for (task_pk, _), run in zip(requests, queued, strict=True):
                    active.run_tasks[run.pk] = task_pk
            if not ready:
                break
        if active.schedule.done and not active.finished:
            await self._finish(active)

    async def _workflows_for(self, task_pks: list[int]) -> dict[int, int | PommelError]:
        """Each task's latest workflow (one read for all), derived from the task when it has
        none; the error instead for a task that cannot get one."""
        if not task_pks:
            return {}
        rows = (
            await Workflow.select(Workflow.id, Workflow.task)
            .where(Workflow.task.is_in(task_pks))
            .order_by(Workflow.id)
        )
        latest: dict[int, int] = {row["task"]: row["id"] for row in rows}  # later ids win
        found: dict[int, int | PommelError] = {}
        for task_pk in task_pks:
            if task_pk in latest:
                found[task_pk] = latest[task_pk]
                continue
            try:
                created = await workflows.create_workflow_from_task(
                    self.db, self.templates, task_pk=task_pk
                )
            except PommelError as error:
                found[task_pk] = error
                continue
            found[task_pk] = created.pk
        return found

    async def _write_changes(self, active: _Active) -> None:
        """Write blocked tasks and the summary if they changed since last written."""
        sizes = _sizes(active.schedule)
        if not active.unwritten_blocks and sizes == active.written_sizes:
            return
        blocks, active.unwritten_blocks = active.unwritten_blocks, {}
        try:
            async with self.db.write():
                await tasks.block_tasks(self.db, reasons=blocks)
                if sizes != active.written_sizes:
                    summary = _summary(active.schedule)
                    await ProjectRun.update({ProjectRun.summary: summary}).where(
                        ProjectRun.id == active.pk
                    )
        except BaseException:
            active.unwritten_blocks = {**blocks, **active.unwritten_blocks}  # for the next pass
            raise
        active.written_sizes = sizes

    async def _finish(self, active: _Active) -> None:
        schedule = active.schedule
        if active.cancelling:
            status = RunStatus.CANCELLED
        else:
            status = RunStatus.SUCCEEDED if schedule.ok else RunStatus.FAILED
        error = None
        if schedule.failed:
            first = min(schedule.failed)
            error = (
                f"{len(schedule.failed)} task(s) failed (first: {format_id(Kind.TASK, first)}: "
                f"{schedule.failed[first]}); {len(schedule.blocked)} blocked"
            )
        now = datetime.now(UTC)
        blocks, active.unwritten_blocks = active.unwritten_blocks, {}
        try:
            async with self.db.write():
                await tasks.block_tasks(self.db, reasons=blocks)  # noted since the last pass
                await self._write_finish(active, status, error, now)
        except BaseException:
            active.unwritten_blocks = {**blocks, **active.unwritten_blocks}
            raise
        active.finished = True
        self._active.pop(active.pk, None)

    async def _write_finish(
        self, active: _Active, status: RunStatus, error: str | None, now: datetime
    ) -> None:
        """Record the project run as finished (if it still was running), with its event."""
        schedule = active.schedule
        updated = (
            await ProjectRun.update(
                {
                    ProjectRun.status: status.value,
                    ProjectRun.finished_at: now,
                    ProjectRun.error: error,
                    ProjectRun.summary: _summary(schedule),
                }
            )
            .where(ProjectRun.id == active.pk)
            .where(ProjectRun.status == RunStatus.RUNNING.value)
            .returning(ProjectRun.id)
        )
        if updated:
            await event_log.append(
                self.db,
                [
                    NewEvent(
                        EventType.PROJECT_RUN_FINISHED,
                        project_id=active.project_pk,
                        status=status.value,
                        message=f"project run {format_id(Kind.PROJECT_RUN, active.pk)} "
                        f"{status.value}: {len(schedule.succeeded)} succeeded, "
                        f"{len(schedule.failed)} failed, {len(schedule.blocked)} blocked, "
                        f"{len(schedule.skipped)} skipped",
                        data={
                            "projectRun": format_id(Kind.PROJECT_RUN, active.pk),
                            "succeeded": len(schedule.succeeded),
                            "failed": len(schedule.failed),
                            "blocked": len(schedule.blocked),
                            "skipped": len(schedule.skipped),
                        },
                    )
                ],
            )

    # -- durability ---------------------------------------------------------------------

    async def _resume(self, pk: int) -> _Active:
        """Rebuild a running project run's schedule from the database."""
        record = await get_project_run(pk)
        schedule = ProjectSchedule.start(await task_nodes(record.project_pk))
        active = _Active(pk, record.project_pk, record.max_parallel, record.skip_cache, schedule)
        rows = (
            await WorkflowRun.select(
                WorkflowRun.id, WorkflowRun.task, WorkflowRun.status, WorkflowRun.error
            )
            .where(WorkflowRun.project_run == pk)
            .where(WorkflowRun.parent_run.is_null())
            .order_by(WorkflowRun.id)
        )
        finished: list[tuple[int, RunStatus, str | None]] = []
        for row in rows:
            task_pk = row["task"]
            active.run_tasks[row["id"]] = task_pk
            if task_pk in schedule.waiting:
                schedule.waiting.discard(task_pk)
                schedule.running.add(task_pk)
            status = RunStatus(row["status"])
            if status.finished:
                finished.append((row["id"], status, row["error"]))
        for task_key, reason in record.summary.get("blocked", {}).items():
            task_pk = int(task_key)
            if task_pk in schedule.waiting:
                schedule.waiting.discard(task_pk)
                schedule.blocked[task_pk] = reason
        self._active[pk] = active
        async with active.lock:
            for run_pk, status, error in finished:
                self._note(active, run_pk, status, error)
            await self._advance(active)
        log.info("resumed project run %s", format_id(Kind.PROJECT_RUN, pk))
        return active

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reconcile_s)
            try:
                await self._reconcile()
            except Exception:  # keep steering other project runs; the next pass retries
                log.exception("project run reconciliation failed")

    async def _reconcile(self) -> None:
        for active in list(self._active.values()):
            waiting_runs = [
                run for run, task in active.run_tasks.items() if task in active.schedule.running
            ]
            if not waiting_runs:
                continue
            rows = (
                await WorkflowRun.select(WorkflowRun.id, WorkflowRun.status, WorkflowRun.error)
                .where(WorkflowRun.id.is_in(waiting_runs))
                .where(WorkflowRun.status.is_in([s.value for s in RunStatus if s.finished]))
            )
            noted = [
                self._note(active, row["id"], RunStatus(row["status"]), row["error"])
                for row in rows
            ]
            if any(noted):
                async with active.lock:
                    await self._advance(active)


def _summary(schedule: ProjectSchedule) -> str:
    """The project run's summary: the outcomes that have no run of their own."""
    return summary_json(
        {"skipped": schedule.skipped, "blocked": schedule.blocked, "failed": schedule.failed}
    )


def _sizes(schedule: ProjectSchedule) -> tuple[int, int, int]:
    return len(schedule.skipped), len(schedule.blocked), len(schedule.failed)
