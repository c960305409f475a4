"""Task dependencies: edges within one project that never form a cycle."""

from __future__ import annotations

from pommel.domain.graph import cycle_if_added
from pommel.errors import Conflict, DependencyCycle, NotFound, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.records import TaskRecord
from pommel.services.tasks import dependency_edges, get_task, get_tasks
from pommel.storage.database import Database
from pommel.storage.tables import TaskDependency


def _edge_event(kind: EventType, task: TaskRecord, depends_on: TaskRecord, verb: str) -> NewEvent:
    task_id, dep_id = format_id(Kind.TASK, task.pk), format_id(Kind.TASK, depends_on.pk)
    return NewEvent(
        kind,
        project_id=task.project_pk,
        task_id=task.pk,
        message=f"{task_id} {verb} {dep_id}",
        data={"task": task_id, "dependsOn": dep_id},
    )


async def add_dependency(db: Database, *, task_pk: int, depends_on_pk: int) -> TaskRecord:
    """Make ``task`` wait for ``depends_on``; refused when it would close a cycle."""
    async with db.write():
        tasks = await get_tasks([task_pk, depends_on_pk])
        for pk in (task_pk, depends_on_pk):
            if pk not in tasks:
                raise NotFound(f"no task '{format_id(Kind.TASK, pk)}'")
        task, depends_on = tasks[task_pk], tasks[depends_on_pk]
        if task.project_pk != depends_on.project_pk:
            raise ValidationFailed({"dependsOnId": "must be a task of the same project"})
        await db.lock(("project", task.project_pk))
        edges = await dependency_edges(task.project_pk)
        if depends_on_pk in edges.get(task_pk, []):
            task_id, dep_id = format_id(Kind.TASK, task_pk), format_id(Kind.TASK, depends_on_pk)
            raise Conflict(f"{task_id} already depends on {dep_id}")
        cycle = cycle_if_added(edges, task_pk, depends_on_pk)
        if cycle is not None:
            ids = [format_id(Kind.TASK, pk) for pk in cycle]
            raise DependencyCycle(
                "this dependency would close a cycle: " + " -> ".join(ids), cycle=ids
            )
        await TaskDependency.insert(TaskDependency(task=task_pk, depends_on=depends_on_pk))
        await event_log.append(
            db, [_edge_event(EventType.DEPENDENCY_ADDED, task, depends_on, "now depends on")]
        )
    return await get_task(task_pk)


async def remove_dependency(db: Database, *, task_pk: int, depends_on_pk: int) -> TaskRecord:
    async with db.write():
        task = await get_task(task_pk)
        depends_on = await get_task(depends_on_pk)
        existing = await TaskDependency.exists().where(
            (TaskDependency.task == task_pk) & (TaskDependency.depends_on == depends_on_pk)
        )
        if not existing:
            task_id, dep_id = format_id(Kind.TASK, task_pk), format_id(Kind.TASK, depends_on_pk)
            raise NotFound(f"{task_id} does not depend on {dep_id}")
        await TaskDependency.delete().where(
            (TaskDependency.task == task_pk) & (TaskDependency.depends_on == depends_on_pk)
        )
        await event_log.append(
            db,
            [_edge_event(EventType.DEPENDENCY_REMOVED, task, depends_on, "no longer depends on")],
        )
    return await get_task(task_pk)
