"""Fixtures for the event tests: real servers on real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from pommel.app import create_app
from pommel.config import Settings
from pommel.events.broker import EventBroker
from pommel.events.retention import RetentionPolicy
from pommel.runtime import Runtime
from pommel.storage.database import Database
from tests.events.server import LiveServer
from tests.postgres import database_url_for_test

StartServer = Callable[..., LiveServer]
ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so that a module's tests can share one started runtime (below)."""
    return "asyncio"


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings with a database of the module's own (SQLite, or PostgreSQL when asked)."""
    tmp_path = tmp_path_factory.mktemp("module")
    with database_url_for_test(tmp_path) as url:
        yield Settings(
            database_url=url,
            executor="local",
            work_dir=tmp_path / "work",
            allowed_origins=(ALLOWED_ORIGIN,),
        )


@pytest.fixture(scope="module")
async def runtime(module_settings: Settings) -> AsyncIterator[Runtime]:
    """A started runtime (database, broker, worker) in the test's own event loop, shared by
    a module's tests; each test works on its own project or run."""
    db = Database(module_settings.database_url)
    async with Runtime(settings=module_settings, db=db).running() as started:
        yield started


@pytest.fixture
def serve(settings: Settings) -> Iterator[StartServer]:
    """Start live servers (``serve(queue_size=…)`` tunes the broker); stopped after the test.

    Not for modules that use ``live_server`` or ``runtime`` (see ``live_server``).
    """
    started: list[LiveServer] = []

    def start(
        settings: Settings = settings, *, send_buffer: int | None = None, **broker_options: Any
    ) -> LiveServer:
        runtime = Runtime(settings=settings, db=Database(settings.database_url))
        if broker_options:
            runtime.broker = EventBroker(
                runtime.db, retention=RetentionPolicy.from_settings(settings), **broker_options
            )
        app = create_app(settings, runtime=runtime)
        server = LiveServer(app, send_buffer=send_buffer).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def live_server(module_settings: Settings) -> Iterator[LiveServer]:
    """One server for a module's tests (starting one costs more than most tests).

    Tests sharing it stay independent by creating their own project or run and only
    looking at its events. Piccolo binds tables to one database per process: a module using
    this must not also start servers (or runtimes) on other databases.
    """
    server = LiveServer(create_app(module_settings)).start()
    yield server
    server.stop()


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait until ``check()`` holds; fail the test if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(0.005)
