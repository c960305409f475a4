"""Event types and the shape of an event, as stored and as published."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_DELETED = "project.deleted"
    PHASE_CREATED = "phase.created"
    PHASE_UPDATED = "phase.updated"
    PHASE_DELETED = "phase.deleted"
    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_STATUS_CHANGED = "task.status_changed"
    TASK_DELETED = "task.deleted"
    DEPENDENCY_ADDED = "task.dependency_added"
    DEPENDENCY_REMOVED = "task.dependency_removed"
    TEMPLATE_CREATED = "template.created"
    TEMPLATE_UPDATED = "template.updated"
    TEMPLATE_DELETED = "template.deleted"
    WORKFLOW_CREATED = "workflow.created"
    RUN_QUEUED = "run.queued"
    RUN_STARTED = "run.started"
    RUN_RESUMED = "run.resumed"
    RUN_CANCEL_REQUESTED = "run.cancel_requested"
    RUN_FINISHED = "run.finished"
    STEP_STARTED = "step.started"
    STEP_LOG = "step.log"
    STEP_FINISHED = "step.finished"
    PROJECT_RUN_STARTED = "project_run.started"
    PROJECT_RUN_FINISHED = "project_run.finished"


@dataclass(frozen=True)
class NewEvent:
    """An event to append; ids are primary keys (the API formats them)."""

    type: EventType
    project_id: int | None = None
    task_id: int | None = None
    workflow_id: int | None = None
    run_id: int | None = None
    step: str | None = None
    status: str | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the log."""

    sequence: int
    type: str
    at: datetime
    project_id: int | None
    task_id: int | None
    workflow_id: int | None
    run_id: int | None
    step: str | None
    status: str | None
    message: str
    data: dict[str, Any]
