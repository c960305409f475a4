"""Fast delivery settings, a real receiver, and helpers to read delivery records."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from pommel.config import Settings
from tests.conftest import GraphQLClient
from tests.webhooks.receiver import Receiver

CREATE_WEBHOOK = """
mutation($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    secret
    webhook { id url description eventTypes projectId active createdAt updatedAt }
  }
}
"""
DELIVERY_FIELDS = """
id webhookId eventSequence eventType status attempts responseStatus lastError
nextAttemptAt createdAt deliveredAt redeliveryOf payload
history { number at durationMs responseStatus error responseBody }
"""
DELIVERIES = "query { webhooks { id deliveries(first: 100) { " + DELIVERY_FIELDS + " } } }"


@pytest.fixture(autouse=True)
def _keep_parameters(anyio_backend: str) -> str:
    """Request ``anyio_backend`` explicitly: anyio re-creates auto-marked coroutine tests that
    do not, and the copies lose their ``parametrize`` arguments."""
    return anyio_backend


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Deliveries fast enough to test: short timeout, sub-second backoff, quick polling."""
    return dataclasses.replace(
        settings,
        webhook_timeout_s=1.0,
        webhook_backoff_base_s=0.2,
        webhook_backoff_cap_s=2.0,
        webhook_max_attempts=4,
        webhook_poll_interval_s=0.2,
        # The log is compared with what was delivered: keep all of it.
        event_retention_days=0,
        event_retention_count=0,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


async def create_webhook(gql: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """``createWebhook``'s payload (``secret`` and ``webhook``)."""
    data = await gql.data(CREATE_WEBHOOK, {"input": fields})
    payload: dict[str, Any] = data["createWebhook"]
    return payload


async def deliveries(gql: GraphQLClient, hook_id: str) -> list[dict[str, Any]]:
    """A webhook's deliveries, oldest first."""
    hooks = (await gql.data(DELIVERIES))["webhooks"]
    found: list[dict[str, Any]] = next(h["deliveries"] for h in hooks if h["id"] == hook_id)
    return list(reversed(found))


async def eventually(
    check: Callable[[], Awaitable[bool]], seconds: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {seconds}s")
        await asyncio.sleep(0.02)


async def settled(gql: GraphQLClient, hook_id: str, count: int) -> list[dict[str, Any]]:
    """Wait until the webhook has ``count`` deliveries, none pending; return them."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal found
        found = await deliveries(gql, hook_id)
        return len(found) >= count and all(d["status"] != "PENDING" for d in found)

    await eventually(done, what=f"{count} settled deliveries of {hook_id}")
    return found
