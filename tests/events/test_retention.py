"""Retention: old and surplus events go, oldest first; the newest event always stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pommel.events import log as event_log
from pommel.events.broker import EventBroker
from pommel.events.log import append
from pommel.events.model import EventType, NewEvent
from pommel.events.retention import RetentionPolicy, prune_events
from pommel.runtime import Runtime
from pommel.storage.database import Database
from pommel.storage.tables import Event
from tests.events import data
from tests.events.conftest import eventually


async def test_the_count_bound_keeps_the_newest(runtime: Runtime) -> None:
    run = await data.new_run(runtime)
    await data.log_lines(runtime.db, run, 10)
    before = await data.sequences()
    deleted = await prune_events(
        runtime.db, RetentionPolicy(max_age_days=0, max_count=3), batch_size=4
    )
    assert deleted == len(before) - 3
    assert await data.sequences() == before[-3:]


async def test_the_age_bound_never_deletes_the_newest_event(runtime: Runtime) -> None:
    run = await data.new_run(runtime)
    await data.log_lines(runtime.db, run, 5)
    everything = await data.sequences()
    # Everything is old, the newest too: the newest stays, so its sequence is never reused.
    long_ago = datetime.now(UTC) - timedelta(days=40)
    async with runtime.db.write():
        await Event.update({Event.at: long_ago}, force=True)
    policy = RetentionPolicy(max_age_days=30, max_count=0)
    assert await prune_events(runtime.db, policy, batch_size=2) == len(everything) - 1
    assert await data.sequences() == everything[-1:]
    await data.log_lines(runtime.db, run, 1)
    assert await event_log.latest_sequence() > everything[-1]


async def test_recent_events_within_the_count_stay(runtime: Runtime) -> None:
    await prune_events(runtime.db, RetentionPolicy(max_age_days=30, max_count=0))  # (leftovers)
    run = await data.new_run(runtime)
    await data.log_lines(runtime.db, run, 3)
    before = await data.sequences()
    policy = RetentionPolicy(max_age_days=30, max_count=len(before))
    assert await prune_events(runtime.db, policy) == 0
    assert await prune_events(runtime.db, RetentionPolicy(max_age_days=0, max_count=0)) == 0
    assert await data.sequences() == before


async def test_the_broker_prunes_at_start_up_and_then_periodically(runtime: Runtime) -> None:
    run = await data.new_run(runtime)
    await data.log_lines(runtime.db, run, 4)
    policy = RetentionPolicy(max_age_days=0, max_count=2, interval_s=0.05)
    broker = EventBroker(runtime.db, retention=policy)
    await broker.start()
    try:
        await eventually(lambda: broker.stats.prune_runs >= 1)
        assert len(await data.sequences()) == 2
        await data.log_lines(runtime.db, run, 3)
        await eventually(lambda: broker.stats.prune_runs >= 3)
        assert len(await data.sequences()) == 2
    finally:
        await broker.stop()


async def test_a_log_below_both_bounds_loses_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.sqlite'}")
    await db.connect()
    async with db.write():
        await append(db, [NewEvent(EventType.PROJECT_CREATED, message=str(i)) for i in range(5)])
    for policy in (
        RetentionPolicy(max_age_days=30, max_count=1000),
        RetentionPolicy(max_age_days=30, max_count=0),
    ):
        assert await prune_events(db, policy) == 0
    assert await Event.count() == 5
    await db.close()
