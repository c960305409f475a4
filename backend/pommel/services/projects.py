"""Projects: create, update, delete, read and list."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pommel.errors import NotFound
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.pagination import Page, fetch_page
from pommel.services.records import ProjectRecord
from pommel.services.text_search import contains_text
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import Project


async def get_project(pk: int) -> ProjectRecord:
    row = await Project.select().where(Project.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no project '{format_id(Kind.PROJECT, pk)}'")
    return ProjectRecord.from_row(row)


async def get_projects(pks: list[int]) -> dict[int, ProjectRecord]:
    """Projects by primary key, in one query (missing ones are absent)."""
    if not pks:
        return {}
    rows = await Project.select().where(Project.id.is_in(pks)).output(load_json=True)
    return {row["id"]: ProjectRecord.from_row(row) for row in rows}


async def list_projects(
    *, first: int | None, after: str | None, search: str | None = None
) -> Page[ProjectRecord]:
    query = Project.select()
    count_query = Project.count()
    if search:
        condition = contains_text([Project.name, Project.description], search)
        query = query.where(condition)
        count_query = count_query.where(condition)
    return await fetch_page(
        query,
        order=[(Project.id, "id")],
        first=first,
        after=after,
        descending=False,
        convert=ProjectRecord.from_row,
        count=count_query.run,
    )


async def create_project(
    db: Database, *, name: str, description: str | None = None, metadata: Any = None
) -> ProjectRecord:
    errors = FieldErrors()
    clean_name = errors.name("name", name)
    errors.text("description", description)
    meta = errors.json_object("metadata", metadata)
    errors.raise_if_any()
    async with db.write():
        rows = await Project.insert(
            Project(
                name=clean_name,
                description=description or "",
                metadata=json.dumps(meta or {}),
            )
        ).returning(Project.id)
        pk = rows[0]["id"]
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.PROJECT_CREATED,
                    project_id=pk,
                    message=f"project '{clean_name}' created",
                )
            ],
        )
    return await get_project(pk)


async def update_project(
    db: Database,
    *,
    pk: int,
    name: str | None = None,
    description: str | None = None,
    metadata: Any = None,
) -> ProjectRecord:
    errors = FieldErrors()
    changes: dict[Any, Any] = {}
    if name is not None:
        changes[Project.name] = errors.name("name", name)
    if description is not None:
        changes[Project.description] = errors.text("description", description)
    if metadata is not None:
        changes[Project.metadata] = json.dumps(errors.json_object("metadata", metadata))
    errors.raise_if_any()
    async with db.write():
        await get_project(pk)
        if changes:
            changes[Project.updated_at] = datetime.now(UTC)
            await Project.update(changes).where(Project.id == pk)
            await event_log.append(
                db,
                [
                    NewEvent(
                        EventType.PROJECT_UPDATED,
                        project_id=pk,
                        message="project updated",
                        data={"fields": sorted(c._meta.name for c in changes)},
                    )
                ],
            )
    return await get_project(pk)


async def delete_project(db: Database, *, pk: int) -> ProjectRecord:
    """Delete a project with its phases, tasks, dependencies, workflows and runs."""
    async with db.write():
        project = await get_project(pk)
        await Project.delete().where(Project.id == pk)
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.PROJECT_DELETED,
                    project_id=pk,
                    message=f"project '{project.name}' deleted",
                )
            ],
        )
    return project
