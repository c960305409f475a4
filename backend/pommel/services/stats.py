"""Workflow run statistics, computed by the database (never by loading every run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pommel.domain.status import RunStatus
from pommel.storage.tables import WorkflowRun

_FINISHED = tuple(s.value for s in RunStatus if s.finished)


@dataclass(frozen=True)
class TemplateStats:
    template_id: str | None
    total: int
    succeeded: int
    failed: int
    success_rate: float | None
    average_duration_ms: float | None


@dataclass(frozen=True)
class RunStats:
    total: int
    by_status: dict[str, int]
    success_rate: float | None
    average_duration_ms: float | None
    p95_duration_ms: float | None
    cache_hit_rate: float | None
    by_template: list[TemplateStats]


def _scope(project_pk: int | None, column: str = "project") -> tuple[str, list[Any]]:
    if project_pk is None:
        return "", []
    return f" AND {column} = {{}}", [project_pk]


async def _rows(sql: str, *args: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await WorkflowRun.raw(sql, *args).run()
    return rows


async def workflow_stats(*, project_pk: int | None = None) -> RunStats:
    """Figures over top-level runs (composite children are counted through their parents)."""
    where, args = _scope(project_pk)
    base = f"FROM workflow_run WHERE parent_run IS NULL{where}"
    by_status = {
        row["status"]: int(row["n"])
        for row in await _rows(f"SELECT status, COUNT(*) AS n {base} GROUP BY status", *args)
    }
    total = sum(by_status.values())
    succeeded = by_status.get(RunStatus.SUCCEEDED.value, 0)
    finished = sum(by_status.get(status, 0) for status in _FINISHED)

    placeholders = ", ".join("{}" for _ in _FINISHED)
    durations = f"{base} AND duration_ms IS NOT NULL AND status IN ({placeholders})"
    duration_args = [*args, *_FINISHED]
    summary = (
        await _rows(f"SELECT COUNT(*) AS n, AVG(duration_ms) AS avg {durations}", *duration_args)
    )[0]
    timed = int(summary["n"])
    p95: float | None = None
    if timed:
        # Nearest-rank percentile: portable SQL (SQLite has no percentile function).
        offset = max(0, -(-95 * timed // 100) - 1)
        rank_rows = await _rows(
            f"SELECT duration_ms {durations} ORDER BY duration_ms LIMIT 1 OFFSET {offset}",
            *duration_args,
        )
        p95 = float(rank_rows[0]["duration_ms"])

    step_where, step_args = _scope(project_pk, "r.project")
    cache = (
        await _rows(
            "SELECT COUNT(*) AS n, SUM(CASE WHEN s.cached THEN 1 ELSE 0 END) AS hits "
            "FROM step_run s JOIN workflow_run r ON s.run = r.id "
            f"WHERE s.status = 'succeeded'{step_where}",
            *step_args,
        )
    )[0]
    steps_done = int(cache["n"])

    per_template = await _rows(
        "SELECT template_id, COUNT(*) AS n, "
        "SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS ok, "
        "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS bad, "
        "SUM(CASE WHEN status IN ('succeeded', 'failed', 'cancelled') THEN 1 ELSE 0 END) AS done, "
        f"AVG(duration_ms) AS avg {base} GROUP BY template_id ORDER BY template_id",
        *args,
    )
    return RunStats(
        total=total,
        by_status={status.value: by_status.get(status.value, 0) for status in RunStatus},
        success_rate=succeeded / finished if finished else None,
        average_duration_ms=float(summary["avg"]) if summary["avg"] is not None else None,
        p95_duration_ms=p95,
        cache_hit_rate=int(cache["hits"] or 0) / steps_done if steps_done else None,
        by_template=[
            TemplateStats(
                template_id=row["template_id"],
                total=int(row["n"]),
                succeeded=int(row["ok"] or 0),
                failed=int(row["bad"] or 0),
                success_rate=int(row["ok"] or 0) / int(row["done"]) if row["done"] else None,
                average_duration_ms=float(row["avg"]) if row["avg"] is not None else None,
            )
            for row in per_template
        ],
    )
