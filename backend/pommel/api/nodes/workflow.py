"""``Workflow``: a template bound to a task with concrete parameters."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.nodes.run import (
    WorkflowRunNode,
    WorkflowStatus,
    latest_run,
    runs_of_workflow,
    workflow_status,
)
from pommel.api.nodes.task import TaskType
from pommel.api.nodes.template import TemplateType
from pommel.api.relay import Connection, Node
from pommel.domain.status import WorkflowType
from pommel.errors import PommelError
from pommel.ids import Kind, format_id
from pommel.services.records import WorkflowRecord


@strawberry.type(name="Workflow")
class WorkflowNode(Node):
    name: str
    type: WorkflowType
    template_id: str | None = strawberry.field(description="The template it was made from.")
    parameters: JSON = strawberry.field(description="The bound parameter values.")
    definition: JSON = strawberry.field(
        description="The rendered definition its runs execute (steps, needs, outputs)."
    )
    created_at: datetime
    pk: strawberry.Private[int]
    task_pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, record: WorkflowRecord) -> WorkflowNode:
        return cls(
            id=strawberry.ID(format_id(Kind.WORKFLOW, record.pk)),
            name=record.name,
            type=WorkflowType(record.type),
            template_id=record.template_id,
            parameters=cast(JSON, record.parameters),
            definition=cast(JSON, record.definition),
            created_at=record.created_at,
            pk=record.pk,
            task_pk=record.task_pk,
        )

    @strawberry.field
    async def task(self, info: Info) -> TaskType:
        record = await info.context.loaders.task.load(self.task_pk)
        assert record is not None  # a workflow cannot outlive its task (cascade)
        return TaskType.from_record(record)

    @strawberry.field(description="The template, if it still exists.")
    async def template(self, info: Info) -> TemplateType | None:
        if self.template_id is None:
            return None
        try:
            entry = await info.context.runtime.templates.get(self.template_id)
        except PommelError:
            return None
        return TemplateType.from_entry(entry)

    @strawberry.field(description="Its latest run's status; NEVER_RUN before its first run.")
    async def status(self, info: Info) -> WorkflowStatus:
        return await workflow_status(info, self.pk)

    @strawberry.field(description="Its newest run (child runs of composite steps aside).")
    async def latest_run(self, info: Info) -> WorkflowRunNode | None:
        return await latest_run(info, self.pk)

    @strawberry.field(description="Its runs, newest first.")
    async def runs(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> Connection[WorkflowRunNode]:
        return await runs_of_workflow(info, self.pk, first=first, after=after)
