"""In-process fan-out of the event log to live subscribers.

One broker per app. It is woken after every local commit that appended events
(``Database.on_events_committed``) and, on PostgreSQL, by ``LISTEN pommel_events`` for commits
made by other processes. On each wake it reads the new events once (``sequence`` above its
high-water mark, in batches) and hands each to the bounded queue of every subscriber it
matches: the number of subscribers never changes the number of queries.

Correctness rests on one property of the log: events become visible in ``sequence`` order
(SQLite writers are serial; on PostgreSQL appends hold an advisory lock until commit). So
"everything up to the high-water mark" is a well-defined, already committed prefix, and a
subscriber that registers for live events *before* reading its replay from the database
misses nothing and, dropping live events it already replayed, repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable, Collection
from dataclasses import dataclass

from piccolo.engine.postgres import PostgresEngine

from pommel.errors import PommelError
from pommel.events.log import latest_sequence, read_after
from pommel.events.model import StoredEvent
from pommel.events.pg_listener import PgEventListener
from pommel.events.retention import RetentionPolicy, prune_events
from pommel.storage.database import Database

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1000
DEFAULT_BATCH_SIZE = 500
# How long ``stop`` lets fan-out and retention finish their current query.
STOP_GRACE_S = 5.0


class SubscriberTooSlow(PommelError):
    """A live subscriber fell too far behind and was dropped; it may resume with ``after``."""

    code = "RATE_LIMITED"

    def __init__(self, *, behind: int, resume_after: int) -> None:
        super().__init__(
            f"subscriber too slow: more than {behind} events behind; "
            f"reconnect with after={resume_after}",
            extensions={"reason": "SUBSCRIBER_TOO_SLOW", "resumeAfter": resume_after},
        )
        self.resume_after = resume_after


class BrokerStopped(RuntimeError):
    """The broker shut down while a subscriber was waiting."""


@dataclass(frozen=True)
class EventFilter:
    """Which events a subscriber wants; ``None`` matches anything."""

    run_id: int | None = None
    project_id: int | None = None
    types: frozenset[str] | None = None

    def matches(self, event: StoredEvent) -> bool:
        return (
            (self.run_id is None or event.run_id == self.run_id)
            and (self.project_id is None or event.project_id == self.project_id)
            and (self.types is None or event.type in self.types)
        )


@dataclass(frozen=True)
class BrokerStats:
    subscribers: int
    high_water: int
    fetches: int  # queries that read new events for fan-out
    dropped: int  # subscribers dropped for being too slow
    prune_runs: int
    pruned: int


class _Subscriber:
    """One subscriber's bounded queue of live events."""

    def __init__(self, event_filter: EventFilter, limit: int) -> None:
        self.filter = event_filter
        self.limit = limit
        self.items: deque[StoredEvent] = deque()
        self.ready = asyncio.Event()
        # While replaying, overflow is harmless: what is dropped is in the database, and the
        # replay goes back for it (``lagged``). Once live, overflow ends the subscription.
        self.replaying = True
        self.lagged = False
        self.ended: type[Exception] | None = None

    def offer(self, event: StoredEvent) -> bool:
        """Queue ``event``; False when the queue is full and the subscriber must go."""
        if len(self.items) >= self.limit:
            if not self.replaying:
                return False
            self.items.clear()
            self.lagged = True
            return True
        self.items.append(event)
        self.ready.set()
        return True

    def end(self, reason: type[Exception]) -> None:
        self.ended = reason
        self.ready.set()

    async def next(self) -> StoredEvent | None:
        """The next queued event; None once ended and drained (``ended`` says why)."""
        while not self.items:
            if self.ended is not None:
                return None
            self.ready.clear()
            await self.ready.wait()
        return self.items.popleft()


