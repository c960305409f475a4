"""Serving an ASGI app with uvicorn in a background thread, and the engine double itself."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from tests.dagger_double.app import EngineApp, ReceivedQuery
from tests.dagger_double.pipeline import Pipeline
from tests.dagger_double.runner import Execution


class ThreadedServer:
    """An ASGI app on 127.0.0.1, served by uvicorn in a daemon thread with its own event loop."""

    def __init__(self, app: Any, *, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Bind (a free port unless one was given) and wait until requests are accepted."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Lets a restarted server take its old port back at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="test-server"
        )
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"


class DaggerDouble:
    """A Dagger engine double reachable the way ``dagger run`` hands a session to a program.

    ``received`` lists every request (parsed), ``executions`` every process it started.
    ``missing_images`` names image addresses whose ``from`` fails like an unknown image.
    """

    def __init__(self, work_dir: Path, *, token: str | None = None, port: int = 0) -> None:
        self.token = token or secrets.token_hex(16)
        self.app = EngineApp(self.token, work_dir)
        self._server = ThreadedServer(self.app, port=port)

    @property
    def port(self) -> int:
        """The session port (DAGGER_SESSION_PORT)."""
        return self._server.port

    @property
    def received(self) -> list[ReceivedQuery]:
        """Every request received, introspection included, in order."""
        return self.app.received

    @property
    def queries(self) -> list[ReceivedQuery]:
        """The received requests other than introspection."""
        return [q for q in self.app.received if not q.introspection]

    @property
    def pipelines(self) -> list[Pipeline]:
        """Every container chain the received queries selected from, in order."""
        return [p for q in self.queries for p in q.pipelines]

    @property
    def executions(self) -> list[Execution]:
        """Every process the double started, in order."""
        return self.app.engine.executions

    @property
    def missing_images(self) -> set[str]:
        """Image addresses whose ``from`` fails."""
        return self.app.missing_images

    def start(self) -> DaggerDouble:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving (running execs are killed as their requests are dropped)."""
        self._server.stop()
