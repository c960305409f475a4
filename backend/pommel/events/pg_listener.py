"""``LISTEN pommel_events`` on a dedicated PostgreSQL connection, reconnecting when it drops.

Every event append NOTIFYs the channel, and PostgreSQL delivers notifications only when the
appending transaction commits, so a notification means "new events are readable": the broker
of every process is woken by commits made in any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg

from pommel.storage.database import EVENT_CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "pommel-event-listener"


class PgEventListener:
    """Calls ``wake`` on every notification, and after every (re)connect.

    Waking after a reconnect matters: commits made while the connection was down sent their
    notifications to nobody, and the broker must catch up on them.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        wake: Callable[[], None],
        *,
        health_interval_s: float = 30.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.config = dict(config)
        self.wake = wake
        self.health_interval_s = health_interval_s
        self.max_backoff_s = max_backoff_s
        self.connected = asyncio.Event()
        self.connections = 0  # successful connects so far (1 + reconnects)

    async def run(self) -> None:
        """Listen until cancelled."""
        backoff = 0.1
        while True:
            try:
                await self._listen_once()
                backoff = 0.1  # it was up: the next drop starts a fresh backoff
            except Exception as exc:  # whatever broke, the listener must outlive it
                log.warning(
                    "event listener: %s: %s; reconnecting in %.1fs",
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                # Pace reconnect attempts against a database that is down.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def _listen_once(self) -> None:
        """One connection's life: LISTEN, then wait until it is lost."""
        connection = await asyncpg.connect(
            **self.config,
            timeout=10,
            server_settings={"application_name": APPLICATION_NAME},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(EVENT_CHANNEL, self._notified)
            self.connections += 1
            self.connected.set()
            self.wake()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=self.health_interval_s)
                if not lost.is_set():
                    # A silently dead link (no FIN, e.g. a dropped NAT entry) only shows
                    # when we send something.
                    await connection.execute("SELECT 1", timeout=10)
            log.warning("event listener: connection lost; reconnecting")
        finally:
            self.connected.clear()
            if not connection.is_closed():
                connection.terminate()

    def _notified(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        self.wake()
