"""Event retention: drop events past the configured age or count, never the newest one.

The newest event always stays: on SQLite ``sequence`` is a rowid, which would be handed out
again after the highest row is deleted, and a reused sequence would break every client's
``after`` cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from piccolo.custom_types import Combinable

from pommel.config import Settings
from pommel.events.log import latest_sequence
from pommel.storage.database import Database
from pommel.storage.tables import Event

# Rows per delete transaction: short transactions never hold the SQLite write lock for long.
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class RetentionPolicy:
    """How long events are kept. ``0`` means no limit for either bound."""

    max_age_days: int
    max_count: int
    interval_s: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            max_age_days=settings.event_retention_days,
            max_count=settings.event_retention_count,
        )


async def _count_cutoff(max_count: int) -> int | None:
    """The oldest sequence the count bound keeps (None: fewer events than the bound)."""
    rows = (
        await Event.select(Event.sequence)
        .order_by(Event.sequence, ascending=False)
        .offset(max_count - 1)
        .limit(1)
    )
    return int(rows[0]["sequence"]) if rows else None


async def _oldest() -> tuple[int, datetime] | None:
    rows = await Event.select(Event.sequence, Event.at).order_by(Event.sequence).limit(1)
    return (int(rows[0]["sequence"]), rows[0]["at"]) if rows else None


async def prune_events(
    db: Database,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    batch_size: int = PRUNE_BATCH,
) -> int:
    """Delete the events ``policy`` no longer keeps, oldest first; returns how many went."""
    if not policy.max_age_days and not policy.max_count:
        return 0
    newest = await latest_sequence()
    keep_from = 0  # the count bound keeps everything from here on
    if policy.max_count:
        cutoff = await _count_cutoff(policy.max_count)
        if cutoff is not None:
            keep_from = cutoff
    threshold = (
        (now or datetime.now(UTC)) - timedelta(days=policy.max_age_days)
        if policy.max_age_days
        else None
    )
    deleted = 0
    # Walk from the oldest event by primary-key ranges (``at`` has no index; it grows with
    # ``sequence``, so the walk ends at the first event young enough and within the count).
    while (oldest := await _oldest()) is not None:
        sequence, at = oldest
        if sequence >= newest or (sequence >= keep_from and (threshold is None or at >= threshold)):
            break
        upper = min(sequence + batch_size, newest)
        expired: Combinable = Event.sequence < keep_from
        if threshold is not None:
            expired = expired | (Event.at < threshold)
        async with db.write():
            rows = (
                await Event.delete()
                .where((Event.sequence < upper) & expired)
                .returning(Event.sequence)
                .run()
            )
        if not rows:
            break
        deleted += len(rows)
    return deleted
