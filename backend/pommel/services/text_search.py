"""Case-insensitive substring search over text columns, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine


def contains_text(columns: list[Column], text: str) -> Any:
    """A where-condition: any of ``columns`` contains ``text``, ignoring case.

    SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE. (``%`` and ``_`` in the
    text act as LIKE wildcards: a broader match, never a missed one.)
    """
    pattern = f"%{text}%"
    condition: Any = None
    for column in columns:
        engine = column._meta.table._meta.db
        part = column.ilike(pattern) if isinstance(engine, PostgresEngine) else column.like(pattern)
        condition = part if condition is None else condition | part
    return condition