class EventBroker:
    """Reads each new event once and fans it out to every matching subscriber."""

    def __init__(
        self,
        db: Database,
        *,
        retention: RetentionPolicy | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.db = db
        self.retention = retention
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.listener: PgEventListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._listening: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self._high_water = 0
        # Subscribers indexed by their most selective filter, so an event is only checked
        # against those that could want it.
        self._by_run: dict[int, set[_Subscriber]] = {}
        self._by_project: dict[int, set[_Subscriber]] = {}
        self._everything: set[_Subscriber] = set()
        self._count = 0
        self._registrations = 0
        self._fetches = 0
        self._dropped = 0
        self._prune_runs = 0
        self._pruned = 0

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start fan-out (and the PostgreSQL listener, and retention); call once."""
        if self._loop is not None:
            raise RuntimeError("the event broker is already started")
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._high_water = await latest_sequence()
        self._unlisten = self.db.on_events_committed(self._notify)
        self._workers.append(asyncio.create_task(self._pump(), name="event-broker"))
        if self.retention is not None:
            self._workers.append(asyncio.create_task(self._retain(), name="event-retention"))
        if isinstance(self.db.engine, PostgresEngine):
            self.listener = PgEventListener(self.db.engine.config, self._notify)
            self._listening = asyncio.create_task(self.listener.run(), name="event-listener")

    async def stop(self) -> None:
        """Stop background work; waiting subscribers end with ``BrokerStopped``.

        Fan-out and retention finish the query they are in (a query cancelled midway leaves
        the SQLite driver's thread answering a closed loop); the listener is cancelled.
        """
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        self._stopping.set()
        self._wake.set()
        if self._workers:
            _, late = await asyncio.wait(self._workers, timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._workers.clear()
        self._loop = None
        for subscriber in self._all_subscribers():
            subscriber.end(BrokerStopped)

    @property
    def stats(self) -> BrokerStats:
        return BrokerStats(
            subscribers=self._count,
            high_water=self._high_water,
            fetches=self._fetches,
            dropped=self._dropped,
            prune_runs=self._prune_runs,
            pruned=self._pruned,
        )

    # -- subscribing --------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        after: int | None = None,
        run_id: int | None = None,
        project_id: int | None = None,
        types: Collection[str] | None = None,
    ) -> AsyncGenerator[StoredEvent, None]:
        """Events with ``sequence > after`` in order: the replay from the database, then live.

        ``after=None`` means live events only, from now. Ends with ``SubscriberTooSlow`` if the
        consumer falls ``queue_size`` events behind. Close it (``aclosing``) to unsubscribe.
        """
        if self._loop is None:
            raise RuntimeError("the event broker is not started")
        event_filter = EventFilter(run_id, project_id, frozenset(types) if types else None)
        subscriber = self._register(event_filter)
        last = self._high_water if after is None else after
        try:
            if after is not None:
                while True:
                    async with contextlib.aclosing(self._replay(last, event_filter)) as stored:
                        async for event in stored:
                            yield event
                            last = event.sequence
                    if not subscriber.lagged:
                        break
                    subscriber.lagged = False
            subscriber.replaying = False
            while (live := await subscriber.next()) is not None:
                if live.sequence > last:  # else already delivered by the replay
                    yield live
                    last = live.sequence
            if subscriber.ended is BrokerStopped:
                raise BrokerStopped(
                    "the server is shutting down; reconnect with after=" + str(last)
                )
            raise SubscriberTooSlow(behind=self.queue_size, resume_after=last)
        finally:
            self._unregister(subscriber)

    async def replay(
        self,
        *,
        after: int,
        run_id: int | None = None,
        project_id: int | None = None,
        types: Collection[str] | None = None,
    ) -> AsyncGenerator[StoredEvent, None]:
        """Only the stored events with ``sequence > after``, in order (no live events)."""
        event_filter = EventFilter(run_id, project_id, frozenset(types) if types else None)
        async with contextlib.aclosing(self._replay(after, event_filter)) as stored:
            async for event in stored:
                yield event

    async def _replay(
        self, after: int, event_filter: EventFilter
    ) -> AsyncGenerator[StoredEvent, None]:
        while True:
            batch = await read_after(
                after=after,
                limit=self.batch_size,
                run_id=event_filter.run_id,
                project_id=event_filter.project_id,
                types=event_filter.types,
            )
            for event in batch:
                yield event
            if len(batch) < self.batch_size:
                return
            after = batch[-1].sequence

    def _register(self, event_filter: EventFilter) -> _Subscriber:
        subscriber = _Subscriber(event_filter, self.queue_size)
        self._bucket(event_filter).add(subscriber)
        self._count += 1
        self._registrations += 1
        return subscriber

    def _unregister(self, subscriber: _Subscriber) -> None:
        """Forget ``subscriber``; a no-op if it was dropped already."""
        index, key = self._index(subscriber.filter)
        bucket = self._everything if index is None else index.get(key, set())
        if subscriber not in bucket:
            return
        bucket.discard(subscriber)
        self._count -= 1
        if index is not None and not bucket:
            del index[key]  # no empty bucket per finished run or project

    def _bucket(self, event_filter: EventFilter) -> set[_Subscriber]:
        index, key = self._index(event_filter)
        return self._everything if index is None else index.setdefault(key, set())

    def _index(self, event_filter: EventFilter) -> tuple[dict[int, set[_Subscriber]] | None, int]:
        if event_filter.run_id is not None:
            return self._by_run, event_filter.run_id
        if event_filter.project_id is not None:
            return self._by_project, event_filter.project_id
        return None, 0

    def _all_subscribers(self) -> list[_Subscriber]:
        found = list(self._everything)
        for bucket in (*self._by_run.values(), *self._by_project.values()):
            found.extend(bucket)
        return found

    # -- fan-out ------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake the pump; cheap and never raises, since it runs in the writer's commit path."""
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:  # a commit made on another thread's event loop
            with contextlib.suppress(RuntimeError):  # our loop is already closed
                loop.call_soon_threadsafe(self._wake.set)

    async def _pump(self) -> None:
        retry_s = 0.1
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                await self._catch_up()
                retry_s = 0.1
            except Exception:
                log.exception("event broker: reading new events failed; retrying")
                self._wake.set()
                # Pace retries against a failing database.
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, 5.0)

    async def _catch_up(self) -> None:
        """Read everything above the high-water mark and hand it out."""
        while True:
            if not self._count:
                # Nobody listens: just move the mark (one index lookup, no rows). Only safe
                # if nobody subscribed meanwhile; such a subscriber could otherwise miss
                # events committed between its replay snapshot and this lookup.
                registrations = self._registrations
                newest = await latest_sequence()
                if self._registrations == registrations:
                    self._high_water = max(self._high_water, newest)
                    return
                continue
            batch = await read_after(after=self._high_water, limit=self.batch_size)
            self._fetches += 1
            for event in batch:
                self._dispatch(event)
            if batch:
                self._high_water = batch[-1].sequence
            if len(batch) < self.batch_size:
                return

    def _dispatch(self, event: StoredEvent) -> None:
        candidates: list[_Subscriber] = list(self._everything)
        if event.run_id is not None and event.run_id in self._by_run:
            candidates.extend(self._by_run[event.run_id])
        if event.project_id is not None and event.project_id in self._by_project:
            candidates.extend(self._by_project[event.project_id])
        for subscriber in candidates:
            if subscriber.filter.matches(event) and not subscriber.offer(event):
                self._drop(subscriber)

    def _drop(self, subscriber: _Subscriber) -> None:
        self._unregister(subscriber)
        subscriber.end(SubscriberTooSlow)
        self._dropped += 1
        log.warning(
            "event broker: dropped a subscriber more than %d events behind", self.queue_size
        )

    # -- retention ----------------------------------------------------------------------

    async def prune(self) -> int:
        """Apply the retention policy once now; returns how many events were deleted."""
        if self.retention is None:
            return 0
        deleted = await prune_events(self.db, self.retention)
        self._prune_runs += 1
        self._pruned += deleted
        if deleted:
            log.info("event retention: deleted %d old events", deleted)
        return deleted

    async def _retain(self) -> None:
        assert self.retention is not None
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("event retention failed; trying again next period")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.retention.interval_s)
                return
