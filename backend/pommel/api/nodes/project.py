"""``Project`` and ``Phase``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.loaders import prefetch_task_fields
from pommel.api.relay import Connection, Node, connection_from_page
from pommel.ids import Kind, format_id
from pommel.services import tasks as task_service
from pommel.services.records import PhaseRecord, ProjectRecord

if TYPE_CHECKING:
    from pommel.api.nodes.task import TaskFilterInput, TaskOrderInput, TaskType

TaskRef = Annotated["TaskType", strawberry.lazy("pommel.api.nodes.task")]
TaskFilterRef = Annotated["TaskFilterInput", strawberry.lazy("pommel.api.nodes.task")]
TaskOrderRef = Annotated["TaskOrderInput", strawberry.lazy("pommel.api.nodes.task")]


async def _task_connection(
    info: Info,
    *,
    project_pk: int,
    phase_pk: int | None,
    first: int | None,
    after: str | None,
    filter: TaskFilterInput | None,
    order_by: TaskOrderInput | None,
) -> Connection[TaskType]:
    from pommel.api.nodes.task import TaskType, task_filter, task_order

    page = await task_service.list_tasks(
        filter=task_filter(filter, project_pk=project_pk, phase_pk=phase_pk),
        first=first,
        after=after,
        **task_order(order_by),
    )
    await prefetch_task_fields(info, page.items)
    return connection_from_page(page, TaskType.from_record)


@strawberry.type(name="Project")
class ProjectType(Node):
    name: str
    description: str
    metadata: JSON
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, record: ProjectRecord) -> ProjectType:
        return cls(
            id=strawberry.ID(format_id(Kind.PROJECT, record.pk)),
            name=record.name,
            description=record.description,
            metadata=cast(JSON, record.metadata),
            created_at=record.created_at,
            updated_at=record.updated_at,
            pk=record.pk,
        )

    @strawberry.field(description="The project's phases, in order.")
    async def phases(self, info: Info) -> list[PhaseType]:
        records = await info.context.loaders.phases_of_project.load(self.pk)
        return [PhaseType.from_record(record) for record in records]

    @strawberry.field(description="The project's tasks.")
    async def tasks(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        filter: TaskFilterRef | None = None,
        order_by: TaskOrderRef | None = None,
    ) -> Connection[TaskRef]:
        return await _task_connection(
            info,
            project_pk=self.pk,
            phase_pk=None,
            first=first,
            after=after,
            filter=filter,
            order_by=order_by,
        )


@strawberry.type(name="Phase")
class PhaseType(Node):
    name: str
    description: str
    position: int
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    project_pk: strawberry.Private[int]

    @classmethod
    def from_record(cls, record: PhaseRecord) -> PhaseType:
        return cls(
            id=strawberry.ID(format_id(Kind.PHASE, record.pk)),
            name=record.name,
            description=record.description,
            position=record.position,
            created_at=record.created_at,
            updated_at=record.updated_at,
            pk=record.pk,
            project_pk=record.project_pk,
        )

    @strawberry.field
    async def project(self, info: Info) -> ProjectType:
        record = await info.context.loaders.project.load(self.project_pk)
        assert record is not None  # a phase cannot outlive its project (cascade)
        return ProjectType.from_record(record)

    @strawberry.field(description="The tasks in this phase.")
    async def tasks(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        filter: TaskFilterRef | None = None,
        order_by: TaskOrderRef | None = None,
    ) -> Connection[TaskRef]:
        return await _task_connection(
            info,
            project_pk=self.project_pk,
            phase_pk=self.pk,
            first=first,
            after=after,
            filter=filter,
            order_by=order_by,
        )
