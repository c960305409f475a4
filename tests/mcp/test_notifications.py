"""A subscribed ``task-manager://dagger/workflows/{task_id}`` is told when its run progresses.

Driven two ways: by events appended to the log the way the engine appends them (exact and
fast), and by a real run of the engine.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.client.subscriptions import ResourceUpdated, Subscription

from mcp import Client
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.ids import Kind, parse_id
from pommel.mcp.server import Bridge
from pommel.runtime import Runtime
from tests.mcp.helpers import call, needs, read_json, seed


async def feed_is_live(runtime: Runtime) -> None:
    """Wait until the bridge follows the event log (its subscription is registered)."""
    for _ in range(1000):
        if runtime.broker.stats.subscribers >= 1:
            return
        await anyio.sleep(0.01)
    raise AssertionError("the bridge never subscribed to the event log")


async def append(runtime: Runtime, event_type: EventType, task_id: str, **fields: Any) -> None:
    """Append an event about ``task_id`` the way the engine does: inside a write."""
    async with runtime.db.write():
        await event_log.append(
            runtime.db,
            [NewEvent(event_type, task_id=parse_id(task_id, Kind.TASK), **fields)],
        )


async def next_update(subscription: Subscription) -> ResourceUpdated:
    with anyio.fail_after(10):
        async for event in subscription:
            assert isinstance(event, ResourceUpdated)
            return event
    raise AssertionError("the subscription ended")


async def test_listen_stream_gets_updates_for_its_task_only(mcp: Client, runtime: Runtime) -> None:
    seeded = await seed(mcp)
    uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
    async with mcp.listen(resource_subscriptions=[uri]) as subscription:
        await feed_is_live(runtime)
        await append(runtime, EventType.STEP_FINISHED, seeded.ml_task_id, step="train")
        await append(runtime, EventType.STEP_STARTED, seeded.command_task_id, step="execute")
        assert await next_update(subscription) == ResourceUpdated(uri=uri)
        await append(runtime, EventType.RUN_FINISHED, seeded.command_task_id, status="succeeded")
        assert await next_update(subscription) == ResourceUpdated(uri=uri)


async def test_handshake_era_subscription_gets_notifications(
    bridge: Bridge, runtime: Runtime
) -> None:
    received: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            received.append(str(message.params.uri))
            arrived.set()

    async with Client(bridge.server, mode="legacy", message_handler=on_message) as client:
        seeded = await seed(client)
        uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resources/subscribe is deprecated at 2026-07-28
            await client.subscribe_resource(uri)
        await feed_is_live(runtime)
        await append(runtime, EventType.STEP_STARTED, seeded.ml_task_id, step="train")
        await append(runtime, EventType.WORKFLOW_CREATED, seeded.command_task_id)
        with anyio.fail_after(10):
            await arrived.wait()
        assert received == [uri]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.unsubscribe_resource(uri)


async def _collect_until(
    subscription: Subscription, done: Callable[[], Any], limit_s: float = 60.0
) -> int:
    """Count updates until ``done()`` (awaited after each) is true."""
    count = 0
    with anyio.fail_after(limit_s):
        async for _ in subscription:
            count += 1
            if await done():
                return count
    return count


@needs("execution", "run status")
async def test_a_real_run_is_watched_to_the_end(mcp: Client, runtime: Runtime) -> None:
    seeded = await seed(mcp)
    uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
    async with mcp.listen(resource_subscriptions=[uri]) as subscription:
        await feed_is_live(runtime)
        await call(mcp, "execute_task_workflow", {"task_id": seeded.command_task_id})

        async def finished() -> bool:
            state = await read_json(mcp, uri)
            run = state["workflowForTask"]["latestRun"]
            return bool(run) and run["status"] in {"succeeded", "failed", "cancelled"}

        updates = await _collect_until(subscription, finished)
    assert updates >= 1
    state = await read_json(mcp, uri)
    assert state["workflowForTask"]["latestRun"]["status"] == "succeeded"
