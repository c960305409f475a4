from __future__ import annotations

import random

from pommel.domain.project_schedule import ProjectSchedule, TaskNode, plan_order
from pommel.domain.status import TaskStatus

P = TaskStatus.PLANNED


def node(pk: int, *deps: int, status: TaskStatus = P, rank: int = 1) -> TaskNode:
    return TaskNode(pk=pk, label=f"task-{pk}", status=status, depends_on=deps, priority_rank=rank)


DIAMOND = [node(1), node(2, 1), node(3, 1), node(4, 2, 3)]


def test_diamond_starts_each_task_when_its_dependencies_complete() -> None:
    schedule = ProjectSchedule.start(DIAMOND)
    assert schedule.take_ready(2) == [1]
    assert schedule.take_ready(2) == []  # 2 and 3 wait for 1
    schedule.finished(1, succeeded=True)
    assert schedule.take_ready(2) == [2, 3]
    schedule.finished(3, succeeded=True)
    assert schedule.take_ready(2) == []  # 4 waits for 2 as well
    schedule.finished(2, succeeded=True)
    assert schedule.take_ready(2) == [4]
    schedule.finished(4, succeeded=True)
    assert schedule.done
    assert schedule.ok


def test_failure_blocks_transitive_dependents() -> None:
    schedule = ProjectSchedule.start(DIAMOND)
    schedule.take_ready(2)
    blocked = schedule.finished(1, succeeded=False, reason="exit 1")
    assert blocked == {
        2: "dependency task-1 failed",
        3: "dependency task-1 failed",
        4: "dependency task-1 failed",
    }
    assert schedule.done
    assert not schedule.ok
    assert schedule.failed == {1: "exit 1"}


def test_completed_and_cancelled_are_skipped() -> None:
    schedule = ProjectSchedule.start(
        [
            node(1, status=TaskStatus.COMPLETED),
            node(2, 1),
            node(3, status=TaskStatus.CANCELLED),
            node(4, 3),
            node(5, 4),
        ]
    )
    assert schedule.skipped == {1: "already completed", 3: "cancelled"}
    assert schedule.blocked == {4: "depends on cancelled task-3", 5: "depends on cancelled task-3"}
    assert schedule.take_ready(5) == [2]


def test_priority_orders_ready_tasks() -> None:
    schedule = ProjectSchedule.start([node(1, rank=0), node(2, rank=3), node(3, rank=1)])
    assert schedule.take_ready(2) == [2, 3]
    assert schedule.take_ready(2) == [1]


def test_cancel_waiting() -> None:
    schedule = ProjectSchedule.start(DIAMOND)
    schedule.take_ready(1)
    assert schedule.cancel_waiting() == [2, 3, 4]
    schedule.finished(1, succeeded=True)
    assert schedule.done


def test_plan_order_waves() -> None:
    assert plan_order(ProjectSchedule.start(DIAMOND), max_parallel=8) == [[1], [2, 3], [4]]
    assert plan_order(ProjectSchedule.start(DIAMOND), max_parallel=1) == [[1], [2], [3], [4]]


def test_a_task_that_cannot_run_blocks_its_dependents() -> None:
    schedule = ProjectSchedule.start(DIAMOND)
    assert schedule.fail_waiting(2, "no workflow") == {4: "dependency task-2 failed"}
    assert plan_order(schedule, max_parallel=8) == [[1], [3]]


def test_random_dag_runs_each_task_once_in_valid_order_within_limit() -> None:
    rng = random.Random(3)
    tasks = [
        node(pk, *rng.sample(range(1, pk), k=min(pk - 1, rng.randint(0, 3))))
        for pk in range(1, 201)
    ]
    schedule = ProjectSchedule.start(tasks)
    started: list[int] = []
    running: list[int] = []
    while not schedule.done:
        started_now = schedule.take_ready(8 - len(running))
        started.extend(started_now)
        running.extend(started_now)
        assert len(running) <= 8
        finished = running.pop(rng.randrange(len(running)))
        schedule.finished(finished, succeeded=True)
    assert sorted(started) == list(range(1, 201))
    position = {pk: i for i, pk in enumerate(started)}
    assert all(position[d] < position[t.pk] for t in tasks for d in t.depends_on)
