"""Strawberry's ASGI GraphQL app, wired to Pommel's context and the offline GraphiQL page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from pommel.api.context import Context
from pommel.logconfig import request_id_var
from pommel.runtime import Runtime
from pommel.services.auth import credential_from_params, ws_close_reason

UNPKG = "https://unpkg.com/"


class _WebSocketAdapter(ASGIWebSocketAdapter):
    """Closes a rejected ``graphql-transport-ws`` connection (4403) with the reason
    ``on_ws_connect`` left, instead of Strawberry's bare "Forbidden"."""

    async def close(self, code: int, reason: str) -> None:
        if code == 4403:
            reason = getattr(self.ws.state, "close_reason", None) or reason
        await super().close(code, reason)


class PommelGraphQL(GraphQL[Context, None]):
    """``/graphql`` over HTTP and WebSocket; GraphiQL in a browser."""

    websocket_adapter_class = _WebSocketAdapter

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
            # Every operation is checked against it by the ``Authorization`` extension.
            principal=await self.runtime.auth.authenticate(request.headers.get("authorization")),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """``connection_init`` on a WebSocket; its payload is in ``context.connection_params``.

        A key in the payload (``{"Authorization": "Bearer <key>"}``) replaces one from the
        handshake's headers. Without a valid key, when keys are required, the connection is
        refused: ``graphql-transport-ws`` closes with 4403 and the reason, ``graphql-ws`` sends
        ``connection_error`` with ``{code, message}``. The principal then holds for the whole
        connection; each operation's scopes are checked by the ``Authorization`` extension.
        """
        credential = credential_from_params(context.connection_params or {})
        if credential is not None:
            context.principal = await self.runtime.auth.authenticate(credential)
        principal = context.principal
        if principal is not None and not principal.authenticated:
            problem = principal.problem or "authentication required"
            if isinstance(context.request, WebSocket):
                context.request.state.close_reason = ws_close_reason(problem)
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": problem})
        return UnsetType()  # acknowledge without a payload

    async def render_graphql_ide(self, request: Request) -> Response:
        html = self.graphql_ide_html
        if self.vendor_url:
            # The page's assets, served from our own copies of the same npm files (their
            # hashes match the page's integrity attributes), so GraphiQL works offline.
            html = html.replace(UNPKG, self.vendor_url)
        if self.page_rewrite:
            html = self.page_rewrite(html)
        return HTMLResponse(html)
