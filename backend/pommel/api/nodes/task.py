"""``Task``, its filter and ordering inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from pommel.api.context import Info
from pommel.api.enums import OrderDirection, Priority, TaskOrderField, TaskStatus
from pommel.api.loaders import now_or_later
from pommel.api.nodes.project import PhaseType, ProjectType
from pommel.api.relay import Node
from pommel.ids import Kind, format_id, parse_id
from pommel.services.records import PhaseRecord, TaskRecord
from pommel.services.tasks import TaskFilter


@strawberry.input(description="Narrow a task list; every given condition must hold.")
class TaskFilterInput:
    project_id: strawberry.ID | None = None
    phase_id: strawberry.ID | None = None
    status: list[TaskStatus] | None = None
    priority: list[Priority] | None = None
    assignee: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text in the name or description."
    )


@strawberry.input
class TaskOrderInput:
    field: TaskOrderField = TaskOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


def task_filter(
    given: TaskFilterInput | None, *, project_pk: int | None = None, phase_pk: int | None = None
) -> TaskFilter:
    """The service filter for ``given``, with the enclosing project/phase fixed."""
    given = given or TaskFilterInput()
    return TaskFilter(
        project_pk=project_pk
        if project_pk is not None
        else (parse_id(given.project_id, Kind.PROJECT) if given.project_id else None),
        phase_pk=phase_pk
        if phase_pk is not None
        else (parse_id(given.phase_id, Kind.PHASE) if given.phase_id else None),
        statuses=tuple(given.status or ()),
        priorities=tuple(given.priority or ()),
        assignee=given.assignee,
        search=given.search,
    )


def task_order(given: TaskOrderInput | None) -> dict[str, Any]:
    given = given or TaskOrderInput()
    return {"order": given.field, "descending": given.direction is OrderDirection.DESC}


@strawberry.type(name="Task")
class TaskType(Node):
    name: str
    description: str
    status: TaskStatus
    status_reason: str | None = strawberry.field(
        description="Why the task has its status (e.g. which run or dependency blocked it)."
    )
    priority: Priority
    assignee: str | None = strawberry.field(description="A user or an agent.")
    metadata: JSON
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    project_pk: strawberry.Private[int]
    phase_pk: strawberry.Private[int | None]

    @classmethod
    def from_record(cls, record: TaskRecord) -> TaskType:
        return cls(
            id=strawberry.ID(format_id(Kind.TASK, record.pk)),
            name=record.name,
            description=record.description,
            status=record.status,
            status_reason=record.status_reason,
            priority=record.priority,
            assignee=record.assignee,
            metadata=cast(JSON, record.metadata),
            created_at=record.created_at,
            updated_at=record.updated_at,
            pk=record.pk,
            project_pk=record.project_pk,
            phase_pk=record.phase_pk,
        )

    @strawberry.field
    async def project(self, info: Info) -> ProjectType:
        record = await info.context.loaders.project.load(self.project_pk)
        assert record is not None  # a task cannot outlive its project (cascade)
        return ProjectType.from_record(record)

    # Synchronous when the enclosing connection prefetched the value (see
    # ``prefetch_task_fields``), which spares graphql-core a coroutine per task; otherwise
    # they return an awaitable, which graphql-core awaits as it would an async resolver's.
    @strawberry.field
    def phase(self, info: Info) -> PhaseType | None:
        if self.phase_pk is None:
            return None
        return cast(
            PhaseType | None,
            now_or_later(info.context.loaders.phase, self.phase_pk, _phase_or_none),
        )

    @strawberry.field(description="Tasks that must be completed before this one.")
    def dependencies(self, info: Info) -> list[TaskType]:
        return cast(
            list[TaskType], now_or_later(info.context.loaders.dependencies, self.pk, _tasks)
        )

    @strawberry.field(description="Tasks waiting for this one.")
    def dependents(self, info: Info) -> list[TaskType]:
        return cast(list[TaskType], now_or_later(info.context.loaders.dependents, self.pk, _tasks))


def _phase_or_none(record: PhaseRecord | None) -> PhaseType | None:
    return PhaseType.from_record(record) if record else None


def _tasks(records: list[TaskRecord] | None) -> list[TaskType]:
    return [TaskType.from_record(record) for record in records or ()]
