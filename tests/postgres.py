"""Fresh PostgreSQL databases for tests, or a clear skip when no server answers.

``POMMEL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test`` makes every test that
uses the ``database_url`` fixture run on PostgreSQL: each test gets a new database, dropped
afterwards. Without it, tests use a SQLite file in their tmp_path.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SERVER_URL_ENV = "POMMEL_TEST_DATABASE_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def server_available(url: str = DEFAULT_SERVER_URL) -> str | None:
    """``None`` when the server answers, else why not (for a skip reason)."""
    try:
        asyncio.run(_admin(url, "SELECT 1"))
    except Exception as exc:  # any failure to connect means: no usable server here
        return f"no PostgreSQL server answers at {url} ({type(exc).__name__}: {exc})"
    return None


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on ``server_url``; drop it afterwards."""
    reason = server_available(server_url)
    if reason:
        pytest.skip(reason)
    name = f"pommel_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    parts = urlsplit(server_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def database_url_for_test(tmp_path: Path) -> Iterator[str]:
    server_url = os.environ.get(SERVER_URL_ENV)
    if server_url:
        with fresh_postgres_database(server_url) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'pommel.sqlite'}"
