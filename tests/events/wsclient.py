"""A minimal ``graphql-transport-ws`` client: the protocol is a few JSON messages."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"

EVENT_FIELDS = "sequence type at runId taskId projectId workflowId step status message data"
RUN_EVENTS = (
    "subscription($runId: ID!, $after: Int) "
    f"{{ workflowRunEvents(runId: $runId, after: $after) {{ {EVENT_FIELDS} }} }}"
)
PROJECT_EVENTS = (
    "subscription($projectId: ID!, $after: Int) "
    f"{{ projectEvents(projectId: $projectId, after: $after) {{ {EVENT_FIELDS} }} }}"
)
ALL_EVENTS = (
    "subscription($after: Int, $types: [String!]) "
    f"{{ events(after: $after, types: $types) {{ {EVENT_FIELDS} }} }}"
)


def seqs(events: list[dict[str, Any]]) -> list[int]:
    """The ``sequence`` of each event."""
    return [int(event["sequence"]) for event in events]


class OperationEnded(Exception):
    """The operation ended (``complete`` or ``error``) before the expected messages came."""


class GraphQLWS:
    """One connection; many operations, their messages kept apart by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._reading = asyncio.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, url: str, *, payload: dict[str, Any] | None = None, **options: Any
    ) -> AsyncIterator[GraphQLWS]:
        async with connect(url, subprotocols=[PROTOCOL], proxy=None, **options) as ws:  # type: ignore[list-item]
            client = cls(ws)
            await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ack["type"] == "connection_ack", ack
            yield client

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        op_id = str(next(self._ids))
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
        return op_id

    async def complete(self, op_id: str) -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    async def message(self, op_id: str, seconds: float = 10.0) -> dict[str, Any]:
        """The next message of operation ``op_id``."""
        async with asyncio.timeout(seconds):
            while not self._pending[op_id]:
                async with self._reading:  # one reader; it files others' messages for them
                    if self._pending[op_id]:
                        break
                    raw = json.loads(await self.ws.recv())
                if raw.get("type") == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                self._pending[str(raw.get("id"))].append(raw)
        return self._pending[op_id].popleft()

    async def events(self, op_id: str, count: int, seconds: float = 10.0) -> list[dict[str, Any]]:
        """The next ``count`` events of a subscription; ``OperationEnded`` if it ends first."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(seconds):
            while len(found) < count:
                found.append(await self.event(op_id))
        return found

    async def event(self, op_id: str, seconds: float = 10.0) -> dict[str, Any]:
        message = await self.message(op_id, seconds)
        if message["type"] != "next" or message["payload"].get("errors"):
            raise OperationEnded(message)
        event: dict[str, Any] = next(iter(message["payload"]["data"].values()))
        return event

    async def until_complete(
        self, op_id: str, seconds: float = 10.0
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Every event until the operation ends, and the message that ended it."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(seconds):
            while True:
                message = await self.message(op_id)
                if message["type"] != "next" or message["payload"].get("errors"):
                    return found, message
                found.append(next(iter(message["payload"]["data"].values())))
