"""Resource update notifications, fed by the event log.

The bridge follows the event log through its ``ResourceChanges`` subscription operation (the
broker in-process, the server's WebSocket remotely) from the moment it starts. Each event names
what it touched (a task, a project, a template); the resources showing that get a
``notifications/resources/updated``, so an agent can watch a run instead of polling:

- on 2026-07-28 connections, through ``subscriptions/listen`` streams (the SDK's bus delivers
  only the URIs each stream asked for);
- on earlier connections, to each session that sent ``resources/subscribe`` for the URI.

After a dropped feed the watcher resubscribes with ``after`` = the last sequence it saw, so no
event is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import anyio
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp.shared.uri_template import UriTemplate

from pommel.mcp.executor import Executor
from pommel.mcp.operations import Operation

log = logging.getLogger(__name__)

WORKFLOWS = "task-manager://dagger/workflows"
STATS = "task-manager://dagger/stats"
TEMPLATES = "task-manager://dagger/templates"
TASK_WORKFLOW = "task-manager://dagger/workflows/{task_id}"
PROJECT_WORKFLOWS = "task-manager://dagger/projects/{project_id}/workflows"
TEMPLATE = "task-manager://dagger/templates/{template_id}"

# Which resources an event changes, by its kind (the part of its type before the dot).
AFFECTED: dict[str, tuple[str, ...]] = {
    "workflow": (WORKFLOWS, TASK_WORKFLOW, PROJECT_WORKFLOWS),
    "run": (WORKFLOWS, TASK_WORKFLOW, PROJECT_WORKFLOWS, STATS),
    "step": (TASK_WORKFLOW,),
    "template": (TEMPLATES, TEMPLATE),
}

_PARSED = {
    pattern: UriTemplate.parse(pattern) for patterns in AFFECTED.values() for pattern in patterns
}

RETRY_MIN_S = 0.5
RETRY_MAX_S = 15.0


def changed_uris(event: Mapping[str, Any]) -> list[str]:
    """The resource URIs whose content ``event`` (an ``Event`` of the feed) changes."""
    kind = str(event.get("type", "")).split(".", 1)[0]
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    values = {
        "task_id": event.get("taskId"),
        "project_id": event.get("projectId"),
        "template_id": (data or {}).get("template"),
    }
    uris = []
    for pattern in AFFECTED.get(kind, ()):
        template = _PARSED[pattern]
        needed = {name: values.get(name) for name in template.variable_names}
        if all(isinstance(value, str) and value for value in needed.values()):
            uris.append(template.expand({k: str(v) for k, v in needed.items()}))
    return uris


def _connection_key(session: ServerSession) -> object:
    # A ServerSession is a per-request proxy; the connection behind it is what identifies a
    # client across its subscribe and unsubscribe requests.
    return getattr(session, "_connection", session)


class ResourceWatcher:
    """Turns feed events into resource update notifications."""

    def __init__(self, executor: Executor, feed: Operation | None, bus: SubscriptionBus) -> None:
        self.executor = executor
        self.feed = feed
        self.bus = bus
        self._legacy: dict[str, dict[object, ServerSession]] = {}
        self._last: int | None = None

    # -- handshake-era subscriptions ---------------------------------------------------------

    def subscribe(self, uri: str, session: ServerSession) -> None:
        self._legacy.setdefault(uri, {})[_connection_key(session)] = session

    def unsubscribe(self, uri: str, session: ServerSession) -> None:
        sessions = self._legacy.get(uri, {})
        sessions.pop(_connection_key(session), None)
        if not sessions:
            self._legacy.pop(uri, None)

    # -- following the feed ------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the feed until cancelled, resubscribing after failures."""
        if self.feed is None:
            log.warning("no subscription operation to feed resource notifications; none are sent")
            return
        retry = RETRY_MIN_S
        failing = False
        while True:
            try:
                async for data in self.executor.subscribe(self.feed, {"after": self._last}):
                    retry, failing = RETRY_MIN_S, False
                    for event in data.values():
                        if isinstance(event, dict):
                            await self.handle(event)
            except Exception as exc:  # the feed must outlive a server restart or a bad event
                # Said once per outage, not at every retry.
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "resource notifications: the event feed failed (%s); retrying",
                    exc,
                )
                failing = True
            await anyio.sleep(retry)
            retry = min(retry * 2, RETRY_MAX_S)

    async def handle(self, event: Mapping[str, Any]) -> None:
        """Notify every subscriber of the resources ``event`` changed."""
        sequence = event.get("sequence")
        if isinstance(sequence, int):
            self._last = sequence
        await self.notify(changed_uris(event))

    async def notify(self, uris: Iterable[str]) -> None:
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
            for key, session in list(self._legacy.get(uri, {}).items()):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # the client went away: forget its subscriptions
                    self._forget(key)

    def _forget(self, key: object) -> None:
        for uri in list(self._legacy):
            self._legacy[uri].pop(key, None)
            if not self._legacy[uri]:
                del self._legacy[uri]
