"""Keyset pagination: opaque cursors holding the sort key of the last row seen.

Page N costs the same as page 1 (an index range scan from the cursor), and rows inserted
between two page requests never shift or repeat rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from piccolo.columns import Column, Timestamptz
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from pommel.errors import ValidationFailed

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, each with its cursor; ``count`` computes the total only when asked."""

    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count: Callable[[], Any]


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, width: int) -> list[Any]:
    """The sort key inside ``cursor``; ``VALIDATION_FAILED`` naming ``after`` if it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != width:
        raise ValidationFailed({"after": "is not a cursor returned by this connection"})
    return key


def _key_value(column: Column, value: Any) -> Any:
    # Cursors carry timestamps as text; the database driver wants them back as datetimes.
    if isinstance(column, Timestamptz) and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(
                {"after": "is not a cursor returned by this connection"}
            ) from None
    return value


def check_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise ValidationFailed({"first": f"must be between 0 and {MAX_PAGE} (got {first})"})
    return first


async def fetch_page(
    query: Select[Any],
    *,
    order: Sequence[tuple[Column, str]],
    first: int | None,
    after: str | None,
    descending: bool,
    convert: Callable[[dict[str, Any]], T],
    count: Callable[[], Any],
) -> Page[T]:
    """Run ``query`` for one page ordered by ``order`` (columns with their row keys, id last)."""
    limit = check_first(first)
    direction = "<" if descending else ">"
    if after is not None:
        key = decode_cursor(after, width=len(order))
        key = [_key_value(column, value) for (column, _), value in zip(order, key, strict=True)]
        columns = ", ".join(column._meta.get_full_name(with_alias=False) for column, _ in order)
        placeholders = ", ".join("{}" for _ in order)
        query = query.where(WhereRaw(f"({columns}) {direction} ({placeholders})", *key))
    for column, _ in order:
        query = query.order_by(column, ascending=not descending)
    rows = await query.limit(limit + 1).output(load_json=True).run() if limit else []
    has_next = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[convert(row) for row in rows],
        cursors=[encode_cursor([row[name] for _, name in order]) for row in rows],
        has_next=has_next,
        has_previous=after is not None,
        count=count,
    )
