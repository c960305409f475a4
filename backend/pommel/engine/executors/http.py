"""HTTP steps (the api_workflow type): one request per step, with httpx.

Failure model, decided here: a request that gets any HTTP response is a normal
:class:`HttpResponse` (``ok`` says whether the status was expected). A request that gets no
response at all (connection refused, DNS failure, TLS error, broken connection, invalid URL)
raises :class:`HttpStepError`: the *step* failed because its target is unreachable, which is
not an engine failure (:class:`EngineError` is kept for Pommel's own infrastructure). A
timeout raises :class:`StepTimeout`, as for process steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx

from pommel.engine.executors.base import OUTPUT_LIMIT, LogSink, StepTimeout

#: Response body bytes kept; the rest is read and dropped.
BODY_LIMIT = OUTPUT_LIMIT


@dataclass(frozen=True)
class HttpRequest:
    """A fully rendered HTTP step."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    #: Statuses that count as success.
    expect_status: tuple[int, ...] = (200,)
    #: Seconds for the whole exchange; None means no limit.
    timeout: float | None = None


@dataclass(frozen=True)
class HttpResponse:
    """What came back. ``text`` holds at most BODY_LIMIT bytes of the body, decoded."""

    status: int
    headers: Mapping[str, str]
    text: str
    #: status in the request's expect_status
    ok: bool
    #: True when the body was longer than what ``text`` keeps.
    truncated: bool = False


class HttpStepError(Exception):
    """The request got no HTTP response (unreachable target, protocol error): a step failure."""


class HttpCaller:
    """Sends HTTP steps over one shared connection pool."""

    def __init__(self, *, body_limit: int = BODY_LIMIT) -> None:
        self._body_limit = body_limit
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def call(self, request: HttpRequest, *, log: LogSink) -> HttpResponse:
        """Send the request, logging a request line and the status (never headers or bodies,
        which may carry credentials)."""
        client = self._get_client()
        method = request.method.upper()
        await log("stdout", f"{method} {request.url}")
        started = time.monotonic()
        try:
            async with asyncio.timeout(request.timeout) as deadline:
                status, headers, body, encoding, truncated = await self._send(
                    client, method, request
                )
        except TimeoutError:
            if deadline.expired():
                message = f"{method} {request.url}: no response within {request.timeout:g}s"
                await log("stderr", message)
                raise StepTimeout(message) from None
            raise
        except httpx.TimeoutException as exc:
            # httpx's own per-operation timeouts are set to the same limit; same outcome.
            message = f"{method} {request.url}: no response within {request.timeout:g}s"
            await log("stderr", message)
            raise StepTimeout(message) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            message = f"{method} {request.url} failed: {_describe(exc)}"
            await log("stderr", message)
            raise HttpStepError(message) from exc

        elapsed = time.monotonic() - started
        ok = status in request.expect_status
        note = "" if ok else f" (expected {', '.join(map(str, request.expect_status))})"
        await log(
            "stdout" if ok else "stderr",
            f"{status} {_reason(status)} - {len(body)} bytes in {elapsed:.2f}s{note}",
        )
        return HttpResponse(
            status=status,
            headers=headers,
            text=body.decode(encoding, errors="replace"),
            ok=ok,
            truncated=truncated,
        )

    async def _send(
        self, client: httpx.AsyncClient, method: str, request: HttpRequest
    ) -> tuple[int, dict[str, str], bytes, str, bool]:
        """Stream the response so only BODY_LIMIT bytes of the body are ever held."""
        async with client.stream(
            method,
            request.url,
            headers=dict(request.headers),
            content=request.body.encode() if request.body is not None else None,
            timeout=httpx.Timeout(request.timeout),
        ) as response:
            kept = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                room = self._body_limit - len(kept)
                if len(chunk) > room:
                    truncated = True
                    kept += chunk[: max(room, 0)]
                    # The rest is not needed: stop reading; closing drops the connection.
                    break
                kept += chunk
            # The charset the server declared (utf-8 by default); a cut body may end mid-character.
            encoding = response.encoding or "utf-8"
            headers = dict(response.headers.items())
            return response.status_code, headers, bytes(kept), encoding, truncated

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            # Redirects are not followed: a 3xx is a status the workflow may expect.
            self._client = httpx.AsyncClient(follow_redirects=False)
        return self._client


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _describe(exc: Exception) -> str:
    """A short reason, e.g. 'connection refused (ConnectError)'.

    httpx's async message is often just "All connection attempts failed"; the OS error that
    says why is further down the exception chain.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused ({type(exc).__name__})"
        cause = cause.__cause__ or cause.__context__
    return f"{str(exc) or type(exc).__name__} ({type(exc).__name__})"
