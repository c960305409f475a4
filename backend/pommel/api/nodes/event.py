"""``Event``: one entry of the event log, as queries and subscriptions return it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from pommel.errors import ValidationFailed
from pommel.events.model import EventType, StoredEvent
from pommel.ids import Kind, format_id

KNOWN_TYPES = frozenset(event_type.value for event_type in EventType)


def _ref(kind: Kind, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(format_id(kind, pk))


@strawberry.type(
    name="Event",
    description=(
        "A change, as recorded in the event log. `sequence` is global and increasing: pass the "
        "last one seen as `after` to resume."
    ),
)
class EventNode:
    sequence: int
    type: str = strawberry.field(description="e.g. `task.updated`, `run.finished`.")
    at: datetime
    project_id: strawberry.ID | None
    task_id: strawberry.ID | None
    workflow_id: strawberry.ID | None
    run_id: strawberry.ID | None
    step: str | None = strawberry.field(description="The step, for step events.")
    status: str | None = strawberry.field(description="The new status, where one changed.")
    message: str
    data: JSON

    @classmethod
    def from_stored(cls, event: StoredEvent) -> EventNode:
        return cls(
            sequence=event.sequence,
            type=event.type,
            at=event.at,
            project_id=_ref(Kind.PROJECT, event.project_id),
            task_id=_ref(Kind.TASK, event.task_id),
            workflow_id=_ref(Kind.WORKFLOW, event.workflow_id),
            run_id=_ref(Kind.RUN, event.run_id),
            step=event.step,
            status=event.status,
            message=event.message,
            data=cast(JSON, event.data),
        )


def check_after(after: int | None) -> None:
    if after is not None and after < 0:
        raise ValidationFailed({"after": f"must be an event sequence, 0 or more (got {after})"})


def check_types(types: Sequence[str] | None) -> frozenset[str] | None:
    """The requested event types (None: all); ``VALIDATION_FAILED`` naming unknown ones."""
    if not types:
        return None
    unknown = sorted(set(types) - KNOWN_TYPES)
    if unknown:
        raise ValidationFailed(
            {
                "types": f"unknown event type(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(KNOWN_TYPES))}"
            }
        )
    return frozenset(types)
