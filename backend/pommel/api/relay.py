"""The ``Node`` interface and keyset-paginated connections (Relay style)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from pommel.services.pagination import Page

T = TypeVar("T")


@strawberry.interface(
    description="An object with a Pommel id such as `task-12`, usable with `node(id:)`."
)
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(
    description="A page of results; pass `pageInfo.endCursor` as `after` for the next."
)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[Any]]]

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        result = await self._count()
        if isinstance(result, int):
            return result
        return int(result)

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection_from_page(page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
    """Wrap a service ``Page`` of records into a ``Connection`` of GraphQL objects."""
    edges = [
        Edge(cursor=cursor, node=convert(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        _count=page.count,
    )
