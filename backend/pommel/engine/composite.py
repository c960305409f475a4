"""Composite steps (``workflow:``): a child run of another template, executed and awaited by the
parent's runner.

The child is a run of its own (``parentRun`` points at the parent, the step's ``childRun`` at
the child), with its own steps, logs and events; it runs inside the parent's worker slot, so
a composite run can never wait for a slot its own parent holds. A step's outcome is the child's:
succeeded or failed, with the child run's outputs as the step's outputs. A resumed parent
resumes an unfinished child and keeps a succeeded one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pommel.domain.status import RunStatus, StepStatus
from pommel.domain.template import ParameterError, TemplateError, render_definition
from pommel.engine.state import RunState, StepState, now
from pommel.engine.steps import child_outcome
from pommel.errors import NotFound, PommelError
from pommel.events import log as event_log
from pommel.events.model import EventType
from pommel.ids import Kind, format_id
from pommel.services.run_events import RunIds, run_event
from pommel.services.run_queries import get_run, step_rows_of_runs
from pommel.services.run_records import RunRecord, StepRecord
from pommel.services.tasks import get_task
from pommel.services.templates import TemplateRegistry
from pommel.services.workflows import task_context
from pommel.storage.database import Database
from pommel.storage.tables import WorkflowRun

if TYPE_CHECKING:
    from pommel.engine.runner import Runner


class ChildRuns:
    """Creates the child runs of composite steps."""

    def __init__(self, db: Database, templates: TemplateRegistry, owner: str) -> None:
        self.db = db
        self.templates = templates
        self.owner = owner

    async def create(self, parent: RunState, step: str, call: Mapping[str, Any]) -> RunRecord:
        """A queued child run, already claimed by this worker (so no other worker starts it).

        Raises PommelError/TemplateError/ParameterError when the called template cannot be
        rendered for the task.
        """
        template_id = str(call.get("template"))
        parameters = call.get("parameters") or {}
        entry = await self.templates.get(template_id)
        task = await get_task(parent.task_pk)
        resolver = await self.templates.resolver()
        definition = render_definition(
            entry.template,
            parameters=parameters,
            task=task_context(task),
            lookup=resolver.get,
            name=f"{parent.definition.get('name', '')} / {step}",
        )
        async with self.db.write():
            rows = await WorkflowRun.insert(
                WorkflowRun(
                    workflow=parent.workflow_pk,
                    task=parent.task_pk,
                    project=parent.project_pk,
                    parent_run=parent.pk,
                    status=RunStatus.QUEUED.value,
                    trigger="composite",
                    template_id=entry.template.name,
                    skip_cache=parent.skip_cache,
                    parameters=json.dumps(definition.get("parameters", {}), default=str),
                    definition=json.dumps(definition, default=str),
                    claimed_by=self.owner,
                    heartbeat_at=now(),
                )
            ).returning(WorkflowRun.id)
            pk = rows[0]["id"]
            await event_log.append(
                self.db,
                [
                    run_event(
                        EventType.RUN_QUEUED,
                        RunIds(pk, parent.task_pk, parent.project_pk, parent.workflow_pk),
                        status=RunStatus.QUEUED.value,
                        message=f"child run {format_id(Kind.RUN, pk)} of {parent.label} "
                        f"(step '{step}', template '{template_id}') queued",
                        parentRun=parent.label,
                        parentStep=step,
                        template=template_id,
                    )
                ],
            )
        return await get_run(pk)


async def run_child(runner: Runner, step: StepState, definition: Mapping[str, Any]) -> None:
    """Execute ``step`` of ``runner``'s run as a child run and record its outcome."""
    parts = runner.parts
    record: RunRecord | None = None
    rows: list[StepRecord] = []
    if step.child_run is not None:
        with contextlib.suppress(NotFound):
            previous = await get_run(step.child_run)
            if previous.status is RunStatus.SUCCEEDED:
                _finish(
                    runner,
                    step,
                    child_pk=previous.pk,
                    status=previous.status,
                    outputs=previous.outputs,
                    error=None,
                )
                return
            if not previous.status.finished:
                record = previous
                if previous.claimed_by != parts.owner:
                    record = await parts.take_over(previous)
                    if record is None:
                        _fail(runner, step, f"child run {step.child_run} is executed elsewhere")
                        return
                rows = (await step_rows_of_runs([record.pk]))[record.pk]
    if record is None:
        try:
            record = await parts.children.create(
                runner.state, step.name, definition.get("workflow") or {}
            )
        except (PommelError, TemplateError, ParameterError) as exc:
            _fail(runner, step, f"cannot start the child run: {exc}")
            return
    label = format_id(Kind.RUN, record.pk)
    step.child_run = record.pk
    step.attempts = max(step.attempts, 1)
    runner.step_started(step, note=f"child run {label} of template '{record.template_id}'")
    child = type(runner)(parts, record, rows, parent=runner)
    task = asyncio.create_task(child.execute(), name=f"child {label}")
    try:
        final = await asyncio.shield(task)
    except asyncio.CancelledError:
        # The parent is stopping: the child stops for the same reason, then so does the step.
        child.stop(runner.stop_reason or "cancel")
        with contextlib.suppress(Exception):
            await task
        raise
    if not final.status.finished:
        return  # stopped for a shutdown or a lost lease: resumed later, nothing to record
    _finish(
        runner,
        step,
        child_pk=record.pk,
        status=final.status,
        outputs=final.outputs,
        error=final.error,
    )


def _finish(
    runner: Runner,
    step: StepState,
    *,
    child_pk: int,
    status: RunStatus,
    outputs: dict[str, Any],
    error: str | None,
) -> None:
    label = format_id(Kind.RUN, child_pk)
    child_outcome(step, status, outputs, f"child run {label} {status.value}: {error}")
    step.child_run = child_pk
    step.stdout = f"child run {label} {status.value}"
    runner.step_finished(step)


def _fail(runner: Runner, step: StepState, error: str) -> None:
    step.status = StepStatus.FAILED
    step.error = runner.mask(error)
    runner.step_finished(step)
