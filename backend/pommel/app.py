"""The ASGI application factory."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from pommel import __version__
from pommel.api.http import PommelGraphQL
from pommel.config import Settings
from pommel.logconfig import new_request_id, request_id_var
from pommel.mcp.http import McpEndpoint
from pommel.runtime import Runtime
from pommel.storage.database import Database

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"


class RequestIdMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` if sane), echoed back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given.isalnum() and len(given) <= 64 else new_request_id()
        token = request_id_var.set(request_id)

        async def send_with_id(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)  # type: ignore[arg-type]
        finally:
            request_id_var.reset(token)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Starlette:
    """Build the app; the lifespan connects the database and starts background services."""
    settings = settings or Settings()
    runtime = runtime or Runtime(settings=settings, db=Database(settings.database_url))
    graphql = PommelGraphQL(runtime, vendor_url="/static/vendor/")
    mcp = McpEndpoint(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Start-up lives in Runtime.running(), shared with the in-process MCP bridge.
        # /mcp's session manager runs here: a mounted app's own lifespan never runs.
        async with runtime.running(), mcp.running():
            # What exists now (modules, the schema, settings) lives as long as the process:
            # freezing it spares every full collection from walking ~100,000 objects.
            gc.collect()
            gc.freeze()
            yield

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def dashboard(request: Request) -> Response:
        index = STATIC_DIR / "app" / "index.html"
        if index.is_file():
            return FileResponse(index)
        return JSONResponse(
            {
                "error": "the dashboard is not built; run `make run` (or `make frontend`)",
                "graphiql": "/graphql",
            },
            status_code=503,
        )

    routes = [
        Route("/healthz", healthz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/mcp", mcp),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
        Route("/", dashboard),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    app.add_middleware(RequestIdMiddleware)
    return app


def app_from_environment() -> Starlette:
    """Factory for ``uvicorn --factory`` (used by ``pommel serve --reload``)."""
    from pommel.config import load_settings

    return create_app(load_settings())
