"""An in-process bridge on the test app's runtime, and the SDK's client connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from mcp import Client
from pommel.mcp.executor import InProcessExecutor
from pommel.mcp.server import Bridge, build_bridge
from pommel.runtime import Runtime


@pytest.fixture
def runtime(app: Starlette) -> Runtime:
    running: Runtime = app.state.runtime
    return running


@pytest.fixture
def bridge(runtime: Runtime) -> Bridge:
    return build_bridge(InProcessExecutor(runtime))


@pytest.fixture
async def mcp(bridge: Bridge) -> AsyncIterator[Client]:
    async with Client(bridge.server) as client:
        yield client
