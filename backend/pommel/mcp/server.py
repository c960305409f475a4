"""The MCP server: one tool per tool operation, one resource per resource operation.

Built on the SDK's low-level ``Server`` rather than ``MCPServer``: ``MCPServer`` derives schemas
from Python signatures, while every schema here comes from a GraphQL operation, so the handlers
list and call the operations directly. A tool call is: check the arguments against the derived
input schema, execute the operation, return its data (structured, and as JSON text). A failure
is a tool error whose text starts with the GraphQL ``extensions.code``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Collection
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.exceptions import MCPError
from starlette.requests import Request

from pommel import __version__
from pommel.logconfig import request_id_var
from pommel.mcp.arguments import ArgumentsInvalid
from pommel.mcp.executor import Executor, OperationFailed
from pommel.mcp.notifications import ResourceWatcher
from pommel.mcp.operations import Catalog, Operation, default_catalog

log = logging.getLogger(__name__)

# JSON-RPC code the MCP specification gives an unknown resource.
RESOURCE_NOT_FOUND = -32002

INSTRUCTIONS = """\
Pommel manages projects, their phases and tasks, and containerised workflows run for tasks.
Ids carry their type: `proj-3`, `phase-7`, `task-12`, `wf-9`, `run-41`; template ids are names
such as `ml-training`. Typical flow: create_task (with metadata.command, or metadata.template and
metadata.parameters), create_workflow_from_task or create_workflow_from_template, then
execute_task_workflow; follow the run with get_workflow_status, or subscribe to the resource
task-manager://dagger/workflows/{task_id} to be told when it changes. Enum values are lower case
(`containerized_workflow`, `in_progress`). Errors start with a code such as NOT_FOUND or
VALIDATION_FAILED, followed by what to fix."""


class BridgeConfigError(ValueError):
    """A ``--tools``/``--read-only`` combination that cannot be served."""


def select_tools(
    catalog: Catalog, *, read_only: bool = False, allow: Collection[str] | None = None
) -> tuple[Operation, ...]:
    """The tools to serve: the allow-list's (default: all), without mutations when read-only."""
    if allow is not None:
        known = {op.mcp_name for op in catalog.tools}
        unknown = sorted(set(allow) - known)
        if unknown:
            raise BridgeConfigError(
                f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        mutating = sorted(
            op.mcp_name for op in catalog.tools if op.mcp_name in allow and op.is_mutation
        )
        if read_only and mutating:
            raise BridgeConfigError(
                f"{', '.join(mutating)} change(s) data and cannot be served with --read-only"
            )
    return tuple(
        op
        for op in catalog.tools
        if (allow is None or op.mcp_name in allow) and not (read_only and op.is_mutation)
    )


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


def _http_request(ctx: ServerRequestContext[Any, Any]) -> Request | None:
    return ctx.request if isinstance(ctx.request, Request) else None


def _jsonrpc_code(code: str) -> int:
    if code == "NOT_FOUND":
        return RESOURCE_NOT_FOUND
    if code in {"VALIDATION_FAILED", "UNAUTHENTICATED", "FORBIDDEN"}:
        return types.INVALID_PARAMS
    return types.INTERNAL_ERROR


class Bridge:
    """The tools and resources of a catalog, served by ``server`` through ``executor``."""

    def __init__(
        self,
        catalog: Catalog,
        executor: Executor,
        *,
        read_only: bool = False,
        tools: Collection[str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.executor = executor
        self.read_only = read_only
        self.tools = {
            op.mcp_name: op for op in select_tools(catalog, read_only=read_only, allow=tools)
        }
        self.resources = catalog.resources
        bus = InMemorySubscriptionBus()
        self.watcher = ResourceWatcher(executor, catalog.feeds[0] if catalog.feeds else None, bus)
        self.server: Server[dict[str, Any]] = Server(
            "pommel",
            version=__version__,
            title="Pommel",
            instructions=INSTRUCTIONS,
            lifespan=self._lifespan,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_resource_templates,
            on_read_resource=self._read_resource,
            on_subscribe_resource=self._subscribe,
            on_unsubscribe_resource=self._unsubscribe,
            on_subscriptions_listen=ListenHandler(bus),
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Server[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        # Entered once per server run (a stdio process, the HTTP session manager, a test
        # client): the event feed behind resource notifications runs for as long.
        async with anyio.create_task_group() as group:
            group.start_soon(self.watcher.run)
            try:
                yield {}
            finally:
                group.cancel_scope.cancel()

    # -- tools -------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[self._tool(op) for op in self.tools.values()])

    @staticmethod
    def _tool(op: Operation) -> types.Tool:
        reads = not op.is_mutation
        return types.Tool(
            name=op.mcp_name,
            description=op.description,
            input_schema=op.input_schema,
            output_schema=op.output_schema,
            annotations=types.ToolAnnotations(
                read_only_hint=reads, idempotent_hint=reads or None, open_world_hint=False
            ),
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        op = self.tools.get(params.name)
        if op is None:
            hidden = self.catalog.tool(params.name) is not None
            why = " (hidden: the bridge is read-only or limited by --tools)" if hidden else ""
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}{why}")
        try:
            variables = op.variables(params.arguments or {})
            data = await self.executor.execute(op, variables, request=_http_request(ctx))
            result = op.present(data)
        except ArgumentsInvalid as exc:
            return _error(f"VALIDATION_FAILED: {exc}")
        except OperationFailed as exc:
            return _error(str(exc))
        except Exception:
            log.exception(
                "tool %s failed unexpectedly (request %s)", op.mcp_name, request_id_var.get()
            )
            return _error(f"INTERNAL: {op.mcp_name} failed unexpectedly; see the bridge's log")
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_text(result))],
            structured_content=result,
        )

    # -- resources ---------------------------------------------------------------------------

    async def _list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=op.resource_uri or "",
                    name=op.mcp_name,
                    description=op.description,
                    mime_type="application/json",
                )
                for op in self.resources
                if op.uri_template is None
            ]
        )

    async def _list_resource_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=op.resource_uri or "",
                    name=op.mcp_name,
                    description=op.description,
                    mime_type="application/json",
                )
                for op in self.resources
                if op.uri_template is not None
            ]
        )

    def match(self, uri: str) -> tuple[Operation, dict[str, str]] | None:
        """The resource operation serving ``uri`` and the values its URI gives."""
        for op in self.resources:
            template = op.uri_template
            if template is None:
                if op.resource_uri == uri:
                    return op, {}
                continue
            values = template.match(uri)
            if values is not None and all(isinstance(v, str) for v in values.values()):
                return op, {name: str(value) for name, value in values.items()}
        return None

    def _resolve(self, uri: str) -> tuple[Operation, dict[str, str]]:
        found = self.match(uri)
        if found is None:
            raise MCPError(
                RESOURCE_NOT_FOUND,
                f"NOT_FOUND: no resource {uri}; see resources/list and resources/templates/list",
                data={"uri": uri, "code": "NOT_FOUND"},
            )
        return found

    async def _read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        op, values = self._resolve(uri)
        try:
            data = await self.executor.execute(op, op.variables(values), request=_http_request(ctx))
        except ArgumentsInvalid as exc:
            raise MCPError(
                types.INVALID_PARAMS, f"VALIDATION_FAILED: {exc}", data={"uri": uri}
            ) from None
        except OperationFailed as exc:
            raise MCPError(
                _jsonrpc_code(exc.code), str(exc), data={"uri": uri, "code": exc.code}
            ) from None
        text = _text(op.present(data))
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, text=text, mime_type="application/json")]
        )

    async def _subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        uri = str(params.uri)
        self._resolve(uri)  # refuse what no resource serves
        self.watcher.subscribe(uri, ctx.session)
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self.watcher.unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()


def build_bridge(
    executor: Executor,
    *,
    read_only: bool = False,
    tools: Collection[str] | None = None,
    catalog: Catalog | None = None,
) -> Bridge:
    """The bridge over the operations in ``schema/operations/mcp/`` (``default_catalog``)."""
    if catalog is None:
        catalog = default_catalog()
    return Bridge(catalog, executor, read_only=read_only, tools=tools)
