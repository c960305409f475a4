"""A real uvicorn server in a background thread, for tests that need real sockets.

The server runs on its own event loop, as it would in production; ``run`` executes a
coroutine on that loop (database writes go through the app's own ``Database`` there), and
returns to the test's loop when it is done.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import uvicorn
from starlette.applications import Starlette

from pommel.runtime import Runtime

T = TypeVar("T")


class LiveServer:
    """``create_app(...)`` served by uvicorn on a free 127.0.0.1 port."""

    def __init__(self, app: Starlette, *, send_buffer: int | None = None) -> None:
        self.app = app
        self.runtime: Runtime = app.state.runtime
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if send_buffer:
            # Accepted connections inherit it: a client that stops reading then blocks the
            # server's writes after a few kilobytes rather than after megabytes.
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
        self._socket.bind(("127.0.0.1", 0))  # bound here, so the port is ours before start
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name="live-server", daemon=True)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            loop.close()

    def start(self, timeout: float = 30.0) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the live server failed to start (see the log)")
            if time.monotonic() > deadline:
                raise TimeoutError("the live server did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()

    def spawn(self, make: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Start ``make()`` on the server's loop (where its database lives); don't wait."""
        assert self._loop is not None

        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self._loop)

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` on the server's loop."""
        return await asyncio.wrap_future(self.spawn(make))
