"""Appending to and reading from the event log.

``append`` must run inside the caller's write transaction, so an event exists exactly when the
change it describes does. Subscribers are woken only after that transaction commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pommel.events.model import NewEvent, StoredEvent
from pommel.storage.database import Database
from pommel.storage.tables import Event


async def append(db: Database, events: Sequence[NewEvent]) -> None:
    """Append ``events`` in the current write transaction (one INSERT for the batch)."""
    if not events:
        return
    await db.lock_event_log()
    await Event.insert(
        *(
            Event(
                type=event.type.value,
                project_id=event.project_id,
                task_id=event.task_id,
                workflow_id=event.workflow_id,
                run_id=event.run_id,
                step=event.step,
                status=event.status,
                message=event.message,
                data=json.dumps(event.data, default=str),
            )
            for event in events
        )
    ).run()
    db.mark_events_written()


def _stored(row: dict[str, Any]) -> StoredEvent:
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    return StoredEvent(
        sequence=row["sequence"],
        type=row["type"],
        at=row["at"],
        project_id=row["project_id"],
        task_id=row["task_id"],
        workflow_id=row["workflow_id"],
        run_id=row["run_id"],
        step=row["step"],
        status=row["status"],
        message=row["message"],
        data=data if isinstance(data, dict) else {},
    )


async def read_after(
    *,
    after: int,
    limit: int = 500,
    run_id: int | None = None,
    project_id: int | None = None,
    types: Iterable[str] | None = None,
) -> list[StoredEvent]:
    """Events with ``sequence > after`` in order, optionally narrowed to a run, project or types."""
    query = Event.select().where(Event.sequence > after)
    if run_id is not None:
        query = query.where(Event.run_id == run_id)
    if project_id is not None:
        query = query.where(Event.project_id == project_id)
    type_list = list(types or ())
    if type_list:
        query = query.where(Event.type.is_in(type_list))
    rows = await query.order_by(Event.sequence).limit(limit).output(load_json=True).run()
    return [_stored(row) for row in rows]


async def latest_sequence() -> int:
    """The highest sequence committed so far (0 for an empty log)."""
    rows = await Event.select(Event.sequence).order_by(Event.sequence, ascending=False).limit(1)
    return int(rows[0]["sequence"]) if rows else 0
