"""The worker's state lives in the database: after a restart it sends what it had not sent
(including events committed while it was down), retries what was pending, and sends nothing
twice."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from pommel.app import create_app
from pommel.config import Settings
from pommel.services import projects
from pommel.storage.database import Database
from pommel.storage.tables import Event, WebhookDelivery
from tests.api.helpers import make_project
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import create_webhook, deliveries, eventually, settled
from tests.webhooks.receiver import Receiver


@contextlib.asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[GraphQLClient]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield GraphQLClient(http)


async def test_a_restart_neither_skips_nor_repeats(settings: Settings, receiver: Receiver) -> None:
    async with _running(settings) as gql:
        hook_id = (await create_webhook(gql, url=receiver.url("d")))["webhook"]["id"]
        for number in range(3):
            await make_project(gql, f"p{number}")
        await settled(gql, hook_id, 3)
        # One more that the receiver refuses: still pending when the server stops.
        receiver.always("d", 500)
        await make_project(gql, "refused")

        async def attempted() -> bool:
            found = await deliveries(gql, hook_id)
            return len(found) == 4 and found[-1]["attempts"] >= 1

        await eventually(attempted, what="a failed attempt")

    # While no server runs, more events are committed (another process, a migration, …).
    offline = Database(settings.database_url)
    await offline.connect()
    try:
        await projects.create_project(offline, name="while down")
        await projects.create_project(offline, name="still down")
    finally:
        await offline.close()

    receiver.always("d", None)
    async with _running(settings) as gql:
        found = await settled(gql, hook_id, 6)
        assert [d["status"] for d in found] == ["DELIVERED"] * 6
        sequences = [d["eventSequence"] for d in found]
        assert len(set(sequences)) == 6  # one delivery per event
        events = await Event.select(Event.sequence).order_by(Event.sequence)
        assert sequences == [row["sequence"] for row in events]  # every event after creation
        assert await WebhookDelivery.count() == 6

    successes = [
        json.loads(r.body)["sequence"]
        for r in receiver.requests("d")
        if r.headers["pommel-delivery"] in {d["id"] for d in found}
    ]
    # Each event was answered 2xx exactly once; only the refused one was sent more than once.
    assert set(successes) == set(sequences)
    counts = Counter(successes)
    refused = found[3]["eventSequence"]
    assert all(count == 1 for sequence, count in counts.items() if sequence != refused)
    assert counts[refused] == found[3]["attempts"] >= 2


async def test_a_restart_with_nothing_new_sends_nothing(
    settings: Settings, receiver: Receiver
) -> None:
    async with _running(settings) as gql:
        hook_id = (await create_webhook(gql, url=receiver.url("q")))["webhook"]["id"]
        await make_project(gql)
        await settled(gql, hook_id, 1)
    for _ in range(2):
        async with _running(settings) as gql:
            await gql.data("{ __typename }")
    assert len(receiver.requests("q")) == 1


async def test_old_finished_deliveries_are_pruned_pending_ones_kept(
    gql: GraphQLClient, receiver: Receiver, app: Any
) -> None:
    worker = app.state.runtime.webhooks
    done_id = (await create_webhook(gql, url=receiver.url("done")))["webhook"]["id"]
    stuck_id = (await create_webhook(gql, url=receiver.url("stuck")))["webhook"]["id"]
    receiver.always("stuck", 500)
    await make_project(gql)
    await settled(gql, done_id, 1)
    await receiver.wait_for("stuck", 1)

    assert await worker.prune() == 0  # retention is off in these settings
    worker.policy = dataclasses.replace(worker.policy, retention_days=1)
    assert await worker.prune() == 0  # nothing is a day old yet
    later = datetime.now(UTC) + timedelta(days=2)
    assert await worker.prune(now=later) == 1
    assert await deliveries(gql, done_id) == []
    (pending,) = await deliveries(gql, stuck_id)
    assert pending["status"] == "PENDING"
