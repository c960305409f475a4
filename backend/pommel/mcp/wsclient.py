"""A minimal ``graphql-transport-ws`` client: one subscription over one WebSocket.

Used by the remote bridge to follow a server's event log (the same protocol the dashboard
speaks). The API key goes in the handshake's ``Authorization`` header and in the
``connection_init`` payload, where the server reads it for WebSockets.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"


def websocket_url(http_url: str) -> str:
    """``http://host/graphql`` → ``ws://host/graphql`` (``https`` → ``wss``)."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    """The next protocol message, answering pings on the way."""
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        if message.get("type") == "pong":
            continue
        return message


async def subscribe_over_websocket(
    url: str,
    *,
    query: str,
    variables: dict[str, Any],
    operation_name: str,
    api_key: str | None = None,
    open_timeout: float = 10.0,
) -> AsyncIterator[dict[str, Any]]:
    """Each result (``{"data": …}`` or ``{"errors": […]}``) until the server completes.

    Connection failures raise ``OSError``/``websockets`` exceptions: the caller decides
    whether and when to reconnect (with ``after`` set to what it last saw).
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    payload = {"Authorization": f"Bearer {api_key}", "apiKey": api_key} if api_key else {}
    async with connect(
        websocket_url(url),
        subprotocols=[Subprotocol(PROTOCOL)],
        additional_headers=headers,
        open_timeout=open_timeout,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = await _receive(ws)
        if ack.get("type") != "connection_ack":
            raise ConnectionError(f"{url} did not accept the connection: {ack}")
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": query, "variables": variables, "operationName": operation_name},
        }
        await ws.send(json.dumps(subscribe))
        while True:
            message = await _receive(ws)
            kind = message.get("type")
            if kind == "next":
                yield dict(message.get("payload") or {})
            elif kind == "error":
                yield {"errors": message.get("payload") or [{"message": "subscription refused"}]}
                return
            elif kind == "complete":
                return
