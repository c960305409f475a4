"""Worker leases on runs: who executes a run, and when another worker may take it over.

A worker claims a run by writing its identity (``host:pid:token``) into ``claimed_by`` and
renews ``heartbeat_at`` while it executes it. A run left ``running`` is taken over (resumed)
only when its worker is certainly gone:

- it released the run at shutdown (``claimed_by`` is empty);
- it ran on this host and its process no longer exists (a crash or SIGKILL: resumed at once);
- its lease expired: no heartbeat for ``lease_s`` seconds (another host, or a hung process).

Taking over is a conditional update on the previous owner, so when several workers see the same
orphan, exactly one gets it. On PostgreSQL, live workers of other instances keep renewing, so
no run is ever executed by two of them.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime, timedelta

from pommel.domain.status import RunStatus
from pommel.events import log as event_log
from pommel.events.model import EventType
from pommel.services.run_events import RunIds, run_event
from pommel.services.run_queries import get_run
from pommel.services.run_records import RunRecord
from pommel.storage.database import Database
from pommel.storage.tables import WorkflowRun

_HOST = socket.gethostname()[:60]
_ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def new_identity() -> str:
    """A worker's identity: host, process id and a token unique to this worker."""
    return f"{_HOST}:{os.getpid()}:{secrets.token_hex(4)}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def owner_gone(
    owner: str | None, heartbeat_at: datetime | None, *, lease_s: float, now: datetime
) -> bool:
    """Whether the worker ``owner`` can no longer be executing its runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == _HOST and pid_text.isdigit():
        pid = int(pid_text)
        if pid != os.getpid() and not _process_exists(pid):
            return True
    return heartbeat_at is None or now - heartbeat_at > timedelta(seconds=lease_s)


async def claim_queued(db: Database, owner: str, *, limit: int, skip: set[int]) -> list[int]:
    """Claim up to ``limit`` queued top-level runs, oldest first, in one statement.

    The conditions are repeated outside the subquery: on PostgreSQL a row another worker
    claimed meanwhile is re-checked after its lock is released, and skipped.
    """
    if limit <= 0:
        return []
    exclude = f"AND id NOT IN ({', '.join(str(int(pk)) for pk in skip)}) " if skip else ""
    unclaimed = "status = 'queued' AND claimed_by IS NULL AND parent_run IS NULL"
    async with db.write():
        rows = await WorkflowRun.raw(
            f"UPDATE workflow_run SET claimed_by = {{}}, heartbeat_at = {{}} "
            f"WHERE {unclaimed} AND id IN (SELECT id FROM workflow_run WHERE {unclaimed} "
            f"{exclude}ORDER BY id LIMIT {{}}) RETURNING id",
            owner,
            datetime.now(UTC),
            limit,
        )
    return sorted(int(row["id"]) for row in rows)


async def queued_waiting() -> bool:
    """Whether a queued top-level run waits for a worker (a cheap read)."""
    row = (
        await WorkflowRun.select(WorkflowRun.id)
        .where(WorkflowRun.status == RunStatus.QUEUED.value)
        .where(WorkflowRun.claimed_by.is_null())
        .where(WorkflowRun.parent_run.is_null())
        .first()
    )
    return row is not None


async def orphans(owner: str, *, lease_s: float, now: datetime, limit: int) -> list[RunRecord]:
    """Top-level runs left unfinished by workers that are gone (child runs are resumed by
    their parent), oldest first: running ones to resume, and queued ones a worker had
    claimed but not started, to put back in the queue. ``owner``'s own runs never are: a
    worker releases a run its runner could not finish."""
    rows = (
        await WorkflowRun.select()
        .where(WorkflowRun.status.is_in(list(_ACTIVE)))
        .where(WorkflowRun.claimed_by.is_not_null() | (WorkflowRun.status == "running"))
        .where(WorkflowRun.parent_run.is_null())
        .order_by(WorkflowRun.id)
        .output(load_json=True)
    )
    found = []
    for row in rows:
        run = RunRecord.from_row(row)
        if run.claimed_by == owner:
            continue
        if owner_gone(run.claimed_by, run.heartbeat_at, lease_s=lease_s, now=now):
            found.append(run)
            if len(found) >= limit:
                break
    return found


async def take_over(db: Database, run: RunRecord, owner: str) -> RunRecord | None:
    """Claim ``run`` from its previous owner and record that it is resumed; None when another
    worker took it first (or it finished meanwhile)."""
    previous = run.claimed_by
    async with db.write():
        query = (
            WorkflowRun.update(
                {
                    WorkflowRun.claimed_by: owner,
                    WorkflowRun.heartbeat_at: datetime.now(run.created_at.tzinfo),
                    WorkflowRun.resumed: WorkflowRun.resumed + 1,
                }
            )
            .where(WorkflowRun.id == run.pk)
            .where(WorkflowRun.status.is_in(list(_ACTIVE)))
        )
        query = query.where(
            WorkflowRun.claimed_by.is_null()
            if previous is None
            else WorkflowRun.claimed_by == previous
        )
        if not await query.returning(WorkflowRun.id):
            return None
        await event_log.append(
            db,
            [
                run_event(
                    EventType.RUN_RESUMED,
                    RunIds.of(run),
                    status=run.status.value,
                    message=f"run run-{run.pk} resumed after its worker stopped "
                    f"(resumed {run.resumed + 1} time(s))",
                    resumed=run.resumed + 1,
                    previousWorker=previous,
                )
            ],
        )
    return await get_run(run.pk)


async def requeue(db: Database, run: RunRecord) -> None:
    """Put a queued run claimed by a worker that is gone back in the queue."""
    async with db.write():
        await WorkflowRun.update({WorkflowRun.claimed_by: None}).where(
            (WorkflowRun.id == run.pk)
            & (WorkflowRun.status == RunStatus.QUEUED.value)
            & (WorkflowRun.claimed_by == run.claimed_by)
        )


async def renew(db: Database, owner: str, *, now: datetime) -> None:
    """Heartbeat: extend the lease on every unfinished run of ``owner``."""
    async with db.write():
        await WorkflowRun.update({WorkflowRun.heartbeat_at: now}).where(
            (WorkflowRun.claimed_by == owner) & WorkflowRun.status.is_in(list(_ACTIVE))
        )


async def release(db: Database, owner: str) -> None:
    """At shutdown: give up every unfinished run, so the next worker resumes it at once."""
    async with db.write():
        await WorkflowRun.update({WorkflowRun.claimed_by: None}).where(
            (WorkflowRun.claimed_by == owner) & WorkflowRun.status.is_in(list(_ACTIVE))
        )


async def cancel_requests(owner: str) -> list[int]:
    """Runs of ``owner`` asked to stop (by a request another process received)."""
    rows = (
        await WorkflowRun.select(WorkflowRun.id)
        .where(WorkflowRun.claimed_by == owner)
        .where(WorkflowRun.cancel_requested == True)  # noqa: E712 - a SQL comparison
        .where(WorkflowRun.status.is_in(list(_ACTIVE)))
    )
    return [row["id"] for row in rows]
