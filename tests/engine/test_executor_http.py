"""HttpCaller against a real local HTTP server (Starlette served by uvicorn in a thread)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from pommel.engine.executors import HttpCaller, HttpRequest, HttpStepError, StepTimeout
from tests.dagger_double import ThreadedServer
from tests.dagger_double.helpers import LogCollector

pytestmark = pytest.mark.anyio

BIG_CHUNKS = 64  # of 64 KiB: 4 MiB, past the 1 MiB kept


async def echo(request: Request) -> Response:
    body = (await request.body()).decode()
    return JSONResponse(
        {
            "method": request.method,
            "body": body,
            "auth": request.headers.get("authorization"),
            "query": str(request.query_params),
        },
        status_code=201,
        headers={"X-Served-By": "test"},
    )


async def status(request: Request) -> Response:
    return PlainTextResponse("status body", status_code=int(request.path_params["code"]))


async def slow(_request: Request) -> Response:
    await asyncio.sleep(5)
    return PlainTextResponse("late")


async def big(_request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(BIG_CHUNKS):
            yield bytes([65 + i % 26]) * 65536

    return StreamingResponse(chunks(), media_type="application/octet-stream")


async def redirect(_request: Request) -> Response:
    return RedirectResponse("/status/200", status_code=302)


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    app = Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE"]),
            Route("/status/{code:int}", status),
            Route("/slow", slow),
            Route("/big", big),
            Route("/redirect", redirect),
        ]
    )
    srv = ThreadedServer(app)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def caller() -> AsyncIterator[HttpCaller]:
    http = HttpCaller()
    yield http
    await http.close()


def request(url: str, **overrides: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "GET",
        "url": url,
        "headers": {},
        "body": None,
        "expect_status": (200,),
        "timeout": 10,
    }
    fields.update(overrides)
    return HttpRequest(**fields)  # type: ignore[arg-type]


async def test_post_sends_method_headers_and_body(
    caller: HttpCaller, server: ThreadedServer
) -> None:
    log = LogCollector()
    response = await caller.call(
        request(
            f"{server.url}/echo?x=1",
            method="post",
            headers={"Authorization": "Bearer t0ken", "Content-Type": "application/json"},
            body='{"a": 1}',
            expect_status=(200, 201),
        ),
        log=log,
    )

    assert (response.status, response.ok, response.truncated) == (201, True, False)
    assert response.headers["x-served-by"] == "test"
    assert response.text == (
        '{"method":"POST","body":"{\\"a\\": 1}","auth":"Bearer t0ken","query":"x=1"}'
    )
    assert log.stream("stdout")[0] == f"POST {server.url}/echo?x=1"
    assert log.stream("stdout")[1].startswith("201 Created - ")
    assert "t0ken" not in " ".join(line for _, line in log.lines), "credentials are never logged"


async def test_unexpected_status_is_not_ok(caller: HttpCaller, server: ThreadedServer) -> None:
    log = LogCollector()
    response = await caller.call(request(f"{server.url}/status/503"), log=log)

    assert (response.status, response.ok, response.text) == (503, False, "status body")
    assert log.stream("stderr") == [
        log.stream("stderr")[0],
    ]
    assert log.stream("stderr")[0].startswith("503 Service Unavailable")
    assert log.stream("stderr")[0].endswith("(expected 200)")


async def test_expected_error_status_is_ok(caller: HttpCaller, server: ThreadedServer) -> None:
    response = await caller.call(
        request(f"{server.url}/status/404", expect_status=(404,)), log=LogCollector()
    )

    assert (response.status, response.ok) == (404, True)


async def test_redirects_are_not_followed(caller: HttpCaller, server: ThreadedServer) -> None:
    response = await caller.call(
        request(f"{server.url}/redirect", expect_status=(302,)), log=LogCollector()
    )

    assert (response.status, response.ok, response.headers["location"]) == (
        302,
        True,
        "/status/200",
    )


async def test_large_body_is_bounded(caller: HttpCaller, server: ThreadedServer) -> None:
    response = await caller.call(request(f"{server.url}/big"), log=LogCollector())

    assert response.ok
    assert response.truncated
    assert len(response.text) == 1024 * 1024
    assert response.text.startswith("A" * 65536 + "B")


async def test_connection_refused_is_a_step_failure(caller: HttpCaller) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    log = LogCollector()

    with pytest.raises(HttpStepError, match=r"GET http://127\.0\.0\.1:\d+/x failed: connection"):
        await caller.call(request(f"http://127.0.0.1:{port}/x"), log=log)

    assert "failed" in log.stream("stderr")[0]


async def test_invalid_url_is_a_step_failure(caller: HttpCaller) -> None:
    with pytest.raises(HttpStepError, match="failed"):
        await caller.call(request("ftp://example.invalid/file"), log=LogCollector())


async def test_timeout_raises_step_timeout(caller: HttpCaller, server: ThreadedServer) -> None:
    started = time.monotonic()

    with pytest.raises(StepTimeout, match=r"no response within 0\.5s"):
        await caller.call(request(f"{server.url}/slow", timeout=0.5), log=LogCollector())

    assert time.monotonic() - started < 4
