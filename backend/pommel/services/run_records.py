"""Records of workflow runs, their steps and log lines, as services return them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pommel.domain.status import RunStatus, StepStatus
from pommel.services.records import load_json_object


@dataclass(frozen=True)
class RunRecord:
    pk: int
    workflow_pk: int
    task_pk: int
    project_pk: int
    project_run_pk: int | None
    parent_run_pk: int | None
    retry_of_pk: int | None
    status: RunStatus
    trigger: str
    template_id: str | None
    skip_cache: bool
    parameters: dict[str, Any]
    definition: dict[str, Any]
    outputs: dict[str, Any]
    error: str | None
    executor: str | None
    executor_note: str | None
    resumed: int
    cancel_requested: bool
    claimed_by: str | None
    heartbeat_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        return cls(
            pk=row["id"],
            workflow_pk=row["workflow"],
            task_pk=row["task"],
            project_pk=row["project"],
            project_run_pk=row["project_run"],
            parent_run_pk=row["parent_run"],
            retry_of_pk=row["retry_of"],
            status=RunStatus(row["status"]),
            trigger=row["trigger"],
            template_id=row["template_id"],
            skip_cache=bool(row["skip_cache"]),
            parameters=load_json_object(row["parameters"]),
            definition=load_json_object(row["definition"]),
            outputs=load_json_object(row["outputs"]),
            error=row["error"],
            executor=row["executor"],
            executor_note=row["executor_note"],
            resumed=row["resumed"] or 0,
            cancel_requested=bool(row["cancel_requested"]),
            claimed_by=row["claimed_by"],
            heartbeat_at=row["heartbeat_at"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            duration_ms=row["duration_ms"],
        )

    @property
    def step_definitions(self) -> list[dict[str, Any]]:
        steps = self.definition.get("steps")
        return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


@dataclass(frozen=True)
class StepRecord:
    """A step of a run. Steps that have not started yet have no row: they are ``pending``."""

    run_pk: int
    name: str
    position: int
    kind: str
    status: StepStatus
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, Any] | None = None
    attempts: int = 0
    cached: bool = False
    cache_key: str | None = None
    error: str | None = None
    child_run_pk: int | None = None
    reused_from_pk: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StepRecord:
        return cls(
            run_pk=row["run"],
            name=row["name"],
            position=row["position"],
            kind=row["kind"],
            status=StepStatus(row["status"]),
            exit_code=row["exit_code"],
            stdout=row["stdout"] or "",
            stderr=row["stderr"] or "",
            outputs=load_json_object(row["outputs"]),
            attempts=row["attempts"] or 0,
            cached=bool(row["cached"]),
            cache_key=row["cache_key"],
            error=row["error"],
            child_run_pk=row["child_run"],
            reused_from_pk=row["reused_from"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
        )

    @classmethod
    def pending(cls, run_pk: int, position: int, step: dict[str, Any]) -> StepRecord:
        return cls(
            run_pk=run_pk,
            name=str(step.get("name", "")),
            position=position,
            kind=str(step.get("kind", "container")),
            status=StepStatus.PENDING,
            outputs={},
        )

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


@dataclass(frozen=True)
class LogRecord:
    pk: int
    run_pk: int
    step: str
    stream: str
    text: str
    at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LogRecord:
        return cls(
            pk=row["id"],
            run_pk=row["run"],
            step=row["step"],
            stream=row["stream"],
            text=row["text"],
            at=row["at"],
        )
