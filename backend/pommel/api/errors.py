"""Shape every GraphQL error the contract's way.

Expected failures (``PommelError``) carry ``extensions.code`` (and ``fields`` for validation);
GraphQL's own parse/validation/coercion errors become ``VALIDATION_FAILED``; anything else is
logged with its traceback and request id and masked as ``INTERNAL``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from pommel.errors import PommelError
from pommel.logconfig import request_id_var

log = logging.getLogger("pommel.api")

# graphql-core names the offending part of a variable: "Variable '$input' has invalid value
# at .priority: …" (3.3) or "… got invalid value … at 'input.status'; …" (3.2).
_VARIABLE_PATH = re.compile(
    r"Variable '\$(\w+)' (?:has|got) invalid value(?: .*?)? at '?\.?([\w.\[\]]+?)'?[:;]"
)
_VARIABLE_PLAIN = re.compile(r"Variable '\$(\w+)'")
_ARGUMENT = re.compile(r"[Aa]rgument '(\w+)'")
_FIELD = re.compile(r"[Ff]ield '(\w+)'")


def _graphql_fields(error: GraphQLError) -> dict[str, str]:
    message = error.message
    match = _VARIABLE_PATH.search(message)
    if match:
        path = match.group(2)
        return {path.split(".")[-1]: message}
    for pattern in (_VARIABLE_PLAIN, _ARGUMENT, _FIELD):
        match = pattern.search(message)
        if match:
            return {match.group(1): message}
    return {}


def shape_error(error: GraphQLError) -> GraphQLError:
    """The error as the client should see it."""
    original = error.original_error
    extensions: dict[str, Any]
    if isinstance(original, PommelError):
        extensions = original.to_extensions()
        message = original.message
    elif original is None or isinstance(original, GraphQLError):
        if error.extensions and "code" in error.extensions:
            return error
        message = error.message
        extensions = {"code": "VALIDATION_FAILED"}
        fields = _graphql_fields(error)
        if fields:
            extensions["fields"] = fields
    else:
        request_id = request_id_var.get()
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()) or "operation",
            request_id,
            exc_info=original,
        )
        message = f"Internal error; quote request id {request_id} when reporting it."
        extensions = {"code": "INTERNAL", "requestId": request_id}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original if isinstance(original, PommelError) else None,
        extensions=extensions,
    )


class ErrorShaping(SchemaExtension):
    """Apply ``shape_error`` to every error of an operation's result."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [shape_error(error) for error in errors]
