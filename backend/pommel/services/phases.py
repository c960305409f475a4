"""Phases: the ordered stages of a project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pommel.errors import NotFound, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.projects import get_project
from pommel.services.records import PhaseRecord
from pommel.services.validation import FieldErrors
from pommel.storage.database import Database
from pommel.storage.tables import Phase


async def get_phase(pk: int) -> PhaseRecord:
    row = await Phase.select().where(Phase.id == pk).first()
    if row is None:
        raise NotFound(f"no phase '{format_id(Kind.PHASE, pk)}'")
    return PhaseRecord.from_row(row)


async def get_phases(pks: list[int]) -> dict[int, PhaseRecord]:
    if not pks:
        return {}
    rows = await Phase.select().where(Phase.id.is_in(pks))
    return {row["id"]: PhaseRecord.from_row(row) for row in rows}


async def phases_of_projects(project_pks: list[int]) -> dict[int, list[PhaseRecord]]:
    """Each project's phases in order, in one query."""
    found: dict[int, list[PhaseRecord]] = {pk: [] for pk in project_pks}
    if not project_pks:
        return found
    rows = (
        await Phase.select()
        .where(Phase.project.is_in(project_pks))
        .order_by(Phase.project)
        .order_by(Phase.position)
        .order_by(Phase.id)
    )
    for row in rows:
        found[row["project"]].append(PhaseRecord.from_row(row))
    return found


async def _renumber(project_pk: int, ordered_pks: list[int]) -> None:
    for position, pk in enumerate(ordered_pks):
        await Phase.update({Phase.position: position}).where(
            (Phase.id == pk) & (Phase.project == project_pk)
        )


async def _ordered_pks(project_pk: int) -> list[int]:
    phases = (await phases_of_projects([project_pk]))[project_pk]
    return [phase.pk for phase in phases]


def _check_position(position: int | None, count: int) -> None:
    if position is not None and not 0 <= position <= count:
        raise ValidationFailed({"position": f"must be between 0 and {count} (got {position})"})


async def create_phase(
    db: Database,
    *,
    project_pk: int,
    name: str,
    description: str | None = None,
    position: int | None = None,
) -> PhaseRecord:
    """Add a phase at ``position`` (0-based; default: last), shifting later phases."""
    errors = FieldErrors()
    clean_name = errors.name("name", name)
    errors.text("description", description)
    errors.raise_if_any()
    async with db.write():
        await get_project(project_pk)
        ordered = await _ordered_pks(project_pk)
        _check_position(position, len(ordered))
        rows = await Phase.insert(
            Phase(
                project=project_pk,
                name=clean_name,
                description=description or "",
                position=len(ordered),
            )
        ).returning(Phase.id)
        pk = rows[0]["id"]
        if position is not None:
            ordered.insert(position, pk)
            await _renumber(project_pk, ordered)
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.PHASE_CREATED,
                    project_id=project_pk,
                    message=f"phase '{clean_name}' created",
                    data={"phase": format_id(Kind.PHASE, pk)},
                )
            ],
        )
    return await get_phase(pk)


async def update_phase(
    db: Database,
    *,
    pk: int,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
) -> PhaseRecord:
    errors = FieldErrors()
    changes: dict[Any, Any] = {}
    if name is not None:
        changes[Phase.name] = errors.name("name", name)
    if description is not None:
        changes[Phase.description] = errors.text("description", description)
    errors.raise_if_any()
    async with db.write():
        phase = await get_phase(pk)
        if position is not None:
            ordered = await _ordered_pks(phase.project_pk)
            _check_position(position, len(ordered) - 1)
            ordered.remove(pk)
            ordered.insert(position, pk)
            await _renumber(phase.project_pk, ordered)
        if changes:
            changes[Phase.updated_at] = datetime.now(UTC)
            await Phase.update(changes).where(Phase.id == pk)
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.PHASE_UPDATED,
                    project_id=phase.project_pk,
                    message=f"phase '{phase.name}' updated",
                    data={"phase": format_id(Kind.PHASE, pk)},
                )
            ],
        )
    return await get_phase(pk)


async def delete_phase(db: Database, *, pk: int) -> PhaseRecord:
    """Delete a phase; its tasks stay in the project, without a phase."""
    async with db.write():
        phase = await get_phase(pk)
        await Phase.delete().where(Phase.id == pk)
        await _renumber(phase.project_pk, await _ordered_pks(phase.project_pk))
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.PHASE_DELETED,
                    project_id=phase.project_pk,
                    message=f"phase '{phase.name}' deleted",
                    data={"phase": format_id(Kind.PHASE, pk)},
                )
            ],
        )
    return phase
