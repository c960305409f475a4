"""The named GraphQL operations the MCP bridge serves, loaded from ``schema/operations/mcp/``.

One file holds one operation. Its leading ``#`` comment is the description agents read; a
``# @resource URI`` line in it makes a query a resource (a URI with ``{variables}`` is a
resource template), otherwise a query or mutation is a tool named after the operation
(``CreateWorkflowFromTask`` → ``create_workflow_from_task``). A subscription feeds resource
update notifications. Everything else (argument names, types, descriptions, enums, what comes
back) is derived from the operation and the schema, so the API and the tools cannot drift apart.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLID,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    Source,
    parse,
    validate,
)
from mcp.shared.uri_template import UriTemplate

from pommel.mcp.arguments import arguments_validator, variables_from_arguments
from pommel.mcp.inputs import Argument, JSONSchema, arguments_schema, operation_arguments
from pommel.mcp.naming import snake_case
from pommel.mcp.outputs import Shape, operation_shape, output_schema, present

log = logging.getLogger(__name__)

OPERATIONS_DIR = Path(__file__).resolve().parents[3] / "schema" / "operations" / "mcp"
_RESOURCE = re.compile(r"^@resource\s+(\S+)\s*$")


class OperationError(ValueError):
    """An operation file that cannot be served (parse, validation or shape problem)."""


@dataclass(frozen=True)
class Operation:
    """One named operation, with everything derived from it."""

    name: str
    path: Path
    source: str
    kind: OperationType
    description: str
    resource_uri: str | None
    arguments: tuple[Argument, ...]
    shape: Shape
    input_schema: JSONSchema = field(repr=False)
    output_schema: JSONSchema = field(repr=False)
    _validator: Any = field(repr=False, compare=False)

    @property
    def mcp_name(self) -> str:
        """The tool's (or resource's) name: the operation name in snake_case."""
        return snake_case(self.name)

    @property
    def is_mutation(self) -> bool:
        return self.kind is OperationType.MUTATION

    @property
    def uri_template(self) -> UriTemplate | None:
        """The parsed URI of a resource template; None for a fixed resource or a tool."""
        if self.resource_uri is None or "{" not in self.resource_uri:
            return None
        return UriTemplate.parse(self.resource_uri)

    def variables(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """GraphQL variables from tool arguments; ``ArgumentsInvalid`` names each bad one."""
        return variables_from_arguments(self.arguments, self._validator, arguments)

    def present(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` as the bridge returns it (enum values in the contract's spelling)."""
        result: dict[str, Any] = present(dict(data), self.shape)
        return result


@dataclass(frozen=True)
class Catalog:
    """Every operation that loaded, split by role; ``problems`` names each that did not."""

    tools: tuple[Operation, ...]
    resources: tuple[Operation, ...]
    feeds: tuple[Operation, ...]
    problems: tuple[str, ...] = ()

    def tool(self, name: str) -> Operation | None:
        return next((op for op in self.tools if op.mcp_name == name), None)


def _header(source: str) -> tuple[str, str | None]:
    """The description and ``@resource`` URI from the leading comment lines."""
    description: list[str] = []
    uri = None
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        text = stripped[1:].strip()
        match = _RESOURCE.match(text)
        if match:
            uri = match.group(1)
        else:
            description.append(text)
    return " ".join(part for part in description if part), uri


def _check_resource(operation: Operation) -> None:
    uri = operation.resource_uri
    assert uri is not None
    if operation.kind is not OperationType.QUERY:
        raise OperationError("a resource must be a query")
    template = UriTemplate.parse(uri)
    by_name = {argument.name: argument for argument in operation.arguments}
    for name in template.variable_names:
        argument = by_name.get(name)
        if argument is None:
            raise OperationError(f"URI variable {{{name}}} has no matching variable")
        named = (
            argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
        )
        if named not in (GraphQLID, GraphQLString):
            raise OperationError(f"URI variable {{{name}}} must be an ID or a String")
    for argument in operation.arguments:
        if argument.required and argument.name not in template.variable_names:
            raise OperationError(f"required variable ${argument.variable} is not in the URI")


def load_operation(path: Path, schema: GraphQLSchema) -> Operation:
    """Parse, validate and derive one operation file; ``OperationError`` says what is wrong."""
    text = path.read_text(encoding="utf-8")
    try:
        document: DocumentNode = parse(Source(text, path.name))
    except GraphQLError as exc:
        raise OperationError(exc.message) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise OperationError("a file must hold exactly one named operation")
    errors = validate(schema, document)
    if errors:
        raise OperationError("; ".join(error.message for error in errors))
    definition = operations[0]
    name = definition.name.value if definition.name else ""
    description, uri = _header(text)
    if not description:
        raise OperationError("no description: start the file with a # comment for agents")
    arguments = operation_arguments(schema, document, definition)
    inputs = arguments_schema(arguments)
    shape = operation_shape(schema, document, definition)
    operation = Operation(
        name=name,
        path=path,
        source=text,
        kind=definition.operation,
        description=description,
        resource_uri=uri,
        arguments=arguments,
        shape=shape,
        input_schema=inputs,
        output_schema=output_schema(shape),
        _validator=arguments_validator(inputs),
    )
    if uri is not None:
        _check_resource(operation)
    return operation


def load_catalog(schema: GraphQLSchema, directory: Path = OPERATIONS_DIR) -> Catalog:
    """Load every ``*.graphql`` in ``directory``; files that fail are listed in ``problems``."""
    tools: list[Operation] = []
    resources: list[Operation] = []
    feeds: list[Operation] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.graphql")):
        try:
            operation = load_operation(path, schema)
        except OperationError as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        if operation.kind is OperationType.SUBSCRIPTION:
            feeds.append(operation)
        elif operation.resource_uri is not None:
            resources.append(operation)
        else:
            tools.append(operation)
    names = [op.mcp_name for op in tools]
    for duplicate in sorted({name for name in names if names.count(name) > 1}):
        problems.append(f"two operations make the tool {duplicate}")
    return Catalog(tuple(tools), tuple(resources), tuple(feeds), tuple(problems))


@functools.cache
def default_catalog() -> Catalog:
    """The catalog of ``schema/operations/mcp/`` against the API's schema, loaded once.

    An operation that no longer validates is left out with a warning (the operations test
    fails on it), so the rest keeps working.
    """
    from pommel.api.schema import schema

    catalog = load_catalog(schema._schema)
    for problem in catalog.problems:
        log.warning("MCP operation not served: %s", problem)
    return catalog
