"""PostgreSQL: subscribers of one process see the commits of another (LISTEN/NOTIFY).

Instance B is a real server in this process; instance A is a separate process appending to
the same database (``tests/events/pg_writer.py``). Nothing polls: if the notification did not
wake B's broker, the events would never arrive.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from pommel.app import create_app
from pommel.config import Settings
from pommel.events.log import latest_sequence
from pommel.events.pg_listener import APPLICATION_NAME
from tests.events import data
from tests.events.conftest import eventually
from tests.events.data import RunRef
from tests.events.server import LiveServer
from tests.events.wsclient import RUN_EVENTS, GraphQLWS
from tests.postgres import DEFAULT_SERVER_URL, SERVER_URL_ENV, fresh_postgres_database

pytestmark = pytest.mark.postgres

REPO = Path(__file__).parents[2]
# The design goal is 100 ms; the bound leaves room for a loaded test machine.
MAX_LATENCY_S = 0.5


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_postgres_database(os.environ.get(SERVER_URL_ENV, DEFAULT_SERVER_URL)) as url:
        yield url


@pytest.fixture(scope="module")
def instance_b(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    work_dir = tmp_path_factory.mktemp("b") / "work"
    settings = Settings(database_url=pg_url, executor="local", work_dir=work_dir)
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


class InstanceA:
    """The writer process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def append(self, count: int) -> tuple[int, float]:
        """Have A commit ``count`` events; their last sequence and when A committed them."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{count}\n".encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 10)
        word, sequence, at = line.decode().split()
        assert word == "committed", line
        return int(sequence), float(at)


@pytest.fixture(scope="module")
async def instance_a(
    pg_url: str, instance_b: LiveServer
) -> AsyncIterator[tuple[InstanceA, RunRef]]:
    run = await instance_b.run(lambda: data.new_run(instance_b.runtime))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.events.pg_writer",
        pg_url,
        *(str(pk) for pk in (run.project, run.task, run.workflow, run.run)),
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
    try:
        yield InstanceA(process), run
    finally:
        assert process.stdin is not None
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 10)


async def test_another_process_commits_reach_subscribers_at_once(
    instance_b: LiveServer, instance_a: tuple[InstanceA, RunRef]
) -> None:
    writer, run = instance_a
    latencies: list[float] = []
    received: list[int] = []
    start = await instance_b.run(latest_sequence)
    async with GraphQLWS.connect(instance_b.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run.run_id, "after": start})
        for round_number in range(5):
            count = 1 + round_number % 2
            sequence, committed = await writer.append(count)
            events = await ws.events(op, count, seconds=5)
            latencies.append(time.time() - committed)
            assert events[-1]["sequence"] == sequence
            assert all(event["message"].startswith("from A") for event in events)
            received += [event["sequence"] for event in events]
    assert received == await instance_b.run(lambda: data.sequences(after=start, run_id=run.run))
    assert max(latencies) < MAX_LATENCY_S, latencies
    print(f"cross-process latencies (s): {[round(x, 4) for x in latencies]}")


async def test_the_listener_reconnects_and_catches_up(
    pg_url: str, instance_b: LiveServer, instance_a: tuple[InstanceA, RunRef]
) -> None:
    writer, run = instance_a
    listener = instance_b.runtime.broker.listener
    assert listener is not None
    start = await instance_b.run(latest_sequence)
    async with GraphQLWS.connect(instance_b.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run.run_id, "after": start})
        await writer.append(1)
        received = await ws.events(op, 1)
        connections = listener.connections
        admin = await asyncpg.connect(pg_url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
        finally:
            await admin.close()
        assert killed == 1
        # Committed while B is (probably) not listening: the reconnect's catch-up finds them.
        await writer.append(3)
        received += await ws.events(op, 3, seconds=10)
        await eventually(lambda: listener.connections == connections + 1)
        await writer.append(2)  # and it listens again
        received += await ws.events(op, 2, seconds=5)
    assert [event["sequence"] for event in received] == await instance_b.run(
        lambda: data.sequences(after=start, run_id=run.run)
    )
