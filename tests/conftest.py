"""Shared fixtures: a fresh SQLite database per test, the app, and an HTTP client on it.

Coroutine tests run under anyio (asyncio backend) without per-test markers. Set
``POMMEL_TEST_DATABASE_URL`` to a PostgreSQL *server* URL to run the suite there (see
``tests/postgres.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from pommel.app import create_app
from pommel.config import Settings
from tests.postgres import database_url_for_test

pytest_plugins: list[str] = ["tests.dagger_double.fixtures"]


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Mark every coroutine test for anyio before anyio's own collection hook looks for the
    marker (marking later misses parametrised tests)."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with database_url_for_test(tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        executor="local",
        work_dir=tmp_path / "work",
        worker_concurrency=4,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL documents to ``/graphql`` the way any HTTP client would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a query that must succeed."""
        body = await self.execute(query, variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of a query that must fail."""
        body = await self.execute(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        error: dict[str, Any] = body["errors"][0]
        return error


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)
