"""Server processes for the benchmarks: ``python -m bench.servers {pommel,floor} …``.

Both serve with uvicorn configured as ``pommel serve`` does (uvloop and httptools when installed,
no access log), on 127.0.0.1 and a port the OS picks: the child binds the socket itself and
prints ``BENCH-READY <port>`` before serving.

``pommel`` serves ``create_app(settings)`` unchanged, wrapped in a middleware that answers
``GET /__bench__/counters`` with how many GraphQL requests, Piccolo queries, SQL statements
(everything SQLite executes: queries, ``PRAGMA``, ``BEGIN``, ``COMMIT``) and connections the
process has seen, and the CPU time it has used (all threads: SQLite's too). The counting
wrappers are installed here, in the benchmark's own process: production code has no hook for
them.

``floor`` serves the graphql-core floor (``bench.floor``) from a JSON file written by the
benchmark, through a minimal Starlette app: one route, ``graphql()``, JSON out, encoded as
Strawberry encodes it; the same middleware counts its requests and CPU time.
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.harness import COUNTERS_PATH, READY_PREFIX

COUNTERS: dict[str, int] = {"requests": 0, "queries": 0, "statements": 0, "connections": 0}
_COUNTERS_LOCK = threading.Lock()  # SQLite calls back from aiosqlite's worker threads


def bump(key: str) -> None:
    with _COUNTERS_LOCK:
        COUNTERS[key] += 1


def counters() -> dict[str, float]:
    """The counters, with this process's CPU time so far (all threads), in milliseconds."""
    with _COUNTERS_LOCK:
        return {**COUNTERS, "cpu_ms": time.process_time() * 1000}


def install_sql_counters() -> None:
    """Count SQLite connections and statements in this process, however they are made.

    ``sqlite3.connect`` is wrapped (aiosqlite and Piccolo call it at connect time, on whatever
    thread), and every connection gets a trace callback, which SQLite calls once per statement
    executed: queries, ``PRAGMA``, ``BEGIN``, ``COMMIT``.
    """
    connect = sqlite3.connect

    def count_statement(_sql: str) -> None:
        bump("statements")

    def counted_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(count_statement)
        bump("connections")
        return connection

    sqlite3.connect = counted_connect  # type: ignore[assignment]


def count_piccolo_queries(engine: Any) -> None:
    """Count the queries Piccolo sends through ``engine`` (its class's ``run_querystring``)."""
    engine_class = type(engine)
    run_querystring = engine_class.run_querystring

    async def counted_run_querystring(self: Any, *args: Any, **kwargs: Any) -> Any:
        bump("queries")
        return await run_querystring(self, *args, **kwargs)

    engine_class.run_querystring = counted_run_querystring


class CountingMiddleware:
    """Counts ``POST /graphql`` requests and serves the counters (both servers have it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] == COUNTERS_PATH:
                await JSONResponse(counters())(scope, receive, send)
                return
            if scope["path"] == "/graphql" and scope["method"] == "POST":
                bump("requests")
        await self.app(scope, receive, send)


def pommel_app(database_url: str, work_dir: Path) -> ASGIApp:
    from pommel.app import create_app
    from pommel.config import Settings
    from pommel.logconfig import configure_logging

    configure_logging("WARNING")
    install_sql_counters()
    settings = Settings(database_url=database_url, executor="local", work_dir=work_dir)
    app = create_app(settings)
    count_piccolo_queries(app.state.runtime.db.engine)
    return CountingMiddleware(app)


def floor_app(data_path: Path) -> ASGIApp:
    """A minimal Starlette + graphql-core server over the floor's in-memory data."""
    from graphql import graphql

    from bench.floor import FloorData, build_floor_schema

    dump = json.loads(data_path.read_text(encoding="utf-8"))
    schema = build_floor_schema(dump["sdl"], FloorData(dump["data"]))
    # Long-lived objects out of the cyclic GC's way, as a tuned server would have them: the
    # floor should be what graphql-core costs, not what full collections of a heap cost.
    gc.collect()
    gc.freeze()

    async def graphql_endpoint(request: Request) -> Response:
        payload = await request.json()
        result = await graphql(
            schema,
            payload["query"],
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        body = result.formatted
        if not result.errors:
            body.pop("errors", None)
        return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )
    return CountingMiddleware(app)


def serve(app: ASGIApp) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"{READY_PREFIX}{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, proxy_headers=False
    )
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    kinds = parser.add_subparsers(dest="kind", required=True)
    pommel = kinds.add_parser("pommel", help="Pommel's app, with SQL counters")
    pommel.add_argument("--database-url", required=True)
    pommel.add_argument("--work-dir", type=Path, required=True)
    floor = kinds.add_parser("floor", help="graphql-core over in-memory data")
    floor.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    factory: Callable[[], ASGIApp] = (
        (lambda: pommel_app(args.database_url, args.work_dir))
        if args.kind == "pommel"
        else (lambda: floor_app(args.data))
    )
    serve(factory())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
