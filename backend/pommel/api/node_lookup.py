"""``node(id:)``: find any object by its prefixed id.

Each area registers how to fetch its kinds; ``resolve_node`` dispatches on the id's prefix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pommel.api.context import Info
from pommel.api.relay import Node
from pommel.ids import Kind, parse_any

NodeFetcher = Callable[[Info, int], Awaitable[Node | None]]
_FETCHERS: dict[Kind, NodeFetcher] = {}


def register_node(kind: Kind) -> Callable[[NodeFetcher], NodeFetcher]:
    """Decorator: ``fetch(info, pk)`` returns the object of ``kind`` with that key, or None."""

    def decorate(fetch: NodeFetcher) -> NodeFetcher:
        _FETCHERS[kind] = fetch
        return fetch

    return decorate


async def resolve_node(info: Info, public_id: str) -> Node | None:
    """The object ``public_id`` names, or None when no such object exists."""
    kind, pk = parse_any(public_id)
    fetch = _FETCHERS.get(kind)
    return None if fetch is None else await fetch(info, pk)
