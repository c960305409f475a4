"""The one place GraphQL operations are authenticated, rate limited and authorised.

``Authorization`` runs for every operation — HTTP, WebSocket, queries, mutations,
subscriptions, introspection — once the document is parsed and before it is validated or
executed. It reads the caller from ``context.principal`` (set by the transport: the
``Authorization`` header in ``get_context``, the ``connection_init`` payload in
``on_ws_connect``), and the scope each root field needs from ``pommel.services.auth``. A
refusal becomes the operation's only error, so nothing runs and no schema detail leaks to a
caller who is not authenticated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from starlette.responses import Response
from strawberry.extensions import SchemaExtension

from pommel.api.context import Context
from pommel.errors import Forbidden, PommelError, RateLimited, Unauthenticated
from pommel.services.api_keys import Scope
from pommel.services.auth import (
    HOW_TO_AUTHENTICATE,
    Principal,
    required_scopes,
    retry_after_seconds,
)

log = logging.getLogger("pommel.api")


def root_fields(document: DocumentNode, operation_name: str | None) -> tuple[str, list[str]]:
    """The operation's type ("query", …) and its root field names, through fragments."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return "query", []
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    names: list[str] = []

    def walk(selection_set: SelectionSetNode, seen: frozenset[str]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:  # cycles: validation's to report
                    walk(fragment.selection_set, seen | {name})

    walk(operation.selection_set, frozenset())
    return operation.operation.value, names


def _forbidden(principal: Principal, missing: dict[Scope, list[str]]) -> Forbidden:
    scope, fields = next(iter(missing.items()))
    also = [other.value for other in list(missing)[1:]]
    message = (
        f"API key '{principal.name}' lacks the '{scope.value}' scope needed for "
        f"{', '.join(fields)}"
        + (f" (and {', '.join(also)})" if also else "")
        + f"; it has: {', '.join(sorted(s.value for s in principal.scopes)) or 'no scopes'}"
    )
    return Forbidden(
        message,
        extensions={
            "missingScope": scope.value,
            "missingScopes": [other.value for other in missing],
            "fields": {name: other.value for other, names in missing.items() for name in names},
        },
    )


class Authorization(SchemaExtension):
    """Refuse an operation whose caller is unknown, over its rate, or lacking a scope."""

    def on_validate(self) -> Iterator[None]:
        refusal = self._refusal()
        if refusal is not None:
            # Set before validation runs: Strawberry then skips validation and execution and
            # answers with exactly this error (shaped like any other by ``ErrorShaping``).
            self.execution_context.pre_execution_errors = [
                GraphQLError(refusal.message, original_error=refusal)
            ]
        yield

    def _refusal(self) -> PommelError | None:
        context = self.execution_context.context
        if not isinstance(context, Context):
            return None  # a bare schema.execute (tests, tools): no transport, no caller
        auth = context.runtime.auth
        principal = context.principal
        if principal is None:  # a caller that set no principal, e.g. an in-process bridge
            if not auth.required:
                return None
            principal = Principal.unauthenticated(f"authentication required: {HOW_TO_AUTHENTICATE}")
        if not principal.authenticated:
            self._header(context, "WWW-Authenticate", 'Bearer realm="pommel"')
            return Unauthenticated(principal.problem or "authentication required")
        if principal.key_pk is not None:
            wait = auth.limiter.take(principal.key_pk)
            if wait is not None:
                seconds = retry_after_seconds(wait)
                self._header(context, "Retry-After", str(seconds))
                return RateLimited(
                    f"rate limit of API key '{principal.name}' exceeded; retry in {seconds}s",
                    extensions={"retryAfter": seconds},
                )
        if Scope.ADMIN in principal.scopes:
            return None
        document = self.execution_context.graphql_document
        if document is None:
            return None
        operation, fields = root_fields(document, self.execution_context.operation_name)
        missing = principal.missing(required_scopes(operation, fields))
        if missing:
            refusal = _forbidden(principal, missing)
            log.info("refused %s for key %s: %s", operation, principal.key_pk, refusal.message)
            return refusal
        return None

    @staticmethod
    def _header(context: Context, name: str, value: str) -> None:
        if isinstance(context.response, Response):
            context.response.headers[name] = value
