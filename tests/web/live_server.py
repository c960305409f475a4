"""A real Pommel server (uvicorn, a free port, a fresh SQLite file) in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from pommel.app import create_app
from pommel.config import Settings


class LiveServer:
    def __init__(self, url: str) -> None:
        self.url = url

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of an operation that must succeed, sent over real HTTP."""
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=10
        )
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@contextmanager
def live_server(directory: Path) -> Iterator[LiveServer]:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'pommel.sqlite'}",
        executor="local",
        work_dir=directory / "work",
        worker_concurrency=2,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), lifespan="on", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
