"""Which task of a project runs when: the pure state machine behind project execution.

A task starts as soon as every task it depends on is completed (not in waves); tasks already
completed or cancelled are not run; when a task fails, every task depending on it, directly or
not, is blocked instead of started. The caller owns time and I/O: it asks ``take_ready`` for
tasks to start and reports each outcome with ``finished``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pommel.domain.graph import topological_order
from pommel.domain.status import TaskStatus


@dataclass(frozen=True)
class TaskNode:
    """What the schedule needs to know about one task."""

    pk: int
    label: str  # public id, used in reasons
    status: TaskStatus
    depends_on: tuple[int, ...]
    priority_rank: int = 1


@dataclass
class ProjectSchedule:
    """The evolving schedule of one project run."""

    tasks: Mapping[int, TaskNode]
    skipped: dict[int, str] = field(default_factory=dict)
    waiting: set[int] = field(default_factory=set)
    running: set[int] = field(default_factory=set)
    succeeded: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    blocked: dict[int, str] = field(default_factory=dict)
    _order: dict[int, int] = field(default_factory=dict)
    _dependents: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def start(cls, tasks: Iterable[TaskNode]) -> ProjectSchedule:
        """A schedule for ``tasks``; completed/cancelled ones are skipped up front."""
        by_pk = {task.pk: task for task in tasks}
        schedule = cls(tasks=by_pk)
        edges = {pk: [d for d in task.depends_on if d in by_pk] for pk, task in by_pk.items()}
        order = topological_order(by_pk, edges)
        schedule._order = {pk: index for index, pk in enumerate(order)}
        for pk, deps in edges.items():
            for dep in deps:
                schedule._dependents.setdefault(dep, []).append(pk)
        for pk in order:
            task = by_pk[pk]
            if task.status is TaskStatus.COMPLETED:
                schedule.skipped[pk] = "already completed"
            elif task.status is TaskStatus.CANCELLED:
                schedule.skipped[pk] = "cancelled"
            else:
                schedule.waiting.add(pk)
        # A waiting task behind a cancelled one can never run.
        for pk in order:
            if pk in schedule.waiting:
                cancelled = [d for d in edges[pk] if by_pk[d].status is TaskStatus.CANCELLED]
                if cancelled:
                    schedule._block_from(pk, f"depends on cancelled {by_pk[cancelled[0]].label}")
        return schedule

    def _satisfied(self, pk: int) -> bool:
        return all(
            dep in self.succeeded or self.tasks[dep].status is TaskStatus.COMPLETED
            for dep in self.tasks[pk].depends_on
            if dep in self.tasks
        )

    def ready(self) -> list[int]:
        """Waiting tasks whose dependencies are all completed, most urgent first."""
        found = [pk for pk in self.waiting if self._satisfied(pk)]
        return sorted(found, key=lambda pk: (-self.tasks[pk].priority_rank, self._order[pk]))

    def take_ready(self, capacity: int) -> list[int]:
        """Move up to ``capacity`` ready tasks to running and return them."""
        chosen = self.ready()[: max(0, capacity)]
        for pk in chosen:
            self.waiting.discard(pk)
            self.running.add(pk)
        return chosen

    def finished(self, pk: int, *, succeeded: bool, reason: str = "") -> dict[int, str]:
        """Record a running task's outcome; returns the tasks newly blocked by a failure."""
        self.running.discard(pk)
        if succeeded:
            self.succeeded.add(pk)
            return {}
        self.failed[pk] = reason or "its workflow run failed"
        return self._block_dependents(pk, f"dependency {self.tasks[pk].label} failed")

    def fail_waiting(self, pk: int, reason: str) -> dict[int, str]:
        """A waiting task that cannot run at all (no workflow): it fails without starting."""
        if pk not in self.waiting:
            return {}
        self.waiting.discard(pk)
        self.running.add(pk)
        return self.finished(pk, succeeded=False, reason=reason)

    def _block_from(self, pk: int, reason: str) -> dict[int, str]:
        newly = {pk: reason}
        self.waiting.discard(pk)
        self.blocked[pk] = reason
        newly.update(self._block_dependents(pk, reason))
        return newly

    def _block_dependents(self, pk: int, reason: str) -> dict[int, str]:
        newly: dict[int, str] = {}
        stack = list(self._dependents.get(pk, ()))
        while stack:
            dependent = stack.pop()
            if dependent in self.waiting:
                self.waiting.discard(dependent)
                self.blocked[dependent] = reason
                newly[dependent] = reason
                stack.extend(self._dependents.get(dependent, ()))
        return newly

    def cancel_waiting(self) -> list[int]:
        """Stop scheduling: every waiting task is dropped; returns them."""
        dropped = sorted(self.waiting, key=self._order.__getitem__)
        self.waiting.clear()
        return dropped

    @property
    def done(self) -> bool:
        return not self.waiting and not self.running

    @property
    def ok(self) -> bool:
        """True when nothing failed or was blocked."""
        return not self.failed and not self.blocked


def plan_order(schedule: ProjectSchedule, *, max_parallel: int) -> list[list[int]]:
    """The order ``schedule``'s tasks would start in if every run succeeded and took equally
    long: waves of at most ``max_parallel``, each after its dependencies' waves. Consumes the
    schedule. (Execution itself starts each task as soon as it can.)"""
    waves: list[list[int]] = []
    while wave := schedule.take_ready(max_parallel):
        waves.append(wave)
        for pk in wave:
            schedule.finished(pk, succeeded=True)
    return waves
