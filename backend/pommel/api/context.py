"""The per-request (per-WebSocket-connection) GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from pommel.api.loaders import Loaders

if TYPE_CHECKING:
    from pommel.runtime import Runtime
    from pommel.services.auth import Principal


@dataclass
class Context:
    """What resolvers get in ``info.context``.

    ``connection_params`` must exist as an attribute for Strawberry to hand over the WebSocket
    ``connection_init`` payload.
    """

    runtime: Runtime
    request: Request | WebSocket | None = None
    response: Response | None = None
    request_id: str = "-"
    connection_params: dict[str, Any] | None = None
    # Who is calling: set by the transport (``PommelGraphQL``), checked by ``Authorization``.
    principal: Principal | None = None
    loaders: Loaders = field(default_factory=Loaders)


Info = StrawberryInfo[Context, None]
