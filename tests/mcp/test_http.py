"""``/mcp`` on a real server (uvicorn on a socket), through the SDK's streamable-HTTP client;
and the remote bridge (``--url``) against that server's ``/graphql``."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import httpx2
import mcp_types as types
import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated

from mcp import Client
from pommel.app import create_app
from pommel.config import Settings
from pommel.events.model import EventType
from pommel.mcp.executor import RemoteExecutor
from pommel.mcp.server import build_bridge
from pommel.services import api_keys
from tests.events.server import LiveServer
from tests.mcp.helpers import (
    RESOURCE_TEMPLATES,
    RESOURCES,
    available_tools,
    call,
    names,
    needs,
    seed,
    tool_error,
    usage_examples,
)
from tests.mcp.test_notifications import append

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(create_app(settings)).start()
    yield live
    live.stop()


def mcp_url(live: LiveServer) -> str:
    return f"http://127.0.0.1:{live.port}/mcp"


def graphql_url(live: LiveServer) -> str:
    return f"http://127.0.0.1:{live.port}/graphql"


@pytest.fixture
async def http_client(server: LiveServer) -> AsyncIterator[Client]:
    async with Client(mcp_url(server)) as client:
        yield client


@pytest.fixture
async def remote_client(server: LiveServer) -> AsyncIterator[Client]:
    """The bridge in ``--url`` mode (in this process) in front of the live server."""
    executor = RemoteExecutor(graphql_url(server))
    try:
        async with Client(build_bridge(executor).server) as client:
            yield client
    finally:
        await executor.aclose()


@needs("execution", "run status")
async def test_over_http_the_tools_resources_and_examples(http_client: Client) -> None:
    assert await names(http_client) == (available_tools(), RESOURCES, RESOURCE_TEMPLATES)
    await usage_examples(http_client)


@needs("execution", "run status")
async def test_remote_mode_gives_the_same_results(
    remote_client: Client, http_client: Client
) -> None:
    assert await names(remote_client) == await names(http_client)
    await usage_examples(remote_client)


@needs("run status")
async def test_over_http_a_listen_stream_is_notified(
    http_client: Client, server: LiveServer
) -> None:
    seeded = await seed(http_client)
    uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
    async with http_client.listen(resource_subscriptions=[uri]) as subscription:
        await server.run(lambda: _feed_is_live(server))
        await server.run(
            lambda: append(server.runtime, EventType.RUN_STARTED, seeded.command_task_id)
        )
        with anyio.fail_after(10):
            event = await anext(aiter(subscription))
    assert event == ResourceUpdated(uri=uri)


async def _feed_is_live(server: LiveServer) -> None:
    for _ in range(1000):
        if server.runtime.broker.stats.subscribers >= 1:
            return
        await anyio.sleep(0.01)
    raise AssertionError("the bridge never subscribed to the event log")


@needs("run status")
async def test_over_http_a_handshake_era_subscription_is_notified(server: LiveServer) -> None:
    arrived = anyio.Event()
    received: list[str] = []

    async def on_message(message: object) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            received.append(str(message.params.uri))
            arrived.set()

    async with Client(mcp_url(server), mode="legacy", message_handler=on_message) as client:
        seeded = await seed(client)
        uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resources/subscribe is deprecated at 2026-07-28
            await client.subscribe_resource(uri)
        await server.run(lambda: _feed_is_live(server))
        await server.run(
            lambda: append(server.runtime, EventType.RUN_STARTED, seeded.command_task_id)
        )
        with anyio.fail_after(10):
            await arrived.wait()
    assert received == [uri]


@needs("run status")
async def test_remote_mode_notifications_come_over_the_websocket(
    remote_client: Client, server: LiveServer
) -> None:
    seeded = await seed(remote_client)
    uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
    async with remote_client.listen(resource_subscriptions=[uri]) as subscription:
        await server.run(lambda: _feed_is_live(server))
        await server.run(
            lambda: append(server.runtime, EventType.STEP_STARTED, seeded.command_task_id)
        )
        with anyio.fail_after(10):
            event = await anext(aiter(subscription))
    assert event == ResourceUpdated(uri=uri)


async def test_remote_mode_says_when_the_server_is_unreachable() -> None:
    executor = RemoteExecutor("http://127.0.0.1:9/graphql", timeout=5)
    try:
        async with Client(build_bridge(executor).server) as client:
            text = await tool_error(client, "list_workflow_templates", {})
    finally:
        await executor.aclose()
    assert text.startswith("UNAVAILABLE: cannot reach the Pommel server at http://127.0.0.1:9")


# -- behind API keys ------------------------------------------------------------------------


@pytest.fixture
def secured(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(create_app(dataclasses.replace(settings, auth_required=True))).start()
    yield live
    live.stop()


async def _key(server: LiveServer, *scopes: str) -> str:
    created = await server.run(
        lambda: api_keys.create_api_key(server.runtime.db, name="agent", scopes=scopes)
    )
    return created.secret


def _with_key(server: LiveServer, key: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(mcp_url(server), http_client=http))


async def test_mcp_wants_an_api_key_when_keys_are_required(secured: LiveServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(mcp_url(secured), json=INITIALIZE, headers=MCP_HEADERS)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        wrong = await http.post(
            mcp_url(secured),
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Authorization": "Bearer pml_nope_nope"},
        )
        assert wrong.status_code == 401


async def test_a_key_works_with_its_scopes(secured: LiveServer) -> None:
    reader = await _key(secured, "read")
    async with _with_key(secured, reader) as client:
        templates = await call(client, "list_workflow_templates", {})
        assert templates["templates"]
        text = await tool_error(client, "create_project", {"name": "not allowed"})
        assert text.startswith("FORBIDDEN: API key 'agent' lacks the 'write' scope")


async def test_remote_mode_sends_the_api_key(secured: LiveServer) -> None:
    writer = await _key(secured, "read", "write")
    executor = RemoteExecutor(graphql_url(secured), api_key=writer)
    anonymous = RemoteExecutor(graphql_url(secured))
    try:
        async with Client(build_bridge(executor).server) as client:
            project = await call(client, "create_project", {"name": "Remote"})
            assert project["createProject"]["id"].startswith("proj-")
        async with Client(build_bridge(anonymous).server) as client:
            text = await tool_error(client, "list_projects", {})
            assert text.startswith("UNAUTHENTICATED: ")
    finally:
        await executor.aclose()
        await anonymous.aclose()


# -- allowed hosts --------------------------------------------------------------------------


async def test_only_allowed_hosts_are_served(server: LiveServer, settings: Settings) -> None:
    async with httpx.AsyncClient() as http:
        refused = await http.post(
            mcp_url(server), json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"}
        )
        assert refused.status_code in {400, 403, 421}
        served = await http.post(mcp_url(server), json=INITIALIZE, headers=MCP_HEADERS)
        assert served.status_code == 200


async def test_allowed_hosts_are_configurable(settings: Settings) -> None:
    configured = dataclasses.replace(settings, allowed_hosts=("pommel.internal",))
    live = LiveServer(create_app(configured)).start()
    try:
        async with httpx.AsyncClient() as http:
            served = await http.post(
                mcp_url(live),
                json=INITIALIZE,
                headers={**MCP_HEADERS, "Host": f"pommel.internal:{live.port}"},
            )
            assert served.status_code == 200
    finally:
        live.stop()
