"""Queries and mutations for templates and workflows (thin: services decide)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.node_lookup import register_node
from pommel.api.nodes.task import TaskType
from pommel.api.nodes.template import TemplateType, TemplateValidation
from pommel.api.nodes.workflow import WorkflowNode
from pommel.api.relay import Connection, Node, connection_from_page
from pommel.domain.status import WorkflowType
from pommel.ids import Kind, parse_id
from pommel.services import templates, workflows


@register_node(Kind.WORKFLOW)
async def _workflow_node(info: Info, pk: int) -> Node | None:
    found = await workflows.get_workflows([pk])
    return WorkflowNode.from_record(found[pk]) if pk in found else None


@strawberry.input
class WorkflowFilterInput:
    project_id: strawberry.ID | None = None
    task_id: strawberry.ID | None = None
    type: WorkflowType | None = None
    template_id: str | None = None


@strawberry.type(description="A task `createWorkflowsForProject` made no workflow for.")
class SkippedTask:
    task: TaskType
    reason: str


@strawberry.type
class CreateWorkflowsPayload:
    workflows: list[WorkflowNode]
    skipped: list[SkippedTask]


@strawberry.type(description="What `deleteTemplate` removed.")
class DeletedTemplate:
    id: strawberry.ID


@strawberry.type
class WorkflowQuery:
    @strawberry.field(description="Every template (built-in, directory and custom), by category.")
    async def templates(self, info: Info, category: str | None = None) -> list[TemplateType]:
        entries = await info.context.runtime.templates.list(category=category)
        return [TemplateType.from_entry(entry) for entry in entries]

    @strawberry.field
    async def template(self, info: Info, id: strawberry.ID) -> TemplateType:
        return TemplateType.from_entry(await info.context.runtime.templates.get(id))

    @strawberry.field
    async def workflows(
        self,
        first: int | None = 50,
        after: str | None = None,
        filter: WorkflowFilterInput | None = None,
    ) -> Connection[WorkflowNode]:
        given = filter or WorkflowFilterInput()
        page = await workflows.list_workflows(
            filter=workflows.WorkflowFilter(
                project_pk=parse_id(given.project_id, Kind.PROJECT) if given.project_id else None,
                task_pk=parse_id(given.task_id, Kind.TASK) if given.task_id else None,
                type=given.type,
                template_id=given.template_id,
            ),
            first=first,
            after=after,
        )
        return connection_from_page(page, WorkflowNode.from_record)

    @strawberry.field
    async def workflow(self, id: strawberry.ID) -> WorkflowNode:
        return WorkflowNode.from_record(await workflows.get_workflow(parse_id(id, Kind.WORKFLOW)))

    @strawberry.field(description="The task's latest workflow, or null when it has none.")
    async def workflow_for_task(self, task_id: strawberry.ID) -> WorkflowNode | None:
        record = await workflows.workflow_for_task(parse_id(task_id, Kind.TASK))
        return WorkflowNode.from_record(record) if record else None


@strawberry.type
class WorkflowMutation:
    @strawberry.mutation(description="Store a custom template (its id is `metadata.name`).")
    async def create_template(self, info: Info, source: str) -> TemplateType:
        runtime = info.context.runtime
        entry = await templates.create_template(runtime.db, runtime.templates, source=source)
        return TemplateType.from_entry(entry)

    @strawberry.mutation
    async def update_template(self, info: Info, id: strawberry.ID, source: str) -> TemplateType:
        runtime = info.context.runtime
        entry = await templates.update_template(
            runtime.db, runtime.templates, template_id=id, source=source
        )
        return TemplateType.from_entry(entry)

    @strawberry.mutation
    async def delete_template(self, info: Info, id: strawberry.ID) -> DeletedTemplate:
        runtime = info.context.runtime
        await templates.delete_template(runtime.db, runtime.templates, template_id=id)
        return DeletedTemplate(id=id)

    @strawberry.mutation(
        description="Every problem in a template source; never fails on bad input."
    )
    async def validate_template(self, info: Info, source: str) -> TemplateValidation:
        problems = await templates.validate(info.context.runtime.templates, source=source)
        return TemplateValidation.from_problems(problems)

    @strawberry.mutation(
        description="Derive a workflow from the task's metadata (`template` + `parameters`, or "
        "`command` + optional `image`, run through `basic_task`)."
    )
    async def create_workflow_from_task(
        self,
        info: Info,
        task_id: strawberry.ID,
        workflow_name: str | None = None,
        workflow_type: WorkflowType | None = None,
    ) -> WorkflowNode:
        runtime = info.context.runtime
        record = await workflows.create_workflow_from_task(
            runtime.db,
            runtime.templates,
            task_pk=parse_id(task_id, Kind.TASK),
            workflow_name=workflow_name,
            workflow_type=workflow_type,
        )
        return WorkflowNode.from_record(record)

    @strawberry.mutation
    async def create_workflow_from_template(
        self,
        info: Info,
        task_id: strawberry.ID,
        template_id: strawberry.ID,
        parameters: JSON | None = None,
        workflow_name: str | None = None,
    ) -> WorkflowNode:
        runtime = info.context.runtime
        record = await workflows.create_workflow_from_template(
            runtime.db,
            runtime.templates,
            task_pk=parse_id(task_id, Kind.TASK),
            template_id=template_id,
            parameters=parameters,
            workflow_name=workflow_name,
        )
        return WorkflowNode.from_record(record)

    @strawberry.mutation(
        description="A workflow for every task of the project that has none (from the template, "
        "or derived from each task when no template is given)."
    )
    async def create_workflows_for_project(
        self,
        info: Info,
        project_id: strawberry.ID,
        template_id: strawberry.ID | None = None,
        parameters: JSON | None = None,
    ) -> CreateWorkflowsPayload:
        runtime = info.context.runtime
        created, skipped = await workflows.create_workflows_for_project(
            runtime.db,
            runtime.templates,
            project_pk=parse_id(project_id, Kind.PROJECT),
            template_id=template_id,
            parameters=parameters,
        )
        return CreateWorkflowsPayload(
            workflows=[WorkflowNode.from_record(record) for record in created],
            skipped=[
                SkippedTask(task=TaskType.from_record(s.task), reason=s.reason) for s in skipped
            ],
        )
