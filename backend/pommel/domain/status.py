"""Status values and the rules for moving between them.

Manual task transitions follow ``MANUAL_TRANSITIONS``; runs move tasks automatically through
``task_status_for_run``. Nothing here touches storage: services ask these functions and record
what they answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class TaskStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Sort key: ``critical`` first when ordering by descending rank."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}


class WorkflowType(StrEnum):
    CONTAINERIZED_WORKFLOW = "containerized_workflow"
    SCRIPT_WORKFLOW = "script_workflow"
    API_WORKFLOW = "api_workflow"
    COMPOSITE_WORKFLOW = "composite_workflow"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in _FINISHED_RUN


_FINISHED_RUN = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


# A person (or agent) may move a task along these edges. Reopening is allowed; jumping from
# cancelled straight to work is not, so a cancelled task is deliberately re-planned first.
MANUAL_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PLANNED: frozenset(
        {TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.BLOCKED, TaskStatus.CANCELLED}
    ),
    TaskStatus.IN_PROGRESS: frozenset(
        {TaskStatus.PLANNED, TaskStatus.COMPLETED, TaskStatus.BLOCKED, TaskStatus.CANCELLED}
    ),
    TaskStatus.BLOCKED: frozenset(
        {TaskStatus.PLANNED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.CANCELLED}
    ),
    TaskStatus.COMPLETED: frozenset({TaskStatus.PLANNED, TaskStatus.IN_PROGRESS}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.PLANNED}),
}

# Statuses that mean work has started or finished: they need every dependency completed.
_NEEDS_DEPENDENCIES_DONE = frozenset({TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED})


@dataclass(frozen=True)
class TransitionRefusal:
    """Why a transition is not allowed, in words a person can act on."""

    reason: str


def check_manual_transition(
    current: TaskStatus,
    target: TaskStatus,
    *,
    unfinished_dependencies: Iterable[tuple[str, TaskStatus]] = (),
) -> TransitionRefusal | None:
    """``None`` when a person may move a task from ``current`` to ``target``.

    ``unfinished_dependencies`` are ``(task id, status)`` of dependencies not yet completed.
    """
    if current == target:
        return None
    if target not in MANUAL_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in MANUAL_TRANSITIONS[current]))
        return TransitionRefusal(
            f"a {current.value} task cannot become {target.value} (allowed: {allowed})"
        )
    if target in _NEEDS_DEPENDENCIES_DONE:
        pending = [f"{task_id} ({status.value})" for task_id, status in unfinished_dependencies]
        if pending:
            return TransitionRefusal(
                f"cannot become {target.value} before its dependencies are completed: "
                + ", ".join(pending)
            )
    return None


def task_status_for_run(run_status: RunStatus, current: TaskStatus) -> TaskStatus:
    """The status a task takes when one of its workflow runs reaches ``run_status``.

    A queued run changes nothing; a cancelled run returns a task it had started to ``planned``.
    """
    if run_status is RunStatus.RUNNING:
        return TaskStatus.IN_PROGRESS
    if run_status is RunStatus.SUCCEEDED:
        return TaskStatus.COMPLETED
    if run_status is RunStatus.FAILED:
        return TaskStatus.BLOCKED
    if run_status is RunStatus.CANCELLED and current is TaskStatus.IN_PROGRESS:
        return TaskStatus.PLANNED
    return current
