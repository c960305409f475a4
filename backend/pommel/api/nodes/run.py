"""``WorkflowRun``, its steps and its log lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.enums import RunStatus, StepStatus
from pommel.api.relay import Connection, Node, connection_from_page
from pommel.ids import Kind, format_id
from pommel.services import run_queries
from pommel.services.pagination import Page, check_first, encode_cursor
from pommel.services.run_records import LogRecord, RunRecord, StepRecord

if TYPE_CHECKING:
    from pommel.api.nodes.task import TaskType
    from pommel.api.nodes.workflow import WorkflowNode


@strawberry.type(name="LogLine", description="One line a step printed (or Pommel noted).")
class LogLineType:
    step: str = strawberry.field(description="The step; empty for lines about the whole run.")
    stream: str = strawberry.field(description="`stdout`, `stderr` or `system` (Pommel's notes).")
    text: str
    at: datetime

    @classmethod
    def from_record(cls, record: LogRecord) -> LogLineType:
        return cls(step=record.step, stream=record.stream, text=record.text, at=record.at)


@strawberry.type(name="WorkflowRunStep", description="One step of a run, as it stands.")
class StepType:
    name: str
    position: int
    kind: str = strawberry.field(description="`container`, `script`, `http` or `workflow`.")
    status: StepStatus
    exit_code: int | None
    output: str = strawberry.field(description="Its stdout (the last 64 KiB; `logs` has all).")
    stderr: str = strawberry.field(description="Its stderr (the last 64 KiB).")
    outputs: JSON
    attempts: int
    cached: bool = strawberry.field(description="Reused from an identical earlier step.")
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    child_run_pk: strawberry.Private[int | None]
    reused_from_pk: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, record: StepRecord) -> StepType:
        return cls(
            name=record.name,
            position=record.position,
            kind=record.kind,
            status=record.status,
            exit_code=record.exit_code,
            output=record.stdout,
            stderr=record.stderr,
            outputs=cast(JSON, record.outputs or {}),
            attempts=record.attempts,
            cached=record.cached,
            error=record.error,
            started_at=record.started_at,
            finished_at=record.finished_at,
            duration_ms=record.duration_ms,
            child_run_pk=record.child_run_pk,
            reused_from_pk=record.reused_from_pk,
        )

    @strawberry.field(description="The run a composite (`workflow`) step started.")
    async def child_run(self, info: Info) -> WorkflowRunNode | None:
        return await _run(info, self.child_run_pk)

    @strawberry.field(description="The run whose outcome of this step a retry kept.")
    async def reused_from(self, info: Info) -> WorkflowRunNode | None:
        return await _run(info, self.reused_from_pk)


async def _run(info: Info, pk: int | None) -> WorkflowRunNode | None:
    if pk is None:
        return None
    record = await info.context.loaders.runs.run.load(pk)
    return WorkflowRunNode.from_record(record) if record is not None else None


@strawberry.type(name="WorkflowRun", description="One execution of a workflow.")
class WorkflowRunNode(Node):
    status: RunStatus
    trigger: str = strawberry.field(
        description="What started it: `manual`, `retry`, `project`, `composite`, …"
    )
    skip_cache: bool
    parameters: JSON
    definition: JSON = strawberry.field(description="The definition it executes (a snapshot).")
    outputs: JSON
    error: str | None
    executor: str | None = strawberry.field(description="`local` or `dagger`.")
    executor_note: str | None = strawberry.field(
        description="What the executor does, e.g. that local steps run without isolation."
    )
    resumed: int = strawberry.field(
        description="How many times it was resumed after its worker stopped."
    )
    cancel_requested: bool
    template_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    record: strawberry.Private[RunRecord]

    @classmethod
    def from_record(cls, record: RunRecord) -> WorkflowRunNode:
        return cls(
            id=strawberry.ID(format_id(Kind.RUN, record.pk)),
            status=record.status,
            trigger=record.trigger,
            skip_cache=record.skip_cache,
            parameters=cast(JSON, record.parameters),
            definition=cast(JSON, record.definition),
            outputs=cast(JSON, record.outputs),
            error=record.error,
            executor=record.executor,
            executor_note=record.executor_note,
            resumed=record.resumed,
            cancel_requested=record.cancel_requested,
            template_id=record.template_id,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            duration_ms=record.duration_ms,
            record=record,
        )

    @strawberry.field(description="Every step of its definition, in order.")
    async def steps(self, info: Info) -> list[StepType]:
        rows = await info.context.loaders.runs.step_rows.load(self.record.pk)
        return [
            StepType.from_record(step)
            for step in run_queries.with_pending_steps(self.record, rows or [])
        ]

    @strawberry.field(
        description="Its log lines in order, optionally of one `step`; page with `after`."
    )
    async def logs(
        self, step: str | None = None, after: str | None = None, first: int | None = 100
    ) -> Connection[LogLineType]:
        page = await run_queries.logs_page(self.record.pk, step=step, first=first, after=after)
        return connection_from_page(page, LogLineType.from_record)

    @strawberry.field
    async def workflow(
        self, info: Info
    ) -> Annotated[WorkflowNode, strawberry.lazy("pommel.api.nodes.workflow")] | None:
        from pommel.api.nodes.workflow import WorkflowNode

        record = await info.context.loaders.runs.workflow.load(self.record.workflow_pk)
        return WorkflowNode.from_record(record) if record is not None else None

    @strawberry.field
    async def task(
        self, info: Info
    ) -> Annotated[TaskType, strawberry.lazy("pommel.api.nodes.task")] | None:
        from pommel.api.nodes.task import TaskType

        record = await info.context.loaders.task.load(self.record.task_pk)
        return TaskType.from_record(record) if record is not None else None

    @strawberry.field(description="The run whose composite step started this one.")
    async def parent_run(self, info: Info) -> WorkflowRunNode | None:
        return await _run(info, self.record.parent_run_pk)

    @strawberry.field(description="The run this one retried.")
    async def retry_of(self, info: Info) -> WorkflowRunNode | None:
        return await _run(info, self.record.retry_of_pk)

    @strawberry.field(description="The runs its composite steps started.")
    async def child_runs(self, info: Info) -> list[WorkflowRunNode]:
        children = await info.context.loaders.runs.children.load(self.record.pk)
        return [WorkflowRunNode.from_record(child) for child in children or []]


@strawberry.enum(description="Where a workflow stands: its latest run's status, or NEVER_RUN.")
class WorkflowStatus(Enum):
    NEVER_RUN = "never_run"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


async def workflow_status(info: Info, workflow_pk: int) -> WorkflowStatus:
    latest = await info.context.loaders.runs.latest_of_workflow.load(workflow_pk)
    return WorkflowStatus.NEVER_RUN if latest is None else WorkflowStatus(latest.status.value)


async def latest_run(info: Info, workflow_pk: int) -> WorkflowRunNode | None:
    latest = await info.context.loaders.runs.latest_of_workflow.load(workflow_pk)
    return WorkflowRunNode.from_record(latest) if latest is not None else None


async def runs_of_workflow(
    info: Info, workflow_pk: int, *, first: int | None, after: str | None
) -> Connection[WorkflowRunNode]:
    """A workflow's top-level runs, newest first. Without ``after`` (the usual nested use) the
    pages of many workflows are fetched together."""
    loaders = info.context.loaders.runs

    async def count() -> int:
        return await loaders.count_of_workflow.load(workflow_pk) or 0

    if after is not None:
        page = await run_queries.list_runs(
            run_filter=run_queries.RunFilter(workflow_pk=workflow_pk), first=first, after=after
        )
        return connection_from_page(replace(page, count=count), WorkflowRunNode.from_record)
    limit = check_first(first)
    found = await loaders.recent_of_workflow.load((workflow_pk, limit + 1)) if limit else []
    items = found[:limit]
    page = Page(
        items=items,
        cursors=[encode_cursor([run.pk]) for run in items],
        has_next=len(found) > limit,
        has_previous=False,
        count=count,
    )
    return connection_from_page(page, WorkflowRunNode.from_record)
