from __future__ import annotations

import pytest

from pommel.domain.status import (
    MANUAL_TRANSITIONS,
    RunStatus,
    TaskStatus,
    check_manual_transition,
    task_status_for_run,
)


def test_every_status_has_rules_and_staying_is_allowed() -> None:
    assert set(MANUAL_TRANSITIONS) == set(TaskStatus)
    for status in TaskStatus:
        assert check_manual_transition(status, status) is None


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (TaskStatus.CANCELLED, TaskStatus.IN_PROGRESS),
        (TaskStatus.CANCELLED, TaskStatus.COMPLETED),
        (TaskStatus.COMPLETED, TaskStatus.BLOCKED),
        (TaskStatus.COMPLETED, TaskStatus.CANCELLED),
    ],
)
def test_refused_transitions_say_what_is_allowed(current: TaskStatus, target: TaskStatus) -> None:
    refusal = check_manual_transition(current, target)
    assert refusal is not None
    assert "allowed:" in refusal.reason


def test_starting_needs_completed_dependencies() -> None:
    refusal = check_manual_transition(
        TaskStatus.PLANNED,
        TaskStatus.IN_PROGRESS,
        unfinished_dependencies=[("task-1", TaskStatus.BLOCKED)],
    )
    assert refusal is not None and "task-1 (blocked)" in refusal.reason
    assert (
        check_manual_transition(
            TaskStatus.PLANNED,
            TaskStatus.BLOCKED,
            unfinished_dependencies=[("task-1", TaskStatus.PLANNED)],
        )
        is None
    )


def test_run_driven_status() -> None:
    assert task_status_for_run(RunStatus.RUNNING, TaskStatus.PLANNED) is TaskStatus.IN_PROGRESS
    assert task_status_for_run(RunStatus.SUCCEEDED, TaskStatus.IN_PROGRESS) is TaskStatus.COMPLETED
    assert task_status_for_run(RunStatus.FAILED, TaskStatus.IN_PROGRESS) is TaskStatus.BLOCKED
    assert task_status_for_run(RunStatus.CANCELLED, TaskStatus.IN_PROGRESS) is TaskStatus.PLANNED
    assert task_status_for_run(RunStatus.CANCELLED, TaskStatus.COMPLETED) is TaskStatus.COMPLETED
    assert task_status_for_run(RunStatus.QUEUED, TaskStatus.BLOCKED) is TaskStatus.BLOCKED
