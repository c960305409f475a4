"""``/mcp`` on the server: the bridge over streamable HTTP, in the server's process.

Mounted by the app factory; its session manager runs inside the app's lifespan (a mounted
sub-app's own lifespan never runs). When API keys are required, a request without a valid
``Authorization: Bearer <key>`` is answered 401 before it reaches MCP; each tool call then runs
with that key's scopes, exactly as the same operation would on ``/graphql``.

Only requests whose ``Host`` is one of ``allowed_hosts`` (plus the host the server binds to)
are served, against DNS rebinding; ``allowed_hosts: ["*"]`` turns the check off.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from pommel.config import Settings
from pommel.mcp.executor import InProcessExecutor
from pommel.mcp.server import Bridge, build_bridge
from pommel.runtime import Runtime

_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def _hosts(settings: Settings) -> list[str]:
    hosts = list(settings.allowed_hosts)
    if settings.host not in _ANY_ADDRESS and settings.host not in hosts:
        hosts.append(settings.host)
    return hosts


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK's ``Host``/``Origin`` checks, from ``allowed_hosts`` and ``allowed_origins``."""
    hosts = _hosts(settings)
    if "*" in hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    origins: Iterable[str] = (
        f"{scheme}://{host}{port}"
        for host in hosts
        for scheme in ("http", "https")
        for port in ("", ":*")
    )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[pattern for host in hosts for pattern in (host, f"{host}:*")],
        allowed_origins=[*settings.allowed_origins, *origins],
    )


class McpEndpoint:
    """The ASGI app behind ``/mcp``."""

    def __init__(self, runtime: Runtime, *, bridge: Bridge | None = None) -> None:
        self.runtime = runtime
        self.bridge = bridge or build_bridge(InProcessExecutor(runtime, from_requests=True))
        self.manager = StreamableHTTPSessionManager(
            app=self.bridge.server, security_settings=transport_security(runtime.settings)
        )

    def running(self) -> AbstractAsyncContextManager[None]:
        """Serve sessions for as long as it is entered (in the app's lifespan)."""
        return self.manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.runtime.auth.required:
            credential = Headers(scope=scope).get("authorization")
            principal = await self.runtime.auth.authenticate(credential)
            if not principal.authenticated:
                response = JSONResponse(
                    {"error": {"code": "UNAUTHENTICATED", "message": principal.problem}},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="pommel"'},
                )
                await response(scope, receive, send)
                return
        await self.manager.asgi_app(scope, receive, send)
