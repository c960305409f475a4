"""Commands on workflow runs: queue, execute a task's workflow, cancel, retry.

A run is written ``queued``, with a snapshot of the definition it will execute, before anything
runs; the engine's worker (``pommel.engine.worker``) claims and executes it. Workers in this
process hear about queued runs and cancel requests through ``watch`` as soon as the transaction
that made them commits; workers in other processes through the event log (``run.queued``,
``run.cancel_requested``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pommel.domain.status import RunStatus, StepStatus, WorkflowType
from pommel.errors import InvalidTransition, NotFound, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services import workflows
from pommel.services.records import WorkflowRecord
from pommel.services.run_events import (
    RunIds,
    RunSignal,
    RunWatcher,
    run_event,
    signal_after_commit,
    watch,
)
from pommel.services.run_queries import get_run, step_rows_of_runs
from pommel.services.run_records import RunRecord, StepRecord
from pommel.services.tasks import get_task
from pommel.services.templates import TemplateRegistry
from pommel.storage.database import Database
from pommel.storage.tables import StepRun, WorkflowRun

__all__ = [
    "RunIds",
    "RunRequest",
    "RunSignal",
    "RunWatcher",
    "execute_task_workflow",
    "queue_run",
    "queue_runs",
    "request_cancel",
    "retry_run",
    "run_event",
    "watch",
]


@dataclass(frozen=True)
class RunRequest:
    """One run to queue. ``definition`` defaults to the workflow's; ``parameters`` are recorded
    with the run (the definition must already be rendered with them)."""

    workflow_pk: int
    trigger: str = "manual"
    skip_cache: bool = False
    project_run_pk: int | None = None
    parameters: Mapping[str, Any] | None = None
    definition: Mapping[str, Any] | None = None
    retry_of_pk: int | None = None


async def queue_run(
    db: Database,
    *,
    workflow_pk: int,
    trigger: str = "manual",
    skip_cache: bool = False,
    project_run_pk: int | None = None,
    parameters: Mapping[str, Any] | None = None,
    definition: Mapping[str, Any] | None = None,
) -> RunRecord:
    """Queue one run of a workflow: one read, one transaction (the row and its event)."""
    request = RunRequest(workflow_pk, trigger, skip_cache, project_run_pk, parameters, definition)
    return (await queue_runs(db, [request]))[0]


async def queue_runs(
    db: Database, requests: Sequence[RunRequest], *, reused: Sequence[StepRecord] = ()
) -> list[RunRecord]:
    """Queue many runs at once: one read and one transaction whatever their number.

    ``reused`` (retries only, with a single request) are step outcomes the new run keeps.
    """
    if not requests:
        return []
    found = await workflows.get_workflows(sorted({r.workflow_pk for r in requests}))
    for request in requests:
        if request.workflow_pk not in found:
            raise NotFound(f"no workflow '{format_id(Kind.WORKFLOW, request.workflow_pk)}'")
    now = datetime.now(UTC)
    rows = [_run_row(request, found[request.workflow_pk], now) for request in requests]
    async with db.write():
        inserted = await WorkflowRun.insert(*rows).returning(WorkflowRun.id)
        # Rows of one INSERT get increasing ids in the order given.
        pks = sorted(row["id"] for row in inserted)
        if reused:
            await StepRun.insert(*(_reused_row(pks[0], step) for step in reused))
        records = [
            _record(pk, row, request) for pk, row, request in zip(pks, rows, requests, strict=True)
        ]
        await event_log.append(db, [_queued_event(record) for record in records])
        signal_after_commit(db, "queued", pks[-1])
    return records


def _run_row(request: RunRequest, workflow: WorkflowRecord, now: datetime) -> WorkflowRun:
    definition = request.definition if request.definition is not None else workflow.definition
    parameters = request.parameters if request.parameters is not None else workflow.parameters
    return WorkflowRun(
        workflow=workflow.pk,
        task=workflow.task_pk,
        project=workflow.project_pk,
        project_run=request.project_run_pk,
        retry_of=request.retry_of_pk,
        status=RunStatus.QUEUED.value,
        trigger=request.trigger,
        template_id=workflow.template_id,
        skip_cache=request.skip_cache,
        parameters=json.dumps(parameters, default=str),
        definition=json.dumps(definition, default=str),
        created_at=now,
    )


def _record(pk: int, row: WorkflowRun, request: RunRequest) -> RunRecord:
    return RunRecord(
        pk=pk,
        workflow_pk=row.workflow,
        task_pk=row.task,
        project_pk=row.project,
        project_run_pk=request.project_run_pk,
        parent_run_pk=None,
        retry_of_pk=request.retry_of_pk,
        status=RunStatus.QUEUED,
        trigger=request.trigger,
        template_id=row.template_id,
        skip_cache=request.skip_cache,
        parameters=json.loads(row.parameters),
        definition=json.loads(row.definition),
        outputs={},
        error=None,
        executor=None,
        executor_note=None,
        resumed=0,
        cancel_requested=False,
        claimed_by=None,
        heartbeat_at=None,
        created_at=row.created_at,
        started_at=None,
        finished_at=None,
        duration_ms=None,
    )


def _queued_event(run: RunRecord) -> NewEvent:
    extra: dict[str, Any] = {}
    if run.retry_of_pk is not None:
        extra["retryOf"] = format_id(Kind.RUN, run.retry_of_pk)
    if run.project_run_pk is not None:
        extra["projectRun"] = format_id(Kind.PROJECT_RUN, run.project_run_pk)
    return run_event(
        EventType.RUN_QUEUED,
        RunIds.of(run),
        status=RunStatus.QUEUED.value,
        message=f"run {format_id(Kind.RUN, run.pk)} of workflow "
        f"'{run.definition.get('name', '')}' queued ({run.trigger})",
        workflow=format_id(Kind.WORKFLOW, run.workflow_pk),
        trigger=run.trigger,
        skipCache=run.skip_cache,
        **extra,
    )


async def execute_task_workflow(
    db: Database,
    registry: TemplateRegistry,
    *,
    task_pk: int,
    workflow_type: WorkflowType | None = None,
    skip_cache: bool = False,
    parameters: Any = None,
) -> RunRecord:
    """Queue a run of the task's latest workflow (of ``workflow_type`` when given), deriving one
    from the task first when it has none. ``parameters`` override the workflow's for this run:
    its template is rendered again with them."""
    if parameters is not None and not isinstance(parameters, dict):
        raise ValidationFailed({"parameters": "must be a JSON object of parameter values"})
    await get_task(task_pk)
    existing = (await workflows.workflows_of_tasks([task_pk]))[task_pk]
    candidates = [w for w in existing if workflow_type is None or w.type == workflow_type.value]
    if candidates:
        workflow = candidates[-1]
    elif existing:
        assert workflow_type is not None
        have = ", ".join(f"{format_id(Kind.WORKFLOW, w.pk)} ({w.type})" for w in existing[-5:])
        raise ValidationFailed(
            {
                "workflowType": f"{format_id(Kind.TASK, task_pk)} has no "
                f"{workflow_type.value} workflow (it has {have}); create one with "
                "createWorkflowFromTemplate or leave workflowType out"
            }
        )
    else:
        workflow = await workflows.create_workflow_from_task(
            db, registry, task_pk=task_pk, workflow_type=workflow_type
        )
    definition: dict[str, Any] | None = None
    merged: dict[str, Any] | None = None
    if parameters:
        merged = {**workflow.parameters, **parameters}
        definition = await _rerender(registry, workflow, merged)
    return await queue_run(
        db,
        workflow_pk=workflow.pk,
        skip_cache=skip_cache,
        parameters=merged,
        definition=definition,
    )


async def _rerender(
    registry: TemplateRegistry, workflow: WorkflowRecord, parameters: dict[str, Any]
) -> dict[str, Any]:
    """The workflow's template rendered with other parameters, keeping what was changed in the
    workflow's definition after rendering (a derived workflow's image and type)."""
    if workflow.template_id is None:
        raise ValidationFailed({"parameters": "this workflow has no template to render them with"})
    template = (await registry.get(workflow.template_id)).template
    task = await get_task(workflow.task_pk)
    bound = workflows._bind(template, parameters)
    fresh = await workflows._render(registry, template, bound, task)
    original = await workflows._render(
        registry, template, workflows._bind(template, workflow.parameters), task
    )
    stored = {s.get("name"): s for s in workflow.definition.get("steps", [])}
    before = {s.get("name"): s for s in original["steps"]}
    for step in fresh["steps"]:
        kept, was = stored.get(step["name"]), before.get(step["name"])
        if kept is not None and was is not None and kept.get("image") != was.get("image"):
            step["image"] = kept.get("image")
    fresh["type"] = workflow.definition.get("type", fresh["type"])
    return fresh


async def request_cancel(db: Database, *, pk: int) -> RunRecord:
    """Cancel a run: a queued one at once; a running one is asked to stop (its worker stops
    its processes and records ``cancelled``). Cancelling a cancelled run changes nothing."""
    label = format_id(Kind.RUN, pk)
    async with db.write():
        run = await get_run(pk)
        if run.status.finished:
            if run.status is RunStatus.CANCELLED:
                return run
            raise InvalidTransition(
                f"{label} already {run.status.value}; only queued or running runs can be cancelled"
            )
        now = datetime.now(UTC)
        # Conditional, so a worker claiming the run at the same moment wins or loses cleanly.
        cancelled = (
            await WorkflowRun.update(
                {
                    WorkflowRun.status: RunStatus.CANCELLED.value,
                    WorkflowRun.cancel_requested: True,
                    WorkflowRun.error: "cancelled before it started",
                    WorkflowRun.finished_at: now,
                }
            )
            .where(WorkflowRun.id == pk)
            .where(WorkflowRun.status == RunStatus.QUEUED.value)
            .where(WorkflowRun.claimed_by.is_null())
            .returning(WorkflowRun.id)
        )
        ids = RunIds.of(run)
        if cancelled:
            await event_log.append(
                db,
                [
                    run_event(
                        EventType.RUN_FINISHED,
                        ids,
                        status=RunStatus.CANCELLED.value,
                        message=f"run {label} cancelled before it started",
                        error="cancelled before it started",
                        durationMs=None,
                        outputs={},
                    )
                ],
            )
            signal_after_commit(db, "finished", pk)
        elif not run.cancel_requested:
            await WorkflowRun.update({WorkflowRun.cancel_requested: True}).where(
                WorkflowRun.id == pk
            )
            await event_log.append(
                db,
                [
                    run_event(
                        EventType.RUN_CANCEL_REQUESTED,
                        ids,
                        status=run.status.value,
                        message=f"cancellation of run {label} requested",
                    )
                ],
            )
            signal_after_commit(db, "cancel_requested", pk)
        else:
            signal_after_commit(db, "cancel_requested", pk)
    return await get_run(pk)


async def retry_run(db: Database, *, pk: int, from_step: str | None = None) -> RunRecord:
    """A new run of the same definition that keeps the outcomes of the steps before
    ``from_step`` and runs ``from_step`` and everything after it again.

    Without ``from_step`` it starts from the steps that did not succeed (all of them when
    the run succeeded). Steps whose outcome is kept are not executed again; the others are,
    really: a retry skips the step cache (their inputs are unchanged, it is the world that
    the retry is about).
    """
    run = await get_run(pk)
    label = format_id(Kind.RUN, pk)
    if run.parent_run_pk is not None:
        parent = format_id(Kind.RUN, run.parent_run_pk)
        raise ValidationFailed(
            {"runId": f"{label} is the child run of a composite step; retry {parent} instead"}
        )
    if not run.status.finished:
        raise InvalidTransition(
            f"{label} is still {run.status.value}; wait for it to finish or cancel it first"
        )
    definitions = run.step_definitions
    names = [str(step.get("name")) for step in definitions]
    if from_step is not None and from_step not in names:
        raise ValidationFailed(
            {"fromStep": f"{label} has no step '{from_step}' (its steps: {', '.join(names)})"}
        )
    rows = (await step_rows_of_runs([pk]))[pk]
    succeeded = [row for row in rows if row.status is StepStatus.SUCCEEDED]
    if from_step is None:
        keep = succeeded if len(succeeded) < len(names) else []
    else:
        again = _downstream(definitions, from_step)
        keep = [row for row in succeeded if row.name not in again]
    request = RunRequest(
        workflow_pk=run.workflow_pk,
        trigger="retry",
        skip_cache=True,
        parameters=run.parameters,
        definition=run.definition,
        retry_of_pk=pk,
    )
    return (await queue_runs(db, [request], reused=keep))[0]


def _downstream(definitions: Sequence[Mapping[str, Any]], start: str) -> set[str]:
    """``start`` and every step that needs it, directly or not."""
    found = {start}
    changed = True
    while changed:
        changed = False
        for step in definitions:
            name = str(step.get("name"))
            if name not in found and found & set(step.get("needs") or ()):
                found.add(name)
                changed = True
    return found


def _reused_row(run_pk: int, step: StepRecord) -> StepRun:
    return StepRun(
        run=run_pk,
        name=step.name,
        position=step.position,
        kind=step.kind,
        status=StepStatus.SUCCEEDED.value,
        exit_code=step.exit_code,
        stdout=step.stdout,
        stderr=step.stderr,
        outputs=json.dumps(step.outputs or {}),
        attempts=step.attempts,
        cached=step.cached,
        cache_key=step.cache_key,
        child_run=step.child_run_pk,
        reused_from=step.reused_from_pk or step.run_pk,
        started_at=step.started_at,
        finished_at=step.finished_at,
    )
