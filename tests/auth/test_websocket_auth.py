"""WebSocket authentication against a real uvicorn server: the key goes in the
``connection_init`` payload (or the handshake's ``Authorization`` header); without a valid one
the connection is refused, and scopes still apply to each operation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from pommel.app import create_app
from pommel.config import Settings
from pommel.services import api_keys
from tests.events.server import LiveServer
from tests.events.wsclient import ALL_EVENTS, PROTOCOL, GraphQLWS


@pytest.fixture
def server(auth_settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(create_app(auth_settings)).start()
    yield live
    live.stop()


async def _key(server: LiveServer, *scopes: str) -> str:
    created = await server.run(
        lambda: api_keys.create_api_key(server.runtime.db, name="ws", scopes=scopes)
    )
    return created.secret


async def _refusal(server: LiveServer, payload: dict[str, Any] | None) -> ConnectionClosed:
    """The close that answers a ``connection_init`` with ``payload``."""
    async with connect(server.ws_url, subprotocols=[PROTOCOL], proxy=None) as ws:  # type: ignore[list-item]
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await ws.send(json.dumps(message))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value


async def test_a_connection_without_a_key_is_refused_with_the_reason(server: LiveServer) -> None:
    closed = await _refusal(server, None)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403
    assert closed.rcvd.reason.startswith("UNAUTHENTICATED: authentication required")


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": "Bearer pml_00000000_" + "A" * 43},
        {"authorization": "garbage"},
        {"apiKey": ""},
    ],
)
async def test_a_bad_key_is_refused(server: LiveServer, payload: dict[str, Any]) -> None:
    closed = await _refusal(server, payload)
    assert closed.rcvd is not None and closed.rcvd.code == 4403
    assert "UNAUTHENTICATED" in closed.rcvd.reason


async def test_a_revoked_key_is_refused(server: LiveServer) -> None:
    key = await _key(server, "read")
    record = await server.run(lambda: api_keys.find_api_key(key))
    assert record is not None
    await server.run(lambda: api_keys.revoke_api_key(server.runtime.db, pk=record.pk))
    closed = await _refusal(server, {"Authorization": f"Bearer {key}"})
    assert closed.rcvd is not None and "revoked" in closed.rcvd.reason


async def test_the_legacy_protocol_gets_the_reason_as_a_payload(server: LiveServer) -> None:
    async with connect(server.ws_url, subprotocols=["graphql-ws"], proxy=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "connection_error"
    assert message["payload"]["code"] == "UNAUTHENTICATED"
    assert "Authorization" in message["payload"]["message"]


async def test_a_key_in_the_payload_is_accepted_and_events_flow(server: LiveServer) -> None:
    reader = await _key(server, "read")
    writer = await _key(server, "write")
    payload = {"Authorization": f"Bearer {reader}"}
    async with GraphQLWS.connect(server.ws_url, payload=payload) as client:
        op = await client.subscribe(ALL_EVENTS, {"after": 0})
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            response = await http.post(
                "/graphql",
                json={"query": 'mutation { createProject(input: {name: "ws"}) { id } }'},
                headers={"Authorization": f"Bearer {writer}"},
            )
            assert not response.json().get("errors"), response.text
        event = await client.event(op)
        assert event["type"] == "project.created"


async def test_a_bare_key_and_the_handshake_header_are_accepted_too(server: LiveServer) -> None:
    reader = await _key(server, "read")
    async with GraphQLWS.connect(server.ws_url, payload={"apiKey": reader}) as client:
        op = await client.subscribe("query { __typename }")
        message = await client.message(op)
        assert message["payload"]["data"] == {"__typename": "Query"}
    headers = {"Authorization": f"Bearer {reader}"}
    async with GraphQLWS.connect(server.ws_url, additional_headers=headers) as client:
        op = await client.subscribe("query { __typename }")
        assert (await client.message(op))["payload"]["data"] == {"__typename": "Query"}


async def test_scopes_apply_to_each_operation_on_the_connection(server: LiveServer) -> None:
    writer = await _key(server, "write")
    async with GraphQLWS.connect(server.ws_url, payload={"Authorization": writer}) as client:
        op = await client.subscribe(ALL_EVENTS, {"after": 0})
        message = await client.message(op)
        assert message["type"] == "error"
        (error,) = message["payload"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert error["extensions"]["missingScope"] == "read"
        # A mutation over the same connection is within the key's scopes.
        op = await client.subscribe('mutation { createProject(input: {name: "w"}) { id } }')
        message = await client.message(op)
        assert message["type"] == "next"
        assert message["payload"]["data"]["createProject"]["id"] == "proj-1"


async def test_without_auth_required_connections_need_no_key(settings: Settings) -> None:
    live = LiveServer(create_app(settings)).start()
    try:
        async with GraphQLWS.connect(live.ws_url) as client:
            op = await client.subscribe("query { __typename }")
            assert (await client.message(op))["payload"]["data"] == {"__typename": "Query"}
    finally:
        live.stop()
