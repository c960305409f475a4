"""An app that requires API keys, and clients that present them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from pommel.app import create_app
from pommel.config import Settings
from pommel.runtime import Runtime
from pommel.services import api_keys


class KeyClient:
    """Posts GraphQL to ``/graphql`` with (or without) ``Authorization: Bearer <key>``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        authorization: str | None = None,
    ) -> httpx.Response:
        headers = {}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if authorization is not None:
            headers["Authorization"] = authorization
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, **auth: str | None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, **auth: str | None
    ) -> dict[str, Any]:
        body = await self.execute(query, variables, **auth)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, **auth: str | None
    ) -> dict[str, Any]:
        body = await self.execute(query, variables, **auth)
        assert body.get("errors"), f"expected an error, got {body}"
        error: dict[str, Any] = body["errors"][0]
        return error


@pytest.fixture(autouse=True)
def _keep_parameters(anyio_backend: str) -> str:
    """Request ``anyio_backend`` explicitly: anyio re-creates auto-marked coroutine tests that
    do not, and the copies lose their ``parametrize`` arguments."""
    return anyio_backend


@pytest.fixture
def auth_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, auth_required=True)


@pytest.fixture
async def auth_app(auth_settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(auth_settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture
async def api(auth_app: Starlette) -> AsyncIterator[KeyClient]:
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield KeyClient(http)


@pytest.fixture
def runtime(auth_app: Starlette) -> Runtime:
    found: Runtime = auth_app.state.runtime
    return found


class MakeKey:
    """Creates keys straight in the app's database (as the CLI bootstrap does)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, *scopes: str, name: str = "test") -> str:
        created = await api_keys.create_api_key(self.runtime.db, name=name, scopes=scopes)
        return created.secret


@pytest.fixture
def make_key(runtime: Runtime) -> MakeKey:
    return MakeKey(runtime)
