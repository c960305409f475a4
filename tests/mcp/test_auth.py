"""The in-process bridge when API keys are required: stdio's local user, or ``--api-key``."""

from __future__ import annotations

import dataclasses

import pytest

from mcp import Client
from pommel.config import Settings
from pommel.mcp.executor import InProcessExecutor
from pommel.mcp.server import build_bridge
from pommel.runtime import Runtime
from pommel.services import api_keys
from tests.mcp.helpers import call, tool_error


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, auth_required=True)


async def test_the_local_user_needs_no_key(runtime: Runtime) -> None:
    # Whoever runs `pommel mcp` in-process can open the database anyway.
    async with Client(build_bridge(InProcessExecutor(runtime)).server) as client:
        created = await call(client, "create_project", {"name": "Local"})
        assert created["createProject"]["id"].startswith("proj-")


async def test_an_api_key_limits_the_bridge_to_its_scopes(runtime: Runtime) -> None:
    reader = await api_keys.create_api_key(runtime.db, name="reader", scopes=["read"])
    executor = InProcessExecutor(runtime, api_key=reader.secret)
    async with Client(build_bridge(executor).server) as client:
        assert (await call(client, "list_projects", {}))["projects"]["totalCount"] == 0
        text = await tool_error(client, "create_project", {"name": "Nope"})
        assert text.startswith("FORBIDDEN: API key 'reader' lacks the 'write' scope")


async def test_a_bad_key_is_unauthenticated(runtime: Runtime) -> None:
    executor = InProcessExecutor(runtime, api_key="pml_bad_key")
    async with Client(build_bridge(executor).server) as client:
        text = await tool_error(client, "list_projects", {})
        assert text.startswith("UNAUTHENTICATED: invalid API key")
