"""Piccolo engines from database URLs (``sqlite:///file``, ``postgresql://…``)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.querystring import QueryString

DEFAULT_DATABASE_URL = "sqlite:///pommel.sqlite"

# How long a SQLite writer waits for the write lock before failing; immediate transactions
# queue behind each other, so this bounds the queue, not normal operation.
SQLITE_BUSY_TIMEOUT_S = 30.0


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message says why."""


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names (relative to the working directory unless absolute)."""
    rest = url.removeprefix("sqlite://")
    if not rest.startswith("/") or rest == "/":
        raise DatabaseUrlError(
            f"'{url}' names no file: use sqlite:///relative.db or sqlite:////abs.db"
        )
    return Path(unquote(rest[1:]))


# A read on the event loop's thread gives up waiting for a lock this soon and takes Piccolo's
# threaded path instead, which waits (up to SQLITE_BUSY_TIMEOUT_S) without blocking the loop.
INLINE_READ_BUSY_TIMEOUT_S = 0.05


class PommelSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, running reads outside transactions on the calling thread.

    Piccolo opens a connection, and aiosqlite a thread, for every query outside a transaction;
    the hand-offs cost more than an indexed read itself, and under concurrent load the worker
    threads and the event loop convoy on the GIL (each row fetched in a worker needs it back).
    A ``SELECT`` outside a transaction instead runs on one long-lived read-only connection per
    thread. In WAL mode readers do not wait for writers; on a busy answer the query falls back
    to Piccolo's path. Writes and everything inside transactions are unchanged.
    """

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._readers: dict[int, sqlite3.Connection] = {}

    def _reader(self) -> sqlite3.Connection:
        thread = threading.get_ident()
        reader = self._readers.get(thread)
        if reader is None:
            kwargs = {**self.connection_kwargs, "timeout": INLINE_READ_BUSY_TIMEOUT_S}
            reader = sqlite3.connect(**kwargs)
            reader.row_factory = dict_factory
            reader.execute("PRAGMA query_only = 1")
            self._readers[thread] = reader
        return reader

    async def get_connection(self) -> Any:
        """A connection for a transaction (Piccolo's, with two differences below)."""
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A transaction cancelled while it opens (shutdown, a cancelled request) can leave its
        # connection unclosed; its worker thread must not then keep the process from exiting.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        # In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a crash of
        # Pommel loses nothing and the file never corrupts; only an OS crash or power cut can
        # drop the last commits. FULL costs ~20 ms per write transaction on these disks.
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def close_readers(self) -> None:
        readers, self._readers = self._readers, {}
        for reader in readers.values():
            reader.close()

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        if self.current_transaction.get() is None and not self.log_queries:
            query, args = querystring.compile_string(engine_type=self.engine_type)
            if query.lstrip()[:6].upper() == "SELECT":
                try:
                    return self._reader().execute(query, args).fetchall()
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
        return await super().run_querystring(querystring, in_pool=in_pool)


def engine_from_url(url: str) -> Engine[Any]:
    """A Piccolo engine for ``url``; raises ``DatabaseUrlError`` for anything else."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return PommelSQLiteEngine(path=str(sqlite_path(url)), timeout=SQLITE_BUSY_TIMEOUT_S)
    if scheme in {"postgresql", "postgres"}:
        parts = urlsplit(url)
        config: dict[str, object] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "database": unquote(parts.path.lstrip("/")) or "postgres",
            "user": unquote(parts.username) if parts.username else "postgres",
        }
        if parts.password:
            config["password"] = unquote(parts.password)
        return PostgresEngine(config=config)
    raise DatabaseUrlError(
        f"unsupported database URL '{url}': use sqlite:///file.sqlite or postgresql://host/db"
    )
