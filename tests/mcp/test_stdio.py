"""``pommel mcp`` as agents run it: a subprocess on stdio, through the SDK's stdio client.

In-process (its own database connection) and remote (``--url`` to a running server), with the
same tools and the same results; ``--read-only`` and ``--tools`` as flags.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
from mcp.client.subscriptions import ResourceUpdated

from mcp import Client, StdioServerParameters
from pommel.app import create_app
from pommel.config import Settings
from tests.events.server import LiveServer
from tests.mcp.helpers import (
    READ_ONLY_TOOLS,
    RESOURCE_TEMPLATES,
    RESOURCES,
    available_tools,
    call,
    names,
    needs,
    read_json,
    seed,
    usage_examples,
)

pytestmark = pytest.mark.slow


def bridge_process(directory: Path, *flags: str) -> StdioServerParameters:
    """``python -m pommel mcp FLAGS`` run in ``directory`` (no config files there)."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "pommel", "mcp", "--executor", "local", *flags],
        cwd=directory,
        env={"POMMEL_WORK_DIR": str(directory / "work"), "POMMEL_LOG_LEVEL": "warning"},
    )


def database_flag(directory: Path) -> list[str]:
    return ["--database-url", f"sqlite:///{directory / 'bridge.sqlite'}"]


@pytest.fixture
async def stdio_client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(bridge_process(tmp_path, *database_flag(tmp_path))) as client:
        yield client


@needs("execution", "run status")
async def test_in_process_over_stdio(stdio_client: Client) -> None:
    assert await names(stdio_client) == (available_tools(), RESOURCES, RESOURCE_TEMPLATES)
    await usage_examples(stdio_client)


@needs("execution", "run status")
async def test_a_run_is_watched_over_stdio(stdio_client: Client) -> None:
    seeded = await seed(stdio_client)
    uri = f"task-manager://dagger/workflows/{seeded.command_task_id}"
    async with stdio_client.listen(resource_subscriptions=[uri]) as subscription:
        await anyio.sleep(0.5)  # the bridge's feed subscribes as it starts
        await call(stdio_client, "execute_task_workflow", {"task_id": seeded.command_task_id})
        with anyio.fail_after(30):
            event = await anext(aiter(subscription))
    assert event == ResourceUpdated(uri=uri)
    state = await read_json(stdio_client, uri)
    assert state["workflowForTask"]["latestRun"] is not None


async def test_read_only_and_allow_list_flags(tmp_path: Path) -> None:
    async with Client(bridge_process(tmp_path, *database_flag(tmp_path), "--read-only")) as c:
        tools = {tool.name for tool in (await c.list_tools()).tools}
    assert tools == READ_ONLY_TOOLS & available_tools()
    allow = "get_workflow_template,list_workflow_templates"
    async with Client(bridge_process(tmp_path, *database_flag(tmp_path), "--tools", allow)) as c:
        tools = {tool.name for tool in (await c.list_tools()).tools}
    assert tools == {"get_workflow_template", "list_workflow_templates"}


def test_a_bad_allow_list_stops_start_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pommel", "mcp", "--tools", "get_workflow_templat"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown tool(s) get_workflow_templat" in result.stderr
    assert result.stdout == ""  # nothing on the protocol channel


@pytest.fixture
def server(settings: Settings) -> Iterator[LiveServer]:
    live = LiveServer(create_app(settings)).start()
    yield live
    live.stop()


@needs("execution", "run status")
async def test_remote_over_stdio_gives_the_same_results(server: LiveServer, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{server.port}/graphql"
    async with Client(bridge_process(tmp_path, "--url", url)) as client:
        assert await names(client) == (available_tools(), RESOURCES, RESOURCE_TEMPLATES)
        await usage_examples(client)
    assert not (tmp_path / "bridge.sqlite").exists()  # remote mode opens no database
