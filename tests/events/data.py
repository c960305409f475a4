"""Test data written the way the app writes it: services, or ``events.log.append`` in a
write transaction (for the run, step and log events the engine will append)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.runtime import Runtime
from pommel.services import projects, tasks
from pommel.storage.database import Database
from pommel.storage.tables import Workflow, WorkflowRun


@dataclass(frozen=True)
class RunRef:
    project: int
    task: int
    workflow: int
    run: int

    @property
    def run_id(self) -> str:
        return format_id(Kind.RUN, self.run)

    def event(self, kind: EventType, **fields: Any) -> NewEvent:
        return NewEvent(
            kind,
            project_id=self.project,
            task_id=self.task,
            workflow_id=self.workflow,
            run_id=self.run,
            **fields,
        )


async def new_run(runtime: Runtime, *, status: str = "running") -> RunRef:
    """A project, a task, a workflow and one run of it in ``status`` (no run events yet).

    The run is claimed by this app's own worker, which therefore leaves it alone (it would
    resume an unclaimed running run): the test alone writes its events.
    """
    db = runtime.db
    project = await projects.create_project(db, name="Events")
    task = await tasks.create_task(db, project_pk=project.pk, name="Build")
    async with db.write():
        workflow = await Workflow.insert(
            Workflow(project=project.pk, task=task.pk, name="build", type="script_workflow")
        ).returning(Workflow.id)
        run = await WorkflowRun.insert(
            WorkflowRun(
                workflow=workflow[0]["id"],
                task=task.pk,
                project=project.pk,
                status=status,
                claimed_by=runtime.worker.owner,
                heartbeat_at=datetime.now(UTC),
            )
        ).returning(WorkflowRun.id)
    return RunRef(project.pk, task.pk, workflow[0]["id"], run[0]["id"])


async def log_lines(db: Database, run: RunRef, count: int, *, size: int = 0) -> None:
    """``count`` STEP_LOG events, one transaction each (as a streaming step would)."""
    for index in range(count):
        async with db.write():
            await event_log.append(
                db,
                [
                    run.event(
                        EventType.STEP_LOG,
                        step="build",
                        message=f"line {index}",
                        data={"line": index, "pad": "x" * size},
                    )
                ],
            )


async def log_batches(db: Database, run: RunRef, *, batches: int, size: int, pad: int = 0) -> None:
    """``batches`` transactions of ``size`` STEP_LOG events each (``pad`` random characters
    of data per event: they do not compress)."""
    for batch in range(batches):
        async with db.write():
            await event_log.append(
                db,
                [
                    run.event(
                        EventType.STEP_LOG,
                        step="build",
                        message=f"line {batch * size + index}",
                        data={"pad": secrets.token_urlsafe(pad)[:pad]},
                    )
                    for index in range(size)
                ],
            )


async def finish(db: Database, run: RunRef, status: str = "succeeded") -> None:
    async with db.write():
        await WorkflowRun.update({WorkflowRun.status: status}).where(WorkflowRun.id == run.run)
        await event_log.append(db, [run.event(EventType.RUN_FINISHED, status=status)])


async def sequences(
    *, after: int = 0, run_id: int | None = None, project_id: int | None = None
) -> list[int]:
    """Every stored sequence after ``after`` (optionally of one run or project), in order."""
    found: list[int] = []
    while batch := await event_log.read_after(
        after=after, limit=1000, run_id=run_id, project_id=project_id
    ):
        found.extend(event.sequence for event in batch)
        after = batch[-1].sequence
    return found
