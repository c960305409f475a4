"""How runs are announced: the events every run change appends, and in-process signals.

Events carry the ids subscribers filter on (run, task, project, workflow). Signals tell the
workers of this process, right after the commit, that a run was queued, asked to stop, or
finished without executing; workers of other processes learn the same from the event log.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, format_id
from pommel.services.run_records import RunRecord
from pommel.storage.database import Database

RunSignal = Literal["queued", "cancel_requested", "finished"]
RunWatcher = Callable[[RunSignal, int], None]

_watchers: weakref.WeakKeyDictionary[Database, list[RunWatcher]] = weakref.WeakKeyDictionary()


def watch(db: Database, watcher: RunWatcher) -> Callable[[], None]:
    """Call ``watcher(signal, run_pk)`` after each commit that queued a run (``queued``), asked
    a running one to stop (``cancel_requested``) or finished a queued one without executing it
    (``finished``). Runs in the committing task: keep it cheap. Returns an unsubscribe."""
    watchers = _watchers.setdefault(db, [])
    watchers.append(watcher)
    return lambda: watchers.remove(watcher)


def signal_after_commit(db: Database, kind: RunSignal, pk: int) -> None:
    """Inside ``db.write()``: tell the watchers about run ``pk`` once the transaction commits
    (never if it rolls back, and only once an enclosing transaction commits)."""

    def deliver() -> None:
        for watcher in list(_watchers.get(db, ())):
            watcher(kind, pk)

    db.after_commit(deliver)


class RunIds(NamedTuple):
    """The ids every event about a run carries (subscribers filter on them)."""

    run_pk: int
    task_pk: int
    project_pk: int
    workflow_pk: int

    @classmethod
    def of(cls, run: RunRecord) -> RunIds:
        return cls(run.pk, run.task_pk, run.project_pk, run.workflow_pk)


def run_event(
    event_type: EventType,
    ids: RunIds,
    /,
    *,
    status: str,
    message: str,
    step: str | None = None,
    **data: Any,
) -> NewEvent:
    """An event about a run (or one of its steps)."""
    return NewEvent(
        event_type,
        project_id=ids.project_pk,
        task_id=ids.task_pk,
        workflow_id=ids.workflow_pk,
        run_id=ids.run_pk,
        step=step,
        status=status,
        message=message,
        data={"run": format_id(Kind.RUN, ids.run_pk), **data},
    )
