"""The engine double's GraphQL API: schema subset, resolvers, and the ASGI endpoint.

Protocol (as the real engine's session API): ``POST /query`` with JSON ``{"query": ...}``,
HTTP Basic auth with the session token as user name and an empty password. The SDK's first
request is a full introspection query; later ones are whole call chains ending in a leaf field.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from tests.dagger_double.pipeline import Pipeline
from tests.dagger_double.runner import ExecEngine, ExecFailedError, ExecResult

Info = graphql.GraphQLResolveInfo[Any]

SCHEMA_FILE = Path(__file__).with_name("schema.graphqls")
ENGINE_VERSION = "v0.21.11"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class ReceivedQuery:
    """One request as the double understood it."""

    query: str
    introspection: bool
    #: Every container chain the query selects a field of, parsed (image, workdir, env, ...).
    pipelines: list[Pipeline] = field(default_factory=list)

    @property
    def pipeline(self) -> Pipeline:
        """The single (last) pipeline of the query; fails the test if there is none."""
        assert self.pipelines, f"query selects no container: {self.query}"
        return self.pipelines[-1]


@dataclass
class _Context:
    engine: ExecEngine
    missing_images: set[str]


def build_schema() -> graphql.GraphQLSchema:
    """The schema subset, with resolvers attached."""
    schema = graphql.build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    query = schema.query_type
    assert query is not None
    query.fields["container"].resolve = _container
    query.fields["node"].resolve = _node
    query.fields["id"].resolve = lambda _root, _info: "double:query"
    query.fields["version"].resolve = lambda _root, _info: ENGINE_VERSION

    container = schema.type_map["Container"]
    assert isinstance(container, graphql.GraphQLObjectType)
    for name in ("withWorkdir", "withEnvVariable", "withNewFile", "withExec"):
        container.fields[name].resolve = _chain(name)
    container.fields["from"].resolve = _from
    container.fields["id"].resolve = lambda p, _info: p.id
    container.fields["workdir"].resolve = lambda p, _info: p.workdir
    container.fields["sync"].resolve = _sync
    container.fields["stdout"].resolve = _output("stdout")
    container.fields["stderr"].resolve = _output("stderr")
    container.fields["exitCode"].resolve = _output("exit_code")

    for name in ("Node", "Syncer"):
        iface = schema.type_map[name]
        assert isinstance(iface, graphql.GraphQLInterfaceType)
        iface.resolve_type = _resolve_type
    return schema


def _resolve_type(value: Any, _info: Info, _type: Any) -> str:
    return "Container" if isinstance(value, Pipeline) else "Query"


def _container(_root: Any, _info: Info, **args: Any) -> Pipeline:
    return Pipeline().then("container", args)


def _node(_root: Any, _info: Info, id: str) -> Pipeline:
    pipeline = Pipeline.from_id(id)
    if pipeline is None:
        raise graphql.GraphQLError(f"invalid ID: {id!r}")
    return pipeline


def _chain(name: str) -> Callable[..., Pipeline]:
    def resolve(parent: Pipeline, _info: Info, **args: Any) -> Pipeline:
        return parent.then(name, args)

    return resolve


def _from(parent: Pipeline, info: Info, **args: Any) -> Pipeline:
    ctx: _Context = info.context
    address = args["address"]
    if address in ctx.missing_images:
        # The real engine's wording when a registry has no such image.
        raise graphql.GraphQLError(
            f"failed to resolve source metadata for {address}: {address}: not found"
        )
    return parent.then("from", args)


async def _evaluate(parent: Pipeline, info: Info) -> ExecResult | None:
    ctx: _Context = info.context
    try:
        return await ctx.engine.evaluate(parent)
    except ExecFailedError as exc:
        raise graphql.GraphQLError(
            str(exc),
            extensions={
                "_type": "EXEC_ERROR",
                "cmd": list(exc.spec.args),
                "exitCode": exc.result.exit_code,
                "stdout": exc.result.stdout,
                "stderr": exc.result.stderr,
            },
        ) from exc


async def _sync(parent: Pipeline, info: Info) -> str:
    await _evaluate(parent, info)
    return parent.id


def _output(attr: str) -> Callable[..., Awaitable[object]]:
    async def resolve(parent: Pipeline, info: Info) -> object:
        result = await _evaluate(parent, info)
        if result is None:
            raise graphql.GraphQLError("no command has been set")
        return getattr(result, attr)

    return resolve


def parse_request(schema: graphql.GraphQLSchema, payload: dict[str, Any]) -> ReceivedQuery:
    """Parse a request into the container chains it selects, without executing anything."""
    text = str(payload.get("query", ""))
    received = ReceivedQuery(query=text, introspection="__schema" in text)
    try:
        document = graphql.parse(text)
    except graphql.GraphQLError:
        return received
    assert schema.query_type is not None
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode):
            variables = get_variable_values(
                schema, definition.variable_definitions or (), payload.get("variables") or {}
            )
            walker = _Walker(
                schema, variables if isinstance(variables, VariableValues) else None, received
            )
            walker.walk(schema.query_type, definition.selection_set, None)
    return received


_Composite = graphql.GraphQLObjectType | graphql.GraphQLInterfaceType


@dataclass
class _Walker:
    """Follows each selected field, building pipelines the way the resolvers do."""

    schema: graphql.GraphQLSchema
    variables: VariableValues | None
    received: ReceivedQuery

    def walk(
        self,
        parent_type: _Composite,
        selections: graphql.SelectionSetNode | None,
        pipeline: Pipeline | None,
    ) -> None:
        if selections is None:
            return
        for node in selections.selections:
            if isinstance(node, graphql.InlineFragmentNode):
                target = parent_type
                if node.type_condition is not None:
                    named = self.schema.get_type(node.type_condition.name.value)
                    if isinstance(named, _Composite):
                        target = named
                self.walk(target, node.selection_set, pipeline)
            elif isinstance(node, graphql.FieldNode) and not node.name.value.startswith("__"):
                self._field(parent_type, node, pipeline)

    def _field(
        self, parent_type: _Composite, node: graphql.FieldNode, pipeline: Pipeline | None
    ) -> None:
        name = node.name.value
        definition = parent_type.fields.get(name)
        if definition is None:
            return
        args = get_argument_values(definition, node, self.variables)
        named_type = graphql.get_named_type(definition.type)
        child = pipeline
        if name == "container" and pipeline is None:
            child = Pipeline().then("container", args)
        elif name == "node":
            child = Pipeline.from_id(str(args.get("id", "")))
        elif pipeline is not None and named_type.name == "Container":
            child = pipeline.then(name, args)
        if node.selection_set is not None and isinstance(named_type, _Composite):
            self.walk(named_type, node.selection_set, child)
        elif child is not None and child not in self.received.pipelines:
            self.received.pipelines.append(child)


class EngineApp:
    """The ASGI app. Records what it receives; kills a running exec if the client disconnects."""

    def __init__(self, token: str, work_dir: Path) -> None:
        self.token = token
        self.schema = build_schema()
        self.engine = ExecEngine(work_dir)
        self.missing_images: set[str] = set()
        self.received: list[ReceivedQuery] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != "/query" or scope["method"] != "POST":
            await _respond(send, 404, b"not found", "text/plain")
            return
        if not self._authorized(scope):
            await _respond(send, 401, b"unauthorized", "text/plain")
            return
        try:
            payload = json.loads(await _read_body(receive))
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            await _respond(send, 400, b"request body is not a JSON object", "text/plain")
            return
        self.received.append(parse_request(self.schema, payload))

        execution = asyncio.create_task(self._execute(payload))
        disconnected = asyncio.create_task(_wait_disconnect(receive))
        try:
            done, _ = await asyncio.wait(
                {execution, disconnected}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            # Client gone (timeout or cancellation) or server stopping: abandon the work, like
            # the engine does; cancelling the exec kills its process group.
            for task in (execution, disconnected):
                if not task.done():
                    task.cancel()
            await asyncio.gather(execution, disconnected, return_exceptions=True)
        if execution in done and not execution.cancelled():
            await _respond(send, 200, json.dumps(execution.result()).encode(), "application/json")

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name.lower() != b"authorization":
                continue
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                user, _, _password = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return user == self.token
        return False

    async def _execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = await graphql.graphql(
            self.schema,
            str(payload.get("query", "")),
            context_value=_Context(self.engine, self.missing_images),
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        return dict(result.formatted)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
