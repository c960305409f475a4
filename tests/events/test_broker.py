"""The broker in-process: hand-over, lagging replays, dropping, stopping, other threads."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator

import pytest

from pommel.events.broker import BrokerStopped, EventBroker, SubscriberTooSlow
from pommel.events.model import EventType, StoredEvent
from pommel.runtime import Runtime
from tests.events import data
from tests.events.conftest import eventually


async def take(events: AsyncGenerator[StoredEvent, None], count: int) -> list[int]:
    found: list[int] = []
    async with asyncio.timeout(10):
        while len(found) < count:
            found.append((await anext(events)).sequence)
    return found


@contextlib.asynccontextmanager
async def started(broker: EventBroker) -> AsyncGenerator[EventBroker, None]:
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def test_events_committed_while_replaying_are_neither_lost_nor_repeated(
    runtime: Runtime,
) -> None:
    db = runtime.db
    run = await data.new_run(runtime)
    await data.log_batches(db, run, batches=1, size=10)
    async with started(EventBroker(db, batch_size=4)) as broker:
        events = broker.subscribe(after=0, run_id=run.run)
        async with contextlib.aclosing(events):
            received: list[int] = []
            # A commit after every other event taken: the replay catches up with the log
            # while commits keep coming, then live events take over.
            for index in range(18):
                received += await take(events, 1)
                if index % 2:
                    await data.log_lines(db, run, 1)
            await data.log_lines(db, run, 1)
            received += await take(events, 2)
    assert received == await data.sequences(run_id=run.run)


async def test_a_replay_that_falls_behind_goes_back_to_the_database(runtime: Runtime) -> None:
    db = runtime.db
    run = await data.new_run(runtime)
    await data.log_batches(db, run, batches=1, size=6)
    # A queue of 3 and replay pages of 4: live events overflow the queue while it replays.
    async with started(EventBroker(db, queue_size=3, batch_size=4)) as broker:
        events = broker.subscribe(after=0, run_id=run.run)
        async with contextlib.aclosing(events):
            received = await take(events, 5)  # paused in the last page of the replay
            await data.log_lines(db, run, 10)
            await eventually(lambda: broker.stats.high_water >= received[0] + 15)
            received += await take(events, 11)
            assert broker.stats.dropped == 0
            for _ in range(3):  # then live: nothing lost, nothing repeated
                await data.log_lines(db, run, 2)
                received += await take(events, 2)
    assert received == await data.sequences(run_id=run.run)


async def test_a_stalled_subscriber_is_dropped_and_told_where_to_resume(runtime: Runtime) -> None:
    db = runtime.db
    run = await data.new_run(runtime)
    async with started(EventBroker(db, queue_size=3)) as broker:
        stalled = broker.subscribe(run_id=run.run)
        healthy = broker.subscribe(run_id=run.run)
        async with contextlib.aclosing(stalled), contextlib.aclosing(healthy):
            stalled_first = asyncio.ensure_future(anext(stalled))
            healthy_first = asyncio.ensure_future(anext(healthy))
            await eventually(lambda: broker.stats.subscribers == 2)
            await data.log_lines(db, run, 1)
            first = (await stalled_first).sequence
            received = [(await healthy_first).sequence]
            for _ in range(4):  # the healthy one keeps up; the stalled one reads nothing
                await data.log_lines(db, run, 2)
                received += await take(healthy, 2)
            assert broker.stats.dropped == 1
            assert broker.stats.subscribers == 1
            # What was queued before the drop still comes, then the error.
            assert await take(stalled, 3) == received[1:4]
            with pytest.raises(SubscriberTooSlow) as dropped:
                await anext(stalled)
    assert received == await data.sequences(run_id=run.run)
    assert first == received[0]
    assert dropped.value.resume_after == received[3]
    assert dropped.value.to_extensions()["code"] == "RATE_LIMITED"
    assert str(dropped.value) == (
        f"subscriber too slow: more than 3 events behind; reconnect with after={received[3]}"
    )


async def test_fan_out_reads_each_event_once_whatever_the_subscribers(runtime: Runtime) -> None:
    db = runtime.db
    run = await data.new_run(runtime)
    async with started(EventBroker(db)) as broker:
        streams = [broker.subscribe(run_id=run.run) for _ in range(50)]
        pending = [asyncio.ensure_future(take(stream, 6)) for stream in streams]
        await eventually(lambda: broker.stats.subscribers == 50)
        before = broker.stats.fetches
        for _ in range(3):
            await data.log_batches(db, run, batches=1, size=2)
        results = await asyncio.gather(*pending)
        for stream in streams:
            await stream.aclose()
        # One read per wake-up; on PostgreSQL a local commit also comes back as a NOTIFY.
        assert broker.stats.fetches - before <= 3 * (2 if db.is_postgres else 1)
        assert broker.stats.subscribers == 0
    expected = await data.sequences(run_id=run.run)
    assert all(result == expected for result in results)


async def test_replay_only_and_type_filters(runtime: Runtime) -> None:
    db = runtime.db
    run = await data.new_run(runtime)
    await data.log_lines(db, run, 3)
    await data.finish(db, run)
    broker = runtime.broker
    replayed = [event.type async for event in broker.replay(after=0, run_id=run.run)]
    assert replayed == ["step.log"] * 3 + ["run.finished"]
    finished = [
        event.sequence
        async for event in broker.replay(after=0, types=[EventType.RUN_FINISHED.value])
    ]
    assert len(finished) == 1


async def test_stopping_ends_waiting_subscribers(runtime: Runtime) -> None:
    broker = EventBroker(runtime.db)
    await broker.start()
    events = broker.subscribe()
    waiting = asyncio.ensure_future(anext(events))
    await eventually(lambda: broker.stats.subscribers == 1)
    await broker.stop()
    with pytest.raises(BrokerStopped, match="reconnect with after="):
        await waiting
    await events.aclose()


async def test_a_commit_on_another_thread_wakes_the_broker(runtime: Runtime) -> None:
    if runtime.db.is_postgres:
        pytest.skip("the connection pool belongs to the app's event loop")
    run = await data.new_run(runtime)
    base = runtime.broker.stats.subscribers
    events = runtime.broker.subscribe(run_id=run.run)
    async with contextlib.aclosing(events):
        first = asyncio.ensure_future(anext(events))
        await eventually(lambda: runtime.broker.stats.subscribers == base + 1)
        writer = threading.Thread(
            target=lambda: asyncio.run(data.log_lines(runtime.db, run, 1)), name="writer"
        )
        writer.start()
        await asyncio.to_thread(writer.join)
        event = await asyncio.wait_for(first, 5)
    assert event.message == "line 0"
