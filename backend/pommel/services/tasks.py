"""Tasks: create, update (with the status rules of ``pommel.domain.status``), delete, list."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from piccolo.columns import Column

from pommel.domain.status import (
    Priority,
    RunStatus,
    TaskStatus,
    check_manual_transition,
    task_status_for_run,
)
from pommel.errors import InvalidTransition, NotFound, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.pagination import Page, fetch_page
from pommel.services.phases import get_phase
from pommel.services.projects import get_project
from pommel.services.records import TaskRecord
from pommel.services.text_search import contains_text
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import Task, TaskDependency


class TaskOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    PRIORITY = "priority"
    STATUS = "status"


@dataclass(frozen=True)
class TaskFilter:
    project_pk: int | None = None
    phase_pk: int | None = None
    statuses: Sequence[TaskStatus] = ()
    priorities: Sequence[Priority] = ()
    assignee: str | None = None
    search: str | None = None


async def get_task(pk: int) -> TaskRecord:
    row = await Task.select().where(Task.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no task '{format_id(Kind.TASK, pk)}'")
    return TaskRecord.from_row(row)


async def get_tasks(pks: Sequence[int]) -> dict[int, TaskRecord]:
    if not pks:
        return {}
    rows = await Task.select().where(Task.id.is_in(list(pks))).output(load_json=True)
    return {row["id"]: TaskRecord.from_row(row) for row in rows}


def _order_columns(field: TaskOrderField) -> list[tuple[Column, str]]:
    column: dict[TaskOrderField, tuple[Column, str]] = {
        TaskOrderField.UPDATED_AT: (Task.updated_at, "updated_at"),
        TaskOrderField.NAME: (Task.name, "name"),
        TaskOrderField.PRIORITY: (Task.priority_rank, "priority_rank"),
        TaskOrderField.STATUS: (Task.status, "status"),
    }
    if field is TaskOrderField.CREATED_AT:
        return [(Task.id, "id")]  # ids grow with creation time and are unique
    return [column[field], (Task.id, "id")]


async def list_tasks(
    *,
    filter: TaskFilter,
    first: int | None,
    after: str | None,
    order: TaskOrderField = TaskOrderField.CREATED_AT,
    descending: bool = False,
) -> Page[TaskRecord]:
    conditions: list[Any] = []
    if filter.project_pk is not None:
        conditions.append(Task.project == filter.project_pk)
    if filter.phase_pk is not None:
        conditions.append(Task.phase == filter.phase_pk)
    if filter.statuses:
        conditions.append(Task.status.is_in([s.value for s in filter.statuses]))
    if filter.priorities:
        conditions.append(Task.priority.is_in([p.value for p in filter.priorities]))
    if filter.assignee is not None:
        conditions.append(Task.assignee == filter.assignee)
    if filter.search:
        conditions.append(contains_text([Task.name, Task.description], filter.search))
    query = Task.select()
    count_query = Task.count()
    for condition in conditions:
        query = query.where(condition)
        count_query = count_query.where(condition)
    return await fetch_page(
        query,
        order=_order_columns(order),
        first=first,
        after=after,
        descending=descending,
        convert=TaskRecord.from_row,
        count=count_query.run,
    )


async def dependency_edges(project_pk: int) -> dict[int, list[int]]:
    """``task -> the tasks it depends on`` for every task of a project (one query)."""
    rows = await TaskDependency.select(TaskDependency.task, TaskDependency.depends_on).where(
        TaskDependency.task.project == project_pk
    )
    edges: dict[int, list[int]] = {}
    for row in rows:
        edges.setdefault(row["task"], []).append(row["depends_on"])
    return edges


async def dependencies_of(task_pks: Sequence[int]) -> dict[int, list[TaskRecord]]:
    """The tasks each task depends on, in one query."""
    return await _related(task_pks, from_column="task", to_column="depends_on")


async def dependents_of(task_pks: Sequence[int]) -> dict[int, list[TaskRecord]]:
    """The tasks that depend on each task, in one query."""
    return await _related(task_pks, from_column="depends_on", to_column="task")


async def _related(
    task_pks: Sequence[int], *, from_column: str, to_column: str
) -> dict[int, list[TaskRecord]]:
    found: dict[int, list[TaskRecord]] = {pk: [] for pk in task_pks}
    if not task_pks:
        return found
    source = getattr(TaskDependency, from_column)
    target = getattr(TaskDependency, to_column)
    # The joined task's columns under their own names: flat rows that ``TaskRecord.from_row``
    # reads as they are (``nested=True`` costs more per row than the query itself).
    columns = [column.as_alias(column._meta.name) for column in target.all_columns()]
    rows = (
        await TaskDependency.select(source.as_alias("source"), *columns)
        .where(source.is_in(list(task_pks)))
        .order_by(target)
        .output(load_json=True)
    )
    for row in rows:
        found[row["source"]].append(TaskRecord.from_row(row))
    return found


async def _unfinished_dependencies(pk: int) -> list[tuple[str, TaskStatus]]:
    deps = (await dependencies_of([pk]))[pk]
    return [
        (format_id(Kind.TASK, dep.pk), dep.status)
        for dep in deps
        if dep.status is not TaskStatus.COMPLETED
    ]


def _task_event(kind: EventType, task: TaskRecord, message: str, **data: Any) -> NewEvent:
    return NewEvent(
        kind,
        project_id=task.project_pk,
        task_id=task.pk,
        status=task.status.value,
        message=message,
        data={"task": format_id(Kind.TASK, task.pk), **data},
    )


async def create_task(
    db: Database,
    *,
    project_pk: int,
    name: str,
    description: str | None = None,
    phase_pk: int | None = None,
    status: TaskStatus = TaskStatus.PLANNED,
    priority: Priority = Priority.MEDIUM,
    assignee: str | None = None,
    metadata: Any = None,
    depends_on: Sequence[int] = (),
) -> TaskRecord:
    errors = FieldErrors()
    clean_name = errors.name("name", name)
    errors.text("description", description)
    clean_assignee = errors.name("assignee", assignee, required=False) if assignee else None
    meta = errors.json_object("metadata", metadata)
    errors.raise_if_any()
    async with db.write():
        await get_project(project_pk)
        if phase_pk is not None:
            phase = await get_phase(phase_pk)
            if phase.project_pk != project_pk:
                raise ValidationFailed({"phaseId": "belongs to another project"})
        deps = await get_tasks(depends_on)
        for dep_pk in depends_on:
            dep = deps.get(dep_pk)
            if dep is None:
                raise NotFound(f"no task '{format_id(Kind.TASK, dep_pk)}'")
            if dep.project_pk != project_pk:
                raise ValidationFailed(
                    {"dependsOn": f"{format_id(Kind.TASK, dep_pk)} is in another project"}
                )
        if status is not TaskStatus.PLANNED:
            unfinished = [
                (format_id(Kind.TASK, d.pk), d.status)
                for d in deps.values()
                if d.status is not TaskStatus.COMPLETED
            ]
            refusal = check_manual_transition(
                TaskStatus.PLANNED, status, unfinished_dependencies=unfinished
            )
            if refusal:
                raise InvalidTransition(f"new task: {refusal.reason}")
        rows = await Task.insert(
            Task(
                project=project_pk,
                phase=phase_pk,
                name=clean_name,
                description=description or "",
                status=status.value,
                priority=priority.value,
                priority_rank=priority.rank,
                assignee=clean_assignee,
                metadata=json.dumps(meta or {}),
            )
        ).returning(Task.id)
        pk = rows[0]["id"]
        if depends_on:
            await TaskDependency.insert(
                *(
                    TaskDependency(task=pk, depends_on=dep_pk)
                    for dep_pk in dict.fromkeys(depends_on)
                )
            )
        task = await get_task(pk)
        await event_log.append(
            db, [_task_event(EventType.TASK_CREATED, task, f"task '{task.name}' created")]
        )
    return task


async def update_task(
    db: Database,
    *,
    pk: int,
    name: str | None = None,
    description: str | None = None,
    phase_pk: int | None = None,
    clear_phase: bool = False,
    status: TaskStatus | None = None,
    status_reason: str | None = None,
    priority: Priority | None = None,
    assignee: str | None = None,
    clear_assignee: bool = False,
    metadata: Any = None,
) -> TaskRecord:
    """Change the given fields; a status change must be an allowed manual transition."""
    errors = FieldErrors()
    changes: dict[Any, Any] = {}
    if name is not None:
        changes[Task.name] = errors.name("name", name)
    if description is not None:
        changes[Task.description] = errors.text("description", description)
    if assignee is not None:
        changes[Task.assignee] = errors.name("assignee", assignee)
    elif clear_assignee:
        changes[Task.assignee] = None
    if metadata is not None:
        changes[Task.metadata] = json.dumps(errors.json_object("metadata", metadata))
    if priority is not None:
        changes[Task.priority] = priority.value
        changes[Task.priority_rank] = priority.rank
    errors.text("statusReason", status_reason, limit=2000)
    errors.raise_if_any()
    async with db.write():
        task = await get_task(pk)
        if phase_pk is not None:
            phase = await get_phase(phase_pk)
            if phase.project_pk != task.project_pk:
                raise ValidationFailed({"phaseId": "belongs to another project"})
            changes[Task.phase] = phase_pk
        elif clear_phase:
            changes[Task.phase] = None
        events: list[NewEvent] = []
        if status is not None and status is not task.status:
            refusal = check_manual_transition(
                task.status, status, unfinished_dependencies=await _unfinished_dependencies(pk)
            )
            if refusal:
                raise InvalidTransition(f"{format_id(Kind.TASK, pk)}: {refusal.reason}")
            changes[Task.status] = status.value
            changes[Task.status_reason] = status_reason
        elif status_reason is not None:
            changes[Task.status_reason] = status_reason
        if not changes:
            return task
        changes[Task.updated_at] = datetime.now(UTC)
        await Task.update(changes).where(Task.id == pk)
        updated = await get_task(pk)
        events.append(
            _task_event(
                EventType.TASK_UPDATED,
                updated,
                f"task '{updated.name}' updated",
                fields=sorted(c._meta.name for c in changes if c is not Task.updated_at),
            )
        )
        if updated.status is not task.status:
            events.append(_status_event(task, updated))
        await event_log.append(db, events)
    return updated


def _status_event(before: TaskRecord, after: TaskRecord) -> NewEvent:
    reason = f": {after.status_reason}" if after.status_reason else ""
    return _task_event(
        EventType.TASK_STATUS_CHANGED,
        after,
        f"task '{after.name}' {before.status.value} -> {after.status.value}{reason}",
        previous=before.status.value,
        reason=after.status_reason,
    )


async def apply_run_status(
    db: Database, *, pk: int, run_status: RunStatus, reason: str | None = None
) -> TaskRecord:
    """Move a task as one of its runs reached ``run_status`` (inside the run's transaction)."""
    async with db.write():
        task = await get_task(pk)
        target = task_status_for_run(run_status, task.status)
        if target is task.status and reason == task.status_reason:
            return task
        await Task.update(
            {
                Task.status: target.value,
                Task.status_reason: reason,
                Task.updated_at: datetime.now(UTC),
            }
        ).where(Task.id == pk)
        updated = await get_task(pk)
        if updated.status is not task.status:
            await event_log.append(db, [_status_event(task, updated)])
    return updated


async def delete_task(db: Database, *, pk: int) -> TaskRecord:
    """Delete a task with its dependency edges, workflows and runs."""
    async with db.write():
        task = await get_task(pk)
        await Task.delete().where(Task.id == pk)
        await event_log.append(
            db, [_task_event(EventType.TASK_DELETED, task, f"task '{task.name}' deleted")]
        )
    return task


async def block_tasks(db: Database, *, reasons: dict[int, str]) -> None:
    """Mark tasks ``blocked`` with a reason each (project execution: a dependency failed)."""
    if not reasons:
        return
    async with db.write():
        before = await get_tasks(list(reasons))
        now = datetime.now(UTC)
        events = []
        for pk, reason in reasons.items():
            task = before.get(pk)
            if task is None or task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
                continue
            await Task.update(
                {
                    Task.status: TaskStatus.BLOCKED.value,
                    Task.status_reason: reason,
                    Task.updated_at: now,
                }
            ).where(Task.id == pk)
            after = dataclasses.replace(task, status=TaskStatus.BLOCKED, status_reason=reason)
            if task.status is not TaskStatus.BLOCKED or task.status_reason != reason:
                events.append(_status_event(task, after))
        await event_log.append(db, events)


def blocked_by_reason(dependency_pk: int) -> str:
    """The reason recorded on tasks blocked because ``dependency_pk`` failed."""
    return f"dependency {format_id(Kind.TASK, dependency_pk)} failed"


async def unblock_dependents(db: Database, *, pk: int) -> list[int]:
    """A task's run succeeded: tasks blocked (directly or transitively) only because it had
    failed go back to ``planned``."""
    reason = blocked_by_reason(pk)
    # Most successful runs unblock nothing: check before taking the write lock.
    blocked = await Task.exists().where(
        (Task.status == TaskStatus.BLOCKED.value) & (Task.status_reason == reason)
    )
    if not blocked:
        return []
    async with db.write():
        rows = (
            await Task.select()
            .where(Task.status == TaskStatus.BLOCKED.value)
            .where(Task.status_reason == reason)
            .output(load_json=True)
        )
        waiting = [TaskRecord.from_row(row) for row in rows]
        if not waiting:
            return []
        now = datetime.now(UTC)
        await Task.update(
            {Task.status: TaskStatus.PLANNED.value, Task.status_reason: None, Task.updated_at: now}
        ).where(Task.id.is_in([t.pk for t in waiting]))
        await event_log.append(
            db,
            [
                _status_event(
                    t, dataclasses.replace(t, status=TaskStatus.PLANNED, status_reason=None)
                )
                for t in waiting
            ],
        )
    return [t.pk for t in waiting]
