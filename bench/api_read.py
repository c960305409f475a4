"""API read benchmark: the dashboard's project query, and deep keyset pagination.

1. **Dashboard**: ``project(id) { … tasks(first: 200) { … phase … dependencies … } }`` over a
   project of 200 tasks in 5 phases (0-3 dependencies each), served for real by uvicorn in a
   subprocess and driven by 16 closed-loop keep-alive HTTP clients: requests/s, p50, p99 and SQL
   per request (counted inside the server), beside the *floor* measured in the same run.

   The floor is graphql-core executing the same document over the same data held in memory
   (``bench.floor``), **served the same way**: a minimal Starlette app on the same uvicorn in a
   subprocess, driven by the same 16 HTTP clients. That is the fairer of the two options: both
   sides then pay the same HTTP, JSON and client costs, and both servers get a core of their own
   while the client runs on another, so the ratio isolates what Pommel adds (Strawberry, the
   context and DataLoaders, Piccolo, SQLite). Executing in-process instead would put the client
   on the floor's core and leave HTTP out of one side only. graphql-core in-process (no HTTP) is
   reported too, for scale. Goal: Pommel >= 0.6x the floor's requests/s.

   The two servers are measured in alternating windows (Pommel, floor, Pommel, …), pooled per
   side, so that whatever else the machine does hits both alike; the ratio of each round is
   recorded too. Each server also reports the CPU time it spent per request (all its threads),
   a figure much less sensitive to a busy machine than requests/s: on an otherwise idle machine
   the throughput ratio approaches the inverse ratio of CPU per request.

   Every response is checked, and Pommel's data must equal the floor's exactly (ids, cursors,
   enums, order): the floor reads the rows with plain ``sqlite3``, not through Pommel.

2. **Pagination**: ``tasks(first: 50, filter: {projectId})`` on a 100,000-task project, page 1 vs
   page 1,000 (the ``after`` cursor of page 1,000 is computed with the service's own
   ``encode_cursor``), requests alternated on one connection, median of many. Goal: ratio <= 1.5.
   ``totalCount`` is left out of this document on purpose: it costs the same on every page and
   would only dilute the ratio. The service call (``list_tasks``) alone is timed the same way.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.floor import FloorData, build_floor_schema
from bench.harness import (
    BenchError,
    LoadResult,
    LoadWindow,
    ServerProcess,
    drive_load,
    graphql_post,
    median,
    percentile,
    server_process,
    stamp,
    table,
    work_directory,
)
from bench.seed import Seeded, floor_data, nth_task_pk, seed

TITLE = "API reads: dashboard project query vs graphql-core floor; deep pagination"

DASHBOARD_QUERY = """
query Dashboard($id: ID!) {
  project(id: $id) {
    id
    name
    phases { id name position }
    tasks(first: 200) {
      totalCount
      edges {
        cursor
        node {
          id
          name
          status
          priority
          assignee
          phase { id name }
          dependencies { id name status }
        }
      }
    }
  }
}
"""

PAGE_QUERY = """
query TaskPage($projectId: ID!, $after: String) {
  tasks(first: 50, after: $after, filter: {projectId: $projectId}) {
    edges { cursor node { id name status priority assignee } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CLIENTS = 16
PAGE_SIZE = 50
DEEP_PAGE = 1000
FLOOR_GOAL = 0.6
PAGE_RATIO_GOAL = 1.5


@dataclass(frozen=True)
class Plan:
    rounds: int  # alternating load windows per side
    window: float  # measured seconds per window (at least)
    min_requests: int  # requests per window (at least)
    warmup: float  # unmeasured seconds before each window
    in_process_seconds: float
    page_repetitions: int
    paging_tasks: int


FULL = Plan(
    rounds=5,
    window=2.0,
    min_requests=CLIENTS,
    warmup=0.5,
    in_process_seconds=2.0,
    page_repetitions=300,
    paging_tasks=100_000,
)
QUICK = Plan(
    rounds=1,
    window=1.0,
    min_requests=CLIENTS,
    warmup=0.3,
    in_process_seconds=0.5,
    page_repetitions=30,
    paging_tasks=100_000,
)


def run(quick: bool) -> dict[str, Any]:
    return asyncio.run(_run(QUICK if quick else FULL, quick))


async def _run(plan: Plan, quick: bool) -> dict[str, Any]:
    with work_directory("pommel-bench-") as work:
        db_path = work / "bench.sqlite"
        url = f"sqlite:///{db_path}"
        started = time.perf_counter()
        seeded = await seed(url, paging_tasks=plan.paging_tasks)
        seed_seconds = time.perf_counter() - started

        from pommel.api.schema import schema as pommel_schema

        dump = {
            "sdl": str(pommel_schema),
            "data": floor_data(db_path, seeded.dashboard_project),
        }
        data_path = work / "floor.json"
        data_path.write_text(json.dumps(dump), encoding="utf-8")
        pommel_args = ["pommel", "--database-url", url, "--work-dir", str(work / "work")]
        async with (
            server_process("pommel", pommel_args, work_dir=work) as pommel,
            server_process("floor", ["floor", "--data", str(data_path)], work_dir=work) as floor,
        ):
            dashboard = await _dashboard(plan, seeded, dump, pommel, floor)
            pagination = await _pagination(plan, seeded, db_path, pommel)
        pagination["service"] = await _service_pagination(plan, seeded, db_path, url)

    result: dict[str, Any] = {
        **stamp(quick),
        "seed_seconds": round(seed_seconds, 2),
        "dashboard": dashboard,
        "pagination": pagination,
    }
    result["table"] = _table(dashboard, pagination)
    return result


# --------------------------------------------------------------------------------------------
# Dashboard vs floor


def count_fields(value: Any) -> int:
    """Resolved fields in a response: every key of every object (list items are not fields)."""
    if isinstance(value, dict):
        return len(value) + sum(count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    """Where two JSON values first differ, for an error message."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'second' if key not in a else 'first'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


async def _in_process_floor(
    dump: Mapping[str, Any], payload: Mapping[str, Any], seconds: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """graphql-core alone, in this process: the expected data, and how fast it executes.

    Its resolvers never await, so concurrent callers would only take turns: it is timed
    sequentially.
    """
    from graphql import graphql

    schema = build_floor_schema(dump["sdl"], FloorData(dump["data"]))
    times: list[float] = []
    expected: dict[str, Any] | None = None
    gc.collect()
    gc.freeze()  # as in the floor's server process
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(times) < 5:
            begin = time.perf_counter()
            result = await graphql(schema, payload["query"], variable_values=payload["variables"])
            times.append(time.perf_counter() - begin)
            if result.errors:
                raise BenchError(f"floor (in process): {result.errors}")
            assert result.data is not None
            expected = result.data
    finally:
        gc.unfreeze()
    assert expected is not None
    figures = {
        "requests": len(times),
        "rps": round(len(times) / sum(times), 2),
        "p50_ms": round(percentile(times, 50) * 1000, 3),
        "p99_ms": round(percentile(times, 99) * 1000, 3),
    }
    return expected, figures


async def _dashboard(
    plan: Plan,
    seeded: Seeded,
    dump: Mapping[str, Any],
    pommel: ServerProcess,
    floor: ServerProcess,
) -> dict[str, Any]:
    payload = {
        "query": DASHBOARD_QUERY,
        "variables": {"id": f"proj-{seeded.dashboard_project}"},
    }
    expected, in_process = await _in_process_floor(dump, payload, plan.in_process_seconds)
    fields = count_fields(expected)

    # SQL of one request, alone: the least of a few (background work may add to one of them).
    sql_single: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=pommel.base_url, timeout=60) as client:
        for _ in range(3):
            before = await pommel.counters()
            pommel_data = await graphql_post(client, "pommel", payload)
            after = await pommel.counters()
            for key in ("queries", "statements", "connections"):
                used = after[key] - before[key]
                sql_single[key] = min(sql_single.get(key, used), used)
    async with httpx.AsyncClient(base_url=floor.base_url, timeout=60) as client:
        floor_data_ = await graphql_post(client, "floor", payload)
    for name, data in (("pommel", pommel_data), ("floor", floor_data_)):
        difference = first_difference(data, expected)
        if difference:
            raise BenchError(f"{name} answered differently from the floor: {difference}")

    # Alternate short windows (Pommel, floor, Pommel, floor, …) so that a change in what else
    # the machine is doing hits both sides alike; pool each side's windows.
    windows: dict[str, list[LoadWindow]] = {"pommel": [], "floor": []}
    spent: dict[str, dict[str, float]] = {"pommel": {}, "floor": {}}
    round_ratios: list[float] = []
    for _ in range(plan.rounds):
        for server in (pommel, floor):
            before = await server.counters()
            window = await drive_load(
                server.base_url,
                payload,
                name=server.name,
                clients=CLIENTS,
                duration=plan.window,
                warmup=plan.warmup,
                min_requests=plan.min_requests,
            )
            after = await server.counters()
            windows[server.name].append(window)
            for key, value in after.items():
                spent[server.name][key] = spent[server.name].get(key, 0) + value - before[key]
        pommel_rps, floor_rps = (len(windows[n][-1].latencies) for n in ("pommel", "floor"))
        round_ratios.append(pommel_rps / max(floor_rps, 1))
    pommel_load = LoadResult.pool(CLIENTS, windows["pommel"])
    floor_load = LoadResult.pool(CLIENTS, windows["floor"])

    def per_request(name: str, key: str) -> float:
        return round(spent[name].get(key, 0) / max(spent[name]["requests"], 1), 2)

    sql_under_load = {k: per_request("pommel", k) for k in ("queries", "statements", "connections")}
    cpu = {name: per_request(name, "cpu_ms") for name in ("pommel", "floor")}
    ratio = pommel_load.rps / floor_load.rps
    return {
        "document": DASHBOARD_QUERY.strip(),
        "tasks": seeded.dashboard_tasks,
        "phases": seeded.dashboard_phases,
        "dependencies": seeded.dashboard_dependencies,
        "fields_per_response": fields,
        "clients": CLIENTS,
        "rounds": plan.rounds,
        "window_s": plan.window,
        "pommel": {
            **pommel_load.as_dict(),
            "server_cpu_ms_per_request": cpu["pommel"],
            "sql_per_request": sql_single,
            "sql_per_request_under_load": sql_under_load,
        },
        "floor": {**floor_load.as_dict(), "server_cpu_ms_per_request": cpu["floor"]},
        "floor_in_process": in_process,
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "cpu_ratio": round(cpu["floor"] / max(cpu["pommel"], 1e-9), 3),
        "goal": FLOOR_GOAL,
        "meets_goal": ratio >= FLOOR_GOAL,
    }


# --------------------------------------------------------------------------------------------
# Pagination


async def _pagination(
    plan: Plan, seeded: Seeded, db_path: Path, pommel: ServerProcess
) -> dict[str, Any]:
    deep_offset = (DEEP_PAGE - 1) * PAGE_SIZE
    project_id = f"proj-{seeded.paging_project}"
    first_pk = nth_task_pk(db_path, seeded.paging_project, 0)
    deep_pk = nth_task_pk(db_path, seeded.paging_project, deep_offset)
    after_pk = nth_task_pk(db_path, seeded.paging_project, deep_offset - 1)
    from pommel.services.pagination import encode_cursor

    pages: dict[str, dict[str, Any]] = {
        "page1": {"query": PAGE_QUERY, "variables": {"projectId": project_id, "after": None}},
        "deep": {
            "query": PAGE_QUERY,
            "variables": {"projectId": project_id, "after": encode_cursor([after_pk])},
        },
    }
    times: dict[str, list[float]] = {"page1": [], "deep": []}
    async with httpx.AsyncClient(base_url=pommel.base_url, timeout=60) as client:
        for name, expected_pk in (("page1", first_pk), ("deep", deep_pk)):
            data = await graphql_post(client, f"pommel {name}", pages[name])
            edges = data["tasks"]["edges"]
            if len(edges) != PAGE_SIZE or edges[0]["node"]["id"] != f"task-{expected_pk}":
                raise BenchError(f"pagination {name}: unexpected page starting {edges[:1]}")
        for _ in range(10):  # warm-up
            for name, payload in pages.items():
                await graphql_post(client, name, payload)
        before = await pommel.counters()
        for _ in range(plan.page_repetitions):
            for name, payload in pages.items():
                begin = time.perf_counter()
                response = await client.post("/graphql", json=payload)
                times[name].append(time.perf_counter() - begin)
                if response.status_code != 200 or b'"errors"' in response.content:
                    raise BenchError(f"pagination {name}: {response.text[:500]}")
        after = await pommel.counters()
    requests = max(after["requests"] - before["requests"], 1)
    page1, deep = median(times["page1"]) * 1000, median(times["deep"]) * 1000
    return {
        "document": PAGE_QUERY.strip(),
        "tasks": seeded.paging_tasks,
        "first": PAGE_SIZE,
        "deep_page": DEEP_PAGE,
        "repetitions": plan.page_repetitions,
        "page1_ms": round(page1, 3),
        "deep_ms": round(deep, 3),
        "page1_p99_ms": round(percentile(times["page1"], 99) * 1000, 3),
        "deep_p99_ms": round(percentile(times["deep"], 99) * 1000, 3),
        "ratio": round(deep / page1, 3),
        "goal": PAGE_RATIO_GOAL,
        "meets_goal": deep / page1 <= PAGE_RATIO_GOAL,
        "sql_per_request": {
            k: round((after[k] - before[k]) / requests, 2)
            for k in ("queries", "statements", "connections")
        },
    }


async def _service_pagination(
    plan: Plan, seeded: Seeded, db_path: Path, url: str
) -> dict[str, Any]:
    """``list_tasks`` alone, in this process: the SQL and record costs without HTTP/GraphQL."""
    from pommel.services.pagination import encode_cursor
    from pommel.services.tasks import TaskFilter, list_tasks
    from pommel.storage.database import Database

    deep_offset = (DEEP_PAGE - 1) * PAGE_SIZE
    after = encode_cursor([nth_task_pk(db_path, seeded.paging_project, deep_offset - 1)])
    db = Database(url)
    await db.connect(migrate=False)
    filter = TaskFilter(project_pk=seeded.paging_project)
    times: dict[str, list[float]] = {"page1": [], "deep": []}
    try:
        for repetition in range(plan.page_repetitions + 10):
            for name, cursor in (("page1", None), ("deep", after)):
                begin = time.perf_counter()
                page = await list_tasks(filter=filter, first=PAGE_SIZE, after=cursor)
                if repetition >= 10:
                    times[name].append(time.perf_counter() - begin)
                if len(page.items) != PAGE_SIZE:
                    raise BenchError(f"list_tasks {name}: {len(page.items)} items")
    finally:
        await db.close()
    page1, deep = median(times["page1"]) * 1000, median(times["deep"]) * 1000
    return {"page1_ms": round(page1, 3), "deep_ms": round(deep, 3), "ratio": round(deep / page1, 3)}


# --------------------------------------------------------------------------------------------
# Table


def _table(dashboard: Mapping[str, Any], pagination: Mapping[str, Any]) -> dict[str, Any]:
    p, f = dashboard["pommel"], dashboard["floor"]
    sql = p["sql_per_request"]
    service = pagination["service"]

    def ok(met: bool) -> str:
        return "met" if met else "NOT met"

    rows: list[list[Any]] = [
        [
            f"dashboard req/s ({dashboard['clients']} clients)",
            p["rps"],
            f["rps"],
            f"{dashboard['ratio']:.2f}x",
            f">= {FLOOR_GOAL}x: {ok(dashboard['meets_goal'])}",
        ],
        [
            "server CPU ms per request",
            p["server_cpu_ms_per_request"],
            f["server_cpu_ms_per_request"],
            f"{dashboard['cpu_ratio']:.2f}x",
            "",
        ],
        ["dashboard p50 ms", p["p50_ms"], f["p50_ms"], "", ""],
        ["dashboard p99 ms", p["p99_ms"], f["p99_ms"], "", ""],
        [
            "SQL per request (queries/statements/conns)",
            f"{sql['queries']}/{sql['statements']}/{sql['connections']}",
            "0",
            "",
            "",
        ],
        [
            "graphql-core in process, no HTTP (req/s)",
            "",
            dashboard["floor_in_process"]["rps"],
            "",
            f"{dashboard['fields_per_response']:,} fields/response",
        ],
        [
            f"tasks(first: {PAGE_SIZE}) page 1 ms (HTTP, median)",
            pagination["page1_ms"],
            "",
            "",
            "",
        ],
        [f"tasks(first: {PAGE_SIZE}) page {DEEP_PAGE:,} ms", pagination["deep_ms"], "", "", ""],
        [
            f"page {DEEP_PAGE:,} / page 1 ({pagination['tasks']:,} tasks)",
            f"{pagination['ratio']:.2f}x",
            "",
            "",
            f"<= {PAGE_RATIO_GOAL}x: {ok(pagination['meets_goal'])}",
        ],
        [
            "list_tasks alone: page 1 / deep ms",
            f"{service['page1_ms']:.2f} / {service['deep_ms']:.2f}",
            "",
            f"{service['ratio']:.2f}x",
            "",
        ],
    ]
    return table(["", "Pommel", "floor", "ratio", "goal"], rows)
