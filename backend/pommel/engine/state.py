"""The in-memory state of a run being executed, and the rows it is written as.

The runner owns these while it executes a run: it changes them, then hands a snapshot of the
rows to the journal. Nothing here does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pommel.domain.status import RunStatus, StepStatus
from pommel.domain.template import StepOutcome
from pommel.ids import Kind, format_id
from pommel.services.run_events import RunIds
from pommel.services.run_records import RunRecord, StepRecord

FINISHED_STEP = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)


def now() -> datetime:
    return datetime.now(UTC)


def millis(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


@dataclass
class StepState:
    name: str
    position: int
    kind: str
    status: StepStatus = StepStatus.PENDING
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    cached: bool = False
    cache_key: str | None = None
    error: str | None = None
    child_run: int | None = None
    reused_from: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_record(cls, record: StepRecord) -> StepState:
        return cls(
            name=record.name,
            position=record.position,
            kind=record.kind,
            status=record.status,
            exit_code=record.exit_code,
            stdout=record.stdout,
            stderr=record.stderr,
            outputs={k: str(v) for k, v in (record.outputs or {}).items()},
            attempts=record.attempts,
            cached=record.cached,
            cache_key=record.cache_key,
            error=record.error,
            child_run=record.child_run_pk,
            reused_from=record.reused_from_pk,
            started_at=record.started_at,
            finished_at=record.finished_at,
        )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STEP

    def outcome(self) -> StepOutcome:
        return StepOutcome(
            status=self.status.value,
            exit_code=self.exit_code,
            output=self.stdout,
            outputs=dict(self.outputs),
        )

    def row(self, run_pk: int) -> dict[str, Any]:
        """Every column of the step's row (the journal upserts it by run and name)."""
        return {
            "run": run_pk,
            "name": self.name,
            "position": self.position,
            "kind": self.kind,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "outputs": json.dumps(self.outputs),
            "attempts": self.attempts,
            "cached": self.cached,
            "cache_key": self.cache_key,
            "error": self.error,
            "child_run": self.child_run,
            "reused_from": self.reused_from,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass
class RunState:
    """The run's identity and the columns the executing worker owns."""

    pk: int
    workflow_pk: int
    task_pk: int
    project_pk: int
    parent_pk: int | None
    project_run_pk: int | None
    definition: dict[str, Any]
    skip_cache: bool
    status: RunStatus
    resumed: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    executor: str | None = None
    executor_note: str | None = None

    @classmethod
    def from_record(cls, record: RunRecord) -> RunState:
        return cls(
            pk=record.pk,
            workflow_pk=record.workflow_pk,
            task_pk=record.task_pk,
            project_pk=record.project_pk,
            parent_pk=record.parent_run_pk,
            project_run_pk=record.project_run_pk,
            definition=record.definition,
            skip_cache=record.skip_cache,
            status=record.status,
            resumed=record.resumed,
            started_at=record.started_at,
            finished_at=record.finished_at,
            outputs=dict(record.outputs),
            error=record.error,
            executor=record.executor,
            executor_note=record.executor_note,
        )

    @property
    def label(self) -> str:
        return format_id(Kind.RUN, self.pk)

    @property
    def ids(self) -> RunIds:
        return RunIds(self.pk, self.task_pk, self.project_pk, self.workflow_pk)

    @property
    def duration_ms(self) -> int | None:
        return millis(self.started_at, self.finished_at)

    def row(self) -> dict[str, Any]:
        """The identity columns and every worker-owned column (the journal upserts by id)."""
        return {
            "id": self.pk,
            "workflow": self.workflow_pk,
            "task": self.task_pk,
            "project": self.project_pk,
            "status": self.status.value,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
            "outputs": json.dumps(self.outputs, default=str),
            "error": self.error,
            "executor": self.executor,
            "executor_note": self.executor_note,
            "heartbeat_at": now(),
        }
