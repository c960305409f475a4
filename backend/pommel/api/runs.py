"""Queries and mutations for workflow runs (thin: services decide, the worker executes)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.enums import WorkflowType
from pommel.api.node_lookup import register_node
from pommel.api.nodes.run import WorkflowRunNode
from pommel.api.relay import Node
from pommel.ids import Kind, parse_id
from pommel.services import run_queries, runs


@register_node(Kind.RUN)
async def _run_node(info: Info, pk: int) -> Node | None:
    record = await info.context.loaders.runs.run.load(pk)
    return WorkflowRunNode.from_record(record) if record is not None else None


@strawberry.type
class RunQuery:
    @strawberry.field
    async def workflow_run(self, id: strawberry.ID) -> WorkflowRunNode:
        return WorkflowRunNode.from_record(await run_queries.get_run(parse_id(id, Kind.RUN)))


@strawberry.type
class RunMutation:
    @strawberry.mutation(
        description="Run the task's latest workflow (of `workflowType` when given), deriving "
        "one from the task first when it has none. `parameters` override the workflow's for "
        "this run; `skipCache` runs every step even when an identical one succeeded before."
    )
    async def execute_task_workflow(
        self,
        info: Info,
        task_id: strawberry.ID,
        workflow_type: WorkflowType | None = None,
        skip_cache: bool | None = False,
        parameters: JSON | None = None,
    ) -> WorkflowRunNode:
        runtime = info.context.runtime
        record = await runs.execute_task_workflow(
            runtime.db,
            runtime.templates,
            task_pk=parse_id(task_id, Kind.TASK),
            workflow_type=workflow_type,
            skip_cache=bool(skip_cache),
            parameters=parameters,
        )
        return WorkflowRunNode.from_record(record)

    @strawberry.mutation(
        description="Cancel a run: a queued one at once, a running one within seconds (its "
        "processes are stopped)."
    )
    async def cancel_workflow_run(self, info: Info, run_id: strawberry.ID) -> WorkflowRunNode:
        record = await runs.request_cancel(info.context.runtime.db, pk=parse_id(run_id, Kind.RUN))
        return WorkflowRunNode.from_record(record)

    @strawberry.mutation(
        description="A new run of the same definition that keeps the outcomes of the steps "
        "before `fromStep` and runs `fromStep` and what follows it again (default: from the "
        "steps that did not succeed)."
    )
    async def retry_workflow_run(
        self, info: Info, run_id: strawberry.ID, from_step: str | None = None
    ) -> WorkflowRunNode:
        record = await runs.retry_run(
            info.context.runtime.db, pk=parse_id(run_id, Kind.RUN), from_step=from_step
        )
        return WorkflowRunNode.from_record(record)
