"""A real webhook receiver: a small Starlette app served by uvicorn in a thread.

Each path (``/hooks/<name>``) is one endpoint that records every request it gets and can be
told to fail its next N requests, to answer with a given status, or to hang.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


@dataclass
class _Behaviour:
    fail_next: int = 0
    fail_status: int = 500
    always_status: int | None = None
    hang_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Records deliveries per endpoint; configure failures before events happen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: dict[str, list[Received]] = defaultdict(list)
        self._behaviour: dict[str, _Behaviour] = defaultdict(_Behaviour)
        app = Starlette(routes=[Route("/hooks/{name}", self._handle, methods=["POST"])])
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="receiver", daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    # -- configuring --------------------------------------------------------------------

    def fail(self, name: str, times: int, status: int = 500, **headers: str) -> None:
        with self._lock:
            behaviour = self._behaviour[name]
            behaviour.fail_next, behaviour.fail_status = times, status
            behaviour.headers = dict(headers)

    def always(self, name: str, status: int | None) -> None:
        with self._lock:
            self._behaviour[name].always_status = status

    def hang(self, name: str, seconds: float) -> None:
        with self._lock:
            self._behaviour[name].hang_s = seconds

    # -- reading ------------------------------------------------------------------------

    def requests(self, name: str) -> list[Received]:
        with self._lock:
            return list(self._received[name])

    async def wait_for(self, name: str, count: int, seconds: float = 10.0) -> list[Received]:
        """The first ``count`` requests of ``name``; fails if they do not come in time."""
        deadline = time.monotonic() + seconds
        while len(found := self.requests(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: {len(found)} of {count} requests in {seconds}s")
            await asyncio.sleep(0.01)
        return found

    # -- serving ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        with self._lock:
            self._received[name].append(Received(dict(request.headers), body, time.monotonic()))
            behaviour = self._behaviour[name]
            status, headers = 200, {}
            if behaviour.always_status is not None:
                status = behaviour.always_status
            elif behaviour.fail_next > 0:
                behaviour.fail_next -= 1
                status, headers = behaviour.fail_status, behaviour.headers
            hang = behaviour.hang_s
        if hang:
            await asyncio.sleep(hang)
        return Response(f"answer {status}", status_code=status, headers=headers)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            loop.close()

    def start(self) -> Receiver:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
