"""Queries and mutations for projects, phases, tasks and dependencies (thin: services decide)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.enums import Priority, TaskStatus
from pommel.api.loaders import prefetch_task_fields
from pommel.api.node_lookup import register_node
from pommel.api.nodes.project import PhaseType, ProjectType
from pommel.api.nodes.task import TaskFilterInput, TaskOrderInput, TaskType, task_filter, task_order
from pommel.api.relay import Connection, Node, connection_from_page
from pommel.ids import Kind, parse_id
from pommel.services import dependencies, phases, projects, tasks


@register_node(Kind.PROJECT)
async def _project_node(info: Info, pk: int) -> Node | None:
    record = await info.context.loaders.project.load(pk)
    return ProjectType.from_record(record) if record else None


@register_node(Kind.PHASE)
async def _phase_node(info: Info, pk: int) -> Node | None:
    record = await info.context.loaders.phase.load(pk)
    return PhaseType.from_record(record) if record else None


@register_node(Kind.TASK)
async def _task_node(info: Info, pk: int) -> Node | None:
    record = await info.context.loaders.task.load(pk)
    return TaskType.from_record(record) if record else None


@strawberry.input
class ProjectFilterInput:
    search: str | None = strawberry.field(default=None, description="Text in name or description.")


@strawberry.input
class CreateProjectInput:
    name: str
    description: str | None = None
    metadata: JSON | None = None


@strawberry.input
class UpdateProjectInput:
    name: str | None = None
    description: str | None = None
    metadata: JSON | None = None


@strawberry.input
class CreatePhaseInput:
    project_id: strawberry.ID
    name: str
    description: str | None = None
    position: int | None = strawberry.field(
        default=None, description="0-based place among the project's phases; default last."
    )


@strawberry.input
class UpdatePhaseInput:
    name: str | None = None
    description: str | None = None
    position: int | None = None


@strawberry.input
class CreateTaskInput:
    project_id: strawberry.ID
    name: str
    description: str | None = None
    phase_id: strawberry.ID | None = None
    status: TaskStatus = TaskStatus.PLANNED
    priority: Priority = Priority.MEDIUM
    assignee: str | None = None
    metadata: JSON | None = None
    depends_on: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Tasks of the same project this one waits for."
    )


@strawberry.input(description="Fields to change; an explicit null clears `phaseId`/`assignee`.")
class UpdateTaskInput:
    name: str | None = None
    description: str | None = None
    phase_id: strawberry.ID | None = strawberry.UNSET
    status: TaskStatus | None = None
    status_reason: str | None = None
    priority: Priority | None = None
    assignee: str | None = strawberry.UNSET
    metadata: JSON | None = None


@strawberry.type(description="What a delete mutation removed.")
class Deleted:
    id: strawberry.ID


@strawberry.type
class PlanningQuery:
    @strawberry.field
    async def projects(
        self,
        first: int | None = 50,
        after: str | None = None,
        filter: ProjectFilterInput | None = None,
    ) -> Connection[ProjectType]:
        page = await projects.list_projects(
            first=first, after=after, search=filter.search if filter else None
        )
        return connection_from_page(page, ProjectType.from_record)

    @strawberry.field
    async def project(self, id: strawberry.ID) -> ProjectType:
        return ProjectType.from_record(await projects.get_project(parse_id(id, Kind.PROJECT)))

    @strawberry.field
    async def tasks(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        filter: TaskFilterInput | None = None,
        order_by: TaskOrderInput | None = None,
    ) -> Connection[TaskType]:
        page = await tasks.list_tasks(
            filter=task_filter(filter), first=first, after=after, **task_order(order_by)
        )
        await prefetch_task_fields(info, page.items)
        return connection_from_page(page, TaskType.from_record)

    @strawberry.field
    async def task(self, id: strawberry.ID) -> TaskType:
        return TaskType.from_record(await tasks.get_task(parse_id(id, Kind.TASK)))


def _optional_id(value: strawberry.ID | None, kind: Kind) -> int | None:
    return parse_id(value, kind) if value else None


@strawberry.type
class PlanningMutation:
    @strawberry.mutation
    async def create_project(self, info: Info, input: CreateProjectInput) -> ProjectType:
        record = await projects.create_project(
            info.context.runtime.db,
            name=input.name,
            description=input.description,
            metadata=input.metadata,
        )
        return ProjectType.from_record(record)

    @strawberry.mutation
    async def update_project(
        self, info: Info, id: strawberry.ID, input: UpdateProjectInput
    ) -> ProjectType:
        record = await projects.update_project(
            info.context.runtime.db,
            pk=parse_id(id, Kind.PROJECT),
            name=input.name,
            description=input.description,
            metadata=input.metadata,
        )
        return ProjectType.from_record(record)

    @strawberry.mutation(description="Delete a project with its phases, tasks and workflows.")
    async def delete_project(self, info: Info, id: strawberry.ID) -> Deleted:
        await projects.delete_project(info.context.runtime.db, pk=parse_id(id, Kind.PROJECT))
        return Deleted(id=id)

    @strawberry.mutation
    async def create_phase(self, info: Info, input: CreatePhaseInput) -> PhaseType:
        record = await phases.create_phase(
            info.context.runtime.db,
            project_pk=parse_id(input.project_id, Kind.PROJECT),
            name=input.name,
            description=input.description,
            position=input.position,
        )
        return PhaseType.from_record(record)

    @strawberry.mutation
    async def update_phase(
        self, info: Info, id: strawberry.ID, input: UpdatePhaseInput
    ) -> PhaseType:
        record = await phases.update_phase(
            info.context.runtime.db,
            pk=parse_id(id, Kind.PHASE),
            name=input.name,
            description=input.description,
            position=input.position,
        )
        return PhaseType.from_record(record)

    @strawberry.mutation(description="Delete a phase; its tasks stay in the project.")
    async def delete_phase(self, info: Info, id: strawberry.ID) -> Deleted:
        await phases.delete_phase(info.context.runtime.db, pk=parse_id(id, Kind.PHASE))
        return Deleted(id=id)

    @strawberry.mutation
    async def create_task(self, info: Info, input: CreateTaskInput) -> TaskType:
        record = await tasks.create_task(
            info.context.runtime.db,
            project_pk=parse_id(input.project_id, Kind.PROJECT),
            name=input.name,
            description=input.description,
            phase_pk=_optional_id(input.phase_id, Kind.PHASE),
            status=input.status,
            priority=input.priority,
            assignee=input.assignee,
            metadata=input.metadata,
            depends_on=[parse_id(dep, Kind.TASK) for dep in input.depends_on or ()],
        )
        return TaskType.from_record(record)

    @strawberry.mutation
    async def update_task(self, info: Info, id: strawberry.ID, input: UpdateTaskInput) -> TaskType:
        phase_given = input.phase_id is not strawberry.UNSET
        assignee_given = input.assignee is not strawberry.UNSET
        record = await tasks.update_task(
            info.context.runtime.db,
            pk=parse_id(id, Kind.TASK),
            name=input.name,
            description=input.description,
            phase_pk=_optional_id(input.phase_id, Kind.PHASE) if phase_given else None,
            clear_phase=phase_given and input.phase_id is None,
            status=input.status,
            status_reason=input.status_reason,
            priority=input.priority,
            assignee=input.assignee if assignee_given else None,
            clear_assignee=assignee_given and input.assignee is None,
            metadata=input.metadata,
        )
        return TaskType.from_record(record)

    @strawberry.mutation(description="Delete a task with its dependencies and workflows.")
    async def delete_task(self, info: Info, id: strawberry.ID) -> Deleted:
        await tasks.delete_task(info.context.runtime.db, pk=parse_id(id, Kind.TASK))
        return Deleted(id=id)

    @strawberry.mutation(description="Make a task wait for another; refused if it closes a cycle.")
    async def add_task_dependency(
        self, info: Info, task_id: strawberry.ID, depends_on_id: strawberry.ID
    ) -> TaskType:
        record = await dependencies.add_dependency(
            info.context.runtime.db,
            task_pk=parse_id(task_id, Kind.TASK),
            depends_on_pk=parse_id(depends_on_id, Kind.TASK),
        )
        return TaskType.from_record(record)

    @strawberry.mutation
    async def remove_task_dependency(
        self, info: Info, task_id: strawberry.ID, depends_on_id: strawberry.ID
    ) -> TaskType:
        record = await dependencies.remove_dependency(
            info.context.runtime.db,
            task_pk=parse_id(task_id, Kind.TASK),
            depends_on_pk=parse_id(depends_on_id, Kind.TASK),
        )
        return TaskType.from_record(record)
