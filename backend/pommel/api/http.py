"""Strawberry's ASGI GraphQL app, wired to Pommel's context and the offline GraphiQL page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from pommel.api.context import Context
from pommel.logconfig import request_id_var
from pommel.runtime import Runtime

UNPKG = "https://unpkg.com/"


class PommelGraphQL(GraphQL[Context, None]):
    """``/graphql`` over HTTP and WebSocket; GraphiQL in a browser."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        vendor_url: str | None = None,
        page_rewrite: Callable[[str], str] | None = None,
    ) -> None:
        from pommel.api.schema import build_schema

        super().__init__(
            build_schema(runtime.settings),
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            allowed_origins=runtime.settings.allowed_origins,
        )
        self.runtime = runtime
        self.vendor_url = vendor_url
        self.page_rewrite = page_rewrite

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            runtime=self.runtime,
            request=request,
            response=response if isinstance(response, Response) else None,
            request_id=request_id_var.get(),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        html = self.graphql_ide_html
        if self.vendor_url:
            # The page's assets, served from our own copies of the same npm files (their
            # hashes match the page's integrity attributes), so GraphiQL works offline.
            html = html.replace(UNPKG, self.vendor_url)
        if self.page_rewrite:
            html = self.page_rewrite(html)
        return HTMLResponse(html)
