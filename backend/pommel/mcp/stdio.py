"""``pommel mcp``: the bridge over stdio, in-process or in front of a remote server.

In-process, it opens the database itself and starts the same background services as
``pommel serve`` (``Runtime.running``); with ``--url`` it sends every operation to that
server's ``/graphql`` instead and needs no database. Either way the tools are the same.
Stdout carries the protocol: logs go to stderr.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
from mcp.server.stdio import stdio_server

from pommel.config import Settings
from pommel.mcp.executor import Executor, InProcessExecutor, RemoteExecutor
from pommel.mcp.operations import Catalog, default_catalog
from pommel.mcp.server import Bridge, build_bridge, select_tools
from pommel.runtime import Runtime
from pommel.storage.database import Database


@dataclass(frozen=True)
class BridgeOptions:
    """What ``pommel mcp`` was asked for."""

    url: str | None = None
    api_key: str | None = None
    read_only: bool = False
    tools: frozenset[str] | None = None


@contextlib.asynccontextmanager
async def executor_for(options: BridgeOptions, settings: Settings) -> AsyncIterator[Executor]:
    """The executor ``options`` ask for, with whatever it runs on started and stopped."""
    if options.url:
        remote = RemoteExecutor(options.url, api_key=options.api_key, read_only=options.read_only)
        try:
            yield remote
        finally:
            await remote.aclose()
        return
    runtime = Runtime(settings=settings, db=Database(settings.database_url))
    async with runtime.running():
        yield InProcessExecutor(runtime, read_only=options.read_only, api_key=options.api_key)


async def serve_stdio(bridge: Bridge) -> None:
    """Serve one client on stdin/stdout until it disconnects."""
    async with stdio_server() as (read, write):
        await bridge.server.run(read, write, bridge.server.create_initialization_options())


async def run_bridge(options: BridgeOptions, settings: Settings, catalog: Catalog) -> None:
    """Start the executor, then serve the bridge on stdio until the client leaves."""
    async with executor_for(options, settings) as executor:
        bridge = build_bridge(
            executor, read_only=options.read_only, tools=options.tools, catalog=catalog
        )
        await serve_stdio(bridge)


def main(options: BridgeOptions, settings: Settings) -> int:
    """Run the stdio bridge until the client disconnects (blocking).

    A bad ``--tools``/``--read-only`` combination raises ``BridgeConfigError`` before anything
    starts.
    """
    catalog = default_catalog()
    select_tools(catalog, read_only=options.read_only, allow=options.tools)
    anyio.run(run_bridge, options, settings, catalog)
    return 0
