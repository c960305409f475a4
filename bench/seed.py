"""Benchmark data: a dashboard-sized project and a 100,000-task project in a SQLite file.

The schema comes from Pommel's own migrations (``Database.connect``). Rows are bulk-inserted in
one write transaction with ``executemany`` on the transaction's connection: Piccolo's ``insert``
builds an object per row and takes ~20 s for 100,000 tasks, this takes about one.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pommel.domain.status import Priority, TaskStatus
from pommel.services.pagination import encode_cursor
from pommel.storage.database import Database

STATUSES = [
    (TaskStatus.PLANNED, 5),
    (TaskStatus.IN_PROGRESS, 3),
    (TaskStatus.COMPLETED, 4),
    (TaskStatus.BLOCKED, 1),
    (TaskStatus.CANCELLED, 1),
]
ASSIGNEES = [None, "ada", "grace", "linus", "barbara", "ken", "agent:planner", "agent:builder"]
TASK_COLUMNS = (
    "project, phase, name, description, status, priority, priority_rank, assignee, metadata,"
    " status_reason, created_at, updated_at"
)


@dataclass(frozen=True)
class Seeded:
    """What was created: primary keys the benchmarks address."""

    dashboard_project: int
    paging_project: int
    dashboard_tasks: int
    dashboard_phases: int
    dashboard_dependencies: int
    paging_tasks: int


def _task_row(
    rng: random.Random, project: int, phase: int | None, n: int, at: str
) -> tuple[Any, ...]:
    status = rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0]
    priority = rng.choice(list(Priority))
    return (
        project,
        phase,
        f"Task {n}: {rng.choice(['design', 'build', 'test', 'review', 'ship'])} the "
        f"{rng.choice(['parser', 'scheduler', 'dashboard', 'API', 'runner', 'cache'])}",
        "A task of the benchmark data set, with a description of realistic length. " * 2,
        status.value,
        priority.value,
        priority.rank,
        rng.choice(ASSIGNEES),
        json.dumps({"estimate": rng.randint(1, 13)}),
        "waiting for a dependency" if status is TaskStatus.BLOCKED else None,
        at,
        at,
    )


async def seed(
    database_url: str,
    *,
    dashboard_tasks: int = 200,
    dashboard_phases: int = 5,
    max_dependencies: int = 3,
    paging_tasks: int = 100_000,
    random_seed: int = 20261122,
) -> Seeded:
    """Migrate a fresh database and fill it (one transaction)."""
    rng = random.Random(random_seed)
    db = Database(database_url)
    await db.connect()
    try:
        # Piccolo stores timestamptz as ``str(datetime in UTC)``; so do we.
        now = datetime.now(UTC)
        at = str(now - timedelta(days=3))
        dependencies = 0
        async with db.write() as transaction:
            conn = transaction.connection

            async def insert_project(name: str) -> int:
                cursor = await conn.execute(
                    "INSERT INTO project (name, description, metadata, created_at, updated_at)"
                    " VALUES (?, ?, '{}', ?, ?) RETURNING id",
                    (name, f"{name}: benchmark data", at, at),
                )
                row = await cursor.fetchone()
                await cursor.close()
                return int(row["id"])

            dashboard = await insert_project("Dashboard benchmark")
            phases: list[int] = []
            for position in range(dashboard_phases):
                cursor = await conn.execute(
                    "INSERT INTO phase (project, name, description, position, created_at,"
                    " updated_at) VALUES (?, ?, '', ?, ?, ?) RETURNING id",
                    (dashboard, f"Phase {position + 1}", position, at, at),
                )
                phases.append(int((await cursor.fetchone())["id"]))
                await cursor.close()
            await conn.executemany(
                f"INSERT INTO task ({TASK_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                [
                    _task_row(rng, dashboard, phases[n * len(phases) // dashboard_tasks], n, at)
                    for n in range(dashboard_tasks)
                ],
            )
            cursor = await conn.execute(
                "SELECT id FROM task WHERE project = ? ORDER BY id", (dashboard,)
            )
            task_ids = [int(row["id"]) for row in await cursor.fetchall()]
            await cursor.close()
            edges: list[tuple[int, int]] = []
            for i, task in enumerate(task_ids):
                # Only on earlier tasks, so the graph is acyclic as the API guarantees.
                for dep in rng.sample(task_ids[:i], min(i, rng.randint(0, max_dependencies))):
                    edges.append((task, dep))
            await conn.executemany(
                "INSERT INTO task_dependency (task, depends_on) VALUES (?, ?)", edges
            )
            dependencies = len(edges)

            paging = await insert_project("Pagination benchmark")
            await conn.executemany(
                f"INSERT INTO task ({TASK_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                (_task_row(rng, paging, None, n, at) for n in range(paging_tasks)),
            )
        # Fresh statistics for the query planner, as a long-lived database would have.
        async with db.write() as transaction:
            await transaction.connection.execute("ANALYZE")
    finally:
        await db.close()
    return Seeded(
        dashboard_project=dashboard,
        paging_project=paging,
        dashboard_tasks=dashboard_tasks,
        dashboard_phases=dashboard_phases,
        dashboard_dependencies=dependencies,
        paging_tasks=paging_tasks,
    )


def nth_task_pk(path: Path, project: int, offset: int) -> int:
    """The primary key of a project's task at ``offset`` in creation order."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT id FROM task WHERE project = ? ORDER BY id LIMIT 1 OFFSET ?",
            (project, offset),
        ).fetchone()
    if row is None:
        raise ValueError(f"project {project} has no task at offset {offset}")
    return int(row[0])


def floor_data(path: Path, project: int) -> dict[str, Any]:
    """One project's rows as the floor serves them, read with plain ``sqlite3``.

    Independent of Pommel's services on purpose: the benchmark compares Pommel's answer with the
    floor's, so the floor must not be built by the code under test.
    """
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        p = conn.execute("SELECT id, name FROM project WHERE id = ?", (project,)).fetchone()
        phase_rows = conn.execute(
            "SELECT id, name, position FROM phase WHERE project = ?", (project,)
        ).fetchall()
        task_rows = conn.execute(
            "SELECT id, name, status, priority, assignee, phase FROM task WHERE project = ?"
            " ORDER BY id",
            (project,),
        ).fetchall()
        dep_rows = conn.execute(
            "SELECT d.task, d.depends_on FROM task_dependency d JOIN task t ON t.id = d.task"
            " WHERE t.project = ? ORDER BY d.task, d.depends_on",
            (project,),
        ).fetchall()
    deps: dict[int, list[str]] = {}
    for row in dep_rows:
        deps.setdefault(row["task"], []).append(f"task-{row['depends_on']}")
    project_id = f"proj-{p['id']}"
    return {
        "projects": [{"id": project_id, "name": p["name"]}],
        "phases": [
            {
                "id": f"phase-{row['id']}",
                "_pk": row["id"],
                "_project": project_id,
                "name": row["name"],
                "position": row["position"],
            }
            for row in phase_rows
        ],
        "tasks": [
            {
                "id": f"task-{row['id']}",
                "_project": project_id,
                "_cursor": encode_cursor([row["id"]]),
                "_phase": f"phase-{row['phase']}" if row["phase"] is not None else None,
                "_deps": deps.get(row["id"], []),
                "name": row["name"],
                "status": TaskStatus(row["status"]).name,
                "priority": Priority(row["priority"]).name,
                "assignee": row["assignee"],
            }
            for row in task_rows
        ],
    }
