"""Running the bridge's operations: in this process against the schema, or against a server.

Both executors take an ``Operation`` and its variables and return the GraphQL ``data``, or raise
``OperationFailed`` whose text is ``CODE: message`` with the code from ``extensions.code``. The
bridge adds nothing of its own: what the API refuses, the tool reports, in the API's words.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

import httpx
from graphql import GraphQLError, OperationType
from starlette.requests import Request

from pommel.api.context import Context
from pommel.api.schema import PommelSchema, build_schema
from pommel.logconfig import new_request_id, request_id_var
from pommel.mcp.operations import Operation
from pommel.mcp.wsclient import subscribe_over_websocket
from pommel.runtime import Runtime
from pommel.services.auth import Principal

# The bridge's own failures (the server cannot be reached), beside the API's codes.
UNAVAILABLE = "UNAVAILABLE"
ERROR_LIMIT = 5  # more errors than this are counted, not listed


class OperationFailed(Exception):
    """The operation returned errors; ``str()`` is ``CODE: message`` for the first one."""

    def __init__(
        self, code: str, message: str, *, errors: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.errors = list(errors)

    @classmethod
    def from_errors(cls, errors: Sequence[Mapping[str, Any]]) -> OperationFailed:
        """The failure for a GraphQL ``errors`` list (each error on its own line, once)."""
        # Two root fields failing for the same reason (an unknown task) say it once.
        unique = list(
            {(_code(error), str(error.get("message", ""))): error for error in errors}.values()
        )
        lines = [f"{_code(error)}: {error.get('message', '')}" for error in unique[:ERROR_LIMIT]]
        if len(unique) > ERROR_LIMIT:
            lines.append(f"(and {len(unique) - ERROR_LIMIT} more errors)")
        first = unique[0]
        message = "\n".join([str(first.get("message", "")), *lines[1:]])
        return cls(_code(first), message, errors=errors)


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions") or {}
    return str(extensions.get("code", "INTERNAL"))


def _formatted(errors: Sequence[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(error.formatted) for error in errors]


class Executor(Protocol):
    """Runs an operation; the same interface in both modes, so the tools are the same."""

    read_only: bool

    async def execute(
        self, operation: Operation, variables: dict[str, Any], *, request: Request | None = None
    ) -> dict[str, Any]:
        """The operation's ``data``; ``OperationFailed`` when it returned errors."""
        ...

    def subscribe(
        self, operation: Operation, variables: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Each result's ``data`` of a subscription operation."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def _refuse_mutation(executor: Executor, operation: Operation) -> None:
    # The server hides mutating tools in read-only mode; this makes sure of it.
    if executor.read_only and operation.kind is OperationType.MUTATION:
        raise OperationFailed(
            "FORBIDDEN", f"{operation.mcp_name} changes data; the bridge is read-only"
        )


class InProcessExecutor:
    """Executes against the schema in this process, on the given ``Runtime`` (its database).

    Who the caller is decides what the API allows (scopes), as on ``/graphql``:

    - ``from_requests`` (the ``/mcp`` endpoint): the API key of each HTTP request;
    - else ``api_key`` when given (``pommel mcp --api-key`` without ``--url``): that key;
    - else the local user, who can open the database anyway (``pommel mcp`` over stdio).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        read_only: bool = False,
        api_key: str | None = None,
        from_requests: bool = False,
    ) -> None:
        self.runtime = runtime
        self.read_only = read_only
        self.api_key = api_key
        self.from_requests = from_requests
        # Built with the configured query limits, like the one behind /graphql.
        self.schema: PommelSchema = build_schema(runtime.settings)

    async def _principal(self, request: Request | None) -> Principal | None:
        auth = self.runtime.auth
        if self.from_requests:
            # No request, no caller: the API refuses it when keys are required.
            if request is None:
                return None
            return await auth.authenticate(request.headers.get("authorization"))
        if self.api_key is not None:
            return await auth.authenticate(self.api_key)
        return Principal.local()

    async def _context(self, request: Request | None) -> Context:
        # The HTTP request (on /mcp) travels with the context, as it does on /graphql.
        return Context(
            runtime=self.runtime,
            request=request,
            request_id=request_id_var.get(),
            principal=await self._principal(request),
        )

    async def execute(
        self, operation: Operation, variables: dict[str, Any], *, request: Request | None = None
    ) -> dict[str, Any]:
        _refuse_mutation(self, operation)
        token = request_id_var.set(new_request_id())
        try:
            result = await self.schema.execute(
                operation.source,
                variable_values=variables,
                context_value=await self._context(request),
                operation_name=operation.name,
            )
        finally:
            request_id_var.reset(token)
        if result.errors:
            raise OperationFailed.from_errors(_formatted(result.errors))
        return dict(result.data or {})

    async def subscribe(
        self, operation: Operation, variables: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        # The bridge's own feed (it only learns which resources changed): the local user.
        context = Context(runtime=self.runtime, principal=Principal.local())
        stream = await self.schema.subscribe(
            operation.source,
            variable_values=variables,
            context_value=context,
            operation_name=operation.name,
        )
        async with contextlib.aclosing(stream):
            async for result in stream:
                if result.errors:
                    raise OperationFailed.from_errors(_formatted(result.errors))
                yield dict(result.data or {})

    async def aclose(self) -> None:
        return None


class RemoteExecutor:
    """Sends each operation to a Pommel server's ``/graphql`` with the API key."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        read_only: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.read_only = read_only
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.api_key = api_key
        self._http = httpx.AsyncClient(timeout=timeout, headers=self.headers)

    async def execute(
        self, operation: Operation, variables: dict[str, Any], *, request: Request | None = None
    ) -> dict[str, Any]:
        _refuse_mutation(self, operation)
        payload = {
            "query": operation.source,
            "variables": variables,
            "operationName": operation.name,
        }
        try:
            response = await self._http.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise OperationFailed(
                UNAVAILABLE,
                f"cannot reach the Pommel server at {self.url}: {exc or type(exc).__name__}",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not ("data" in body or "errors" in body):
            raise _http_failure(self.url, response)
        if body.get("errors"):
            raise OperationFailed.from_errors(body["errors"])
        return dict(body.get("data") or {})

    async def subscribe(
        self, operation: Operation, variables: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        async for result in subscribe_over_websocket(
            self.url,
            query=operation.source,
            variables=variables,
            operation_name=operation.name,
            api_key=self.api_key,
        ):
            if result.get("errors"):
                raise OperationFailed.from_errors(result["errors"])
            yield dict(result.get("data") or {})

    async def aclose(self) -> None:
        await self._http.aclose()


def _http_failure(url: str, response: httpx.Response) -> OperationFailed:
    """A failure for an HTTP answer that carries no GraphQL result."""
    if response.status_code == 401:
        return OperationFailed(
            "UNAUTHENTICATED", f"the server at {url} wants a valid API key (--api-key)"
        )
    if response.status_code == 403:
        return OperationFailed("FORBIDDEN", f"the server at {url} refused the API key")
    if response.status_code == 429:
        return OperationFailed("RATE_LIMITED", f"the server at {url} asks to slow down")
    return OperationFailed(
        UNAVAILABLE,
        f"the server at {url} answered HTTP {response.status_code} without a GraphQL result "
        "(is the URL its /graphql endpoint?)",
    )
