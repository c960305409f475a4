"""The floor answers exactly what Pommel answers, so the benchmark compares like with like."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from bench.api_read import DASHBOARD_QUERY, PAGE_QUERY, first_difference
from bench.floor import FloorData, build_floor_schema
from bench.seed import Seeded, floor_data, nth_task_pk, seed
from graphql import graphql

from pommel.api.schema import schema as pommel_schema
from pommel.app import create_app
from pommel.config import Settings
from pommel.services.pagination import encode_cursor


@pytest.fixture
async def seeded(tmp_path: Path) -> tuple[str, Seeded]:
    url = f"sqlite:///{tmp_path / 'bench.sqlite'}"
    return url, await seed(url, dashboard_tasks=30, dashboard_phases=3, paging_tasks=120)


@pytest.fixture
async def pommel(seeded: tuple[str, Seeded], tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=seeded[0], executor="local", work_dir=tmp_path / "work")
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def _both(
    pommel: httpx.AsyncClient, db_path: Path, project: int, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = build_floor_schema(str(pommel_schema), FloorData(floor_data(db_path, project)))
    floor = await graphql(schema, query, variable_values=variables)
    assert not floor.errors, floor.errors
    assert floor.data is not None
    response = await pommel.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data, floor.data


async def test_dashboard_query_matches(
    seeded: tuple[str, Seeded], pommel: httpx.AsyncClient, tmp_path: Path
) -> None:
    _, info = seeded
    project = info.dashboard_project
    ours, floor = await _both(
        pommel, tmp_path / "bench.sqlite", project, DASHBOARD_QUERY, {"id": f"proj-{project}"}
    )
    assert first_difference(ours, floor) is None
    tasks = ours["project"]["tasks"]
    assert tasks["totalCount"] == 30 and len(tasks["edges"]) == 30
    assert any(edge["node"]["dependencies"] for edge in tasks["edges"])


async def test_deep_page_matches(
    seeded: tuple[str, Seeded], pommel: httpx.AsyncClient, tmp_path: Path
) -> None:
    _, info = seeded
    db_path = tmp_path / "bench.sqlite"
    after = encode_cursor([nth_task_pk(db_path, info.paging_project, 49)])
    variables = {"projectId": f"proj-{info.paging_project}", "after": after}
    ours, floor = await _both(pommel, db_path, info.paging_project, PAGE_QUERY, variables)
    assert first_difference(ours, floor) is None
    first = ours["tasks"]["edges"][0]["node"]["id"]
    assert first == f"task-{nth_task_pk(db_path, info.paging_project, 50)}"
