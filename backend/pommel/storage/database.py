"""The database a Pommel process talks to: engine binding, migrations and write transactions.

Piccolo binds tables to an engine globally, so one process serves one database at a time;
``Database.connect`` (re)binds every table, which also lets tests point a fresh process state at
a fresh database.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import io
import logging
import os
import sqlite3
import zlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from pommel.storage import piccolo_conf
from pommel.storage.engines import PommelSQLiteEngine, engine_from_url, sqlite_path
from pommel.storage.tables import ALL_TABLES, Event

log = logging.getLogger(__name__)

_PICCOLO_CONF_MODULE = "pommel.storage.piccolo_conf"
# Serialises event appends across PostgreSQL transactions, so that events become visible in
# ``sequence`` order: a reader that has seen sequence N can never later find N-1 committed.
EVENT_LOCK_KEY = 0x706F6D6D656C
POOL_CLOSE_TIMEOUT_S = 5.0
# PostgreSQL channel on which committed event appends are announced to every process.
EVENT_CHANNEL = "pommel_events"


def _sqlite_integer_out(value: bytes) -> int:
    """An INTEGER column's value as ``int``.

    Replaces Piccolo's converter, which decodes and goes through ``Decimal`` for every value
    (to accept ``1.0``): with four INTEGER columns a task row paid more for them than for
    SQLite's own work. ``int(bytes)`` is one C call; anything it refuses takes Piccolo's path.
    """
    try:
        return int(value)
    except ValueError:
        return int(Decimal(value.decode()))


# Piccolo registered its converter when ``piccolo.engine.sqlite`` was imported (above).
sqlite3.register_converter("INTEGER", _sqlite_integer_out)

# Per task: (nesting depth of write(), whether this transaction appended events).
_write_state: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "pommel_write_state", default=None
)
# Per task: callbacks to run once the outermost write transaction has committed.
_after_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "pommel_after_commit", default=None
)


class MigrationFailed(RuntimeError):
    """Applying migrations failed; the message carries Piccolo's explanation."""


class Database:
    """One configured database: ``connect`` before use, ``close`` at shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine[Any] = engine_from_url(url)
        self._commit_listeners: list[Callable[[], None]] = []

    def on_events_committed(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after each commit that appended events; returns an unsubscribe."""
        self._commit_listeners.append(listener)
        return lambda: self._commit_listeners.remove(listener)

    def mark_events_written(self) -> None:
        """Record that the current write transaction appended events."""
        state = _write_state.get()
        if state is None:
            raise RuntimeError("events must be appended inside Database.write()")
        state[1] = 1

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Inside ``write()``: call ``callback`` once the outermost transaction has committed
        (never if it rolls back), e.g. to wake a worker for a run it just queued."""
        callbacks = _after_commit.get()
        if callbacks is None:
            raise RuntimeError("after_commit() must be called inside Database.write()")
        callbacks.append(callback)

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.engine, SQLiteEngine)

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.engine, PostgresEngine)

    def bind(self) -> None:
        """Point every table (and Piccolo's migration machinery) at this engine."""
        piccolo_conf.DB = self.engine
        os.environ["PICCOLO_CONF"] = _PICCOLO_CONF_MODULE
        tables: list[type[Table]] = [*ALL_TABLES, Migration]
        for table in tables:
            table._meta.db = self.engine

    async def connect(self, *, migrate: bool = True) -> None:
        """Bind, prepare the file or pool, and apply pending migrations."""
        self.bind()
        if isinstance(self.engine, SQLiteEngine):
            path = sqlite_path(self.url)
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            # WAL lets readers proceed while one writer holds the lock; it is a property of
            # the file, so setting it once is enough.
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
        if migrate:
            await self.migrate()
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(min_size=1, max_size=20)

    async def close(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            pool = self.engine.pool
            try:
                # A connection acquired by a task cancelled at shutdown may never be released;
                # closing waits for it, so bound the wait and then cut what is left.
                await asyncio.wait_for(self.engine.close_connection_pool(), POOL_CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.warning(
                    "connections still in use after %ss: terminating them", POOL_CLOSE_TIMEOUT_S
                )
                if pool is not None:
                    pool.terminate()
        if isinstance(self.engine, PommelSQLiteEngine):
            self.engine.close_readers()

    async def migrate(self) -> list[str]:
        """Apply pending migrations; returns Piccolo's report lines."""
        self.bind()
        report = io.StringIO()
        with contextlib.redirect_stdout(report):
            result = await run_forwards(app_name="pommel", migration_id="all")
        lines = [line for line in report.getvalue().splitlines() if line.strip()]
        if not result.success:
            raise MigrationFailed(result.message or "\n".join(lines))
        for line in lines:
            log.debug("migrate: %s", line)
        return lines

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        """A write transaction; nested calls join the outer one.

        On SQLite it is IMMEDIATE: taking the write lock up front means concurrent
        read-then-write transactions queue instead of failing with "database is locked".
        After the outermost transaction commits, event listeners are woken if it appended events.
        """
        state = _write_state.get()
        if state is not None:
            state[0] += 1
            try:
                yield None
            finally:
                state[0] -= 1
            return
        state = [1, 0]
        token = _write_state.set(state)
        callbacks: list[Callable[[], None]] = []
        callbacks_token = _after_commit.set(callbacks)
        try:
            if isinstance(self.engine, SQLiteEngine):
                transaction: Any = self.engine.transaction(
                    transaction_type=TransactionType.immediate
                )
            else:
                transaction = self.engine.transaction()
            async with transaction as opened:
                yield opened
        finally:
            _write_state.reset(token)
            _after_commit.reset(callbacks_token)
        if state[1]:
            for listener in list(self._commit_listeners):
                listener()
        for callback in callbacks:
            callback()

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        """A read snapshot on one connection (cheaper than a connection per query on SQLite)."""
        async with self.engine.transaction() as transaction:
            yield transaction

    async def lock(self, key: tuple[str, int]) -> None:
        """Inside a write transaction: serialise transactions on ``key`` (PostgreSQL only;
        SQLite write transactions are serial already)."""
        if isinstance(self.engine, PostgresEngine):
            await Event.raw(
                "SELECT pg_advisory_xact_lock({}, {})",
                zlib.crc32(key[0].encode()) & 0x7FFFFFFF,
                key[1],
            ).run()

    async def lock_event_log(self) -> None:
        """Inside a write transaction: serialise event appends (PostgreSQL; SQLite already is)."""
        if isinstance(self.engine, PostgresEngine):
            await Event.raw("SELECT pg_advisory_xact_lock({})", EVENT_LOCK_KEY).run()
            # Delivered by PostgreSQL only when (and if) this transaction commits.
            await Event.raw(f"NOTIFY {EVENT_CHANNEL}").run()
