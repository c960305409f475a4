"""Piccolo engines from database URLs (``sqlite:///file``, ``postgresql://…``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

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


def engine_from_url(url: str) -> Engine[Any]:
    """A Piccolo engine for ``url``; raises ``DatabaseUrlError`` for anything else."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return SQLiteEngine(path=str(sqlite_path(url)), timeout=SQLITE_BUSY_TIMEOUT_S)
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
