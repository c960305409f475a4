"""Typed, immutable records that services return (rows of the tables, decoded)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pommel.domain.status import Priority, TaskStatus


def load_json_object(value: Any) -> dict[str, Any]:
    """A JSON column's value as a dict (Piccolo may hand back text)."""
    if isinstance(value, str):
        value = json.loads(value) if value else {}
    return value if isinstance(value, dict) else {}


def load_json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value) if value else []
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class ProjectRecord:
    pk: int
    name: str
    description: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProjectRecord:
        return cls(
            pk=row["id"],
            name=row["name"],
            description=row["description"],
            metadata=load_json_object(row["metadata"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True)
class PhaseRecord:
    pk: int
    project_pk: int
    name: str
    description: str
    position: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PhaseRecord:
        return cls(
            pk=row["id"],
            project_pk=row["project"],
            name=row["name"],
            description=row["description"],
            position=row["position"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True)
class TaskRecord:
    pk: int
    project_pk: int
    phase_pk: int | None
    name: str
    description: str
    status: TaskStatus
    priority: Priority
    assignee: str | None
    metadata: dict[str, Any]
    status_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TaskRecord:
        return cls(
            pk=row["id"],
            project_pk=row["project"],
            phase_pk=row["phase"],
            name=row["name"],
            description=row["description"],
            status=TaskStatus(row["status"]),
            priority=Priority(row["priority"]),
            assignee=row["assignee"],
            metadata=load_json_object(row["metadata"]),
            status_reason=row["status_reason"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True)
class WorkflowRecord:
    pk: int
    project_pk: int
    task_pk: int
    name: str
    type: str
    template_id: str | None
    parameters: dict[str, Any]
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WorkflowRecord:
        return cls(
            pk=row["id"],
            project_pk=row["project"],
            task_pk=row["task"],
            name=row["name"],
            type=row["type"],
            template_id=row["template_id"],
            parameters=load_json_object(row["parameters"]),
            definition=load_json_object(row["definition"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
