"""Tool arguments derived from an operation's variable definitions and the schema.

Each variable becomes one argument: ``$taskId: ID!`` → ``task_id`` (a required string). The
argument's description is the one the schema gives the argument or input field the variable
is passed to (a ``#`` comment on the variable fills in where the schema has none); enums list
the contract's lower-case values. Input objects become nested objects with snake_case keys.

Null: an optional argument accepts an explicit ``null`` only where the API gives null its own
meaning, i.e. where the variable lands on a nullable argument or field *without a default*
(``updateTask``'s ``assignee: null`` clears the assignee). Anywhere else null is taken as "not
given", so an agent that fills every optional argument with null still gets the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Undefined,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_input_type,
    type_from_ast,
    value_from_ast,
    visit,
)
from graphql.language import Token, TokenKind

from pommel.mcp.naming import enum_value, snake_case

JSONSchema = dict[str, Any]

# JSON Schema of the scalars the API uses; any other scalar accepts any JSON value.
_SCALARS: dict[str, JSONSchema] = {
    "ID": {"type": "string"},
    "String": {"type": "string"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    # Every JSON input of the API (metadata, parameters) is an object.
    "JSON": {"type": "object"},
    "DateTime": {"type": "string", "format": "date-time"},
}


@dataclass(frozen=True)
class Location:
    """Where a variable is passed: an argument or an input-object field."""

    description: str | None
    has_default: bool
    nullable: bool


@dataclass(frozen=True)
class Argument:
    """One tool argument, bound to one GraphQL variable."""

    name: str
    variable: str
    type: GraphQLInputType
    required: bool
    null_allowed: bool
    schema: JSONSchema


def _nullable(schema: JSONSchema) -> JSONSchema:
    """``schema`` that also accepts null."""
    if "enum" in schema:
        return {
            **schema,
            "type": [schema.get("type", "string"), "null"],
            "enum": [*schema["enum"], None],
        }
    kind = schema.get("type")
    if kind is None:
        return schema  # accepts anything already
    kinds = kind if isinstance(kind, list) else [kind]
    return {**schema, "type": [*kinds, "null"]}


def input_schema(type_: GraphQLInputType) -> JSONSchema:
    """The JSON Schema of a GraphQL input type (nullability aside: see ``Argument``)."""
    if isinstance(type_, GraphQLNonNull):
        return input_schema(type_.of_type)
    if isinstance(type_, GraphQLList):
        items = input_schema(type_.of_type)
        if not isinstance(type_.of_type, GraphQLNonNull):
            items = _nullable(items)
        return {"type": "array", "items": items}
    if isinstance(type_, GraphQLEnumType):
        return {"type": "string", "enum": [enum_value(name) for name in type_.values]}
    if isinstance(type_, GraphQLInputObjectType):
        properties: dict[str, JSONSchema] = {}
        required: list[str] = []
        for name, field in type_.fields.items():
            key = snake_case(name)
            schema = input_schema(field.type)
            if _null_allowed(field.type, field.default_value is not Undefined):
                schema = _nullable(schema)
            if field.description:
                schema = {**schema, "description": field.description}
            properties[key] = schema
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined:
                required.append(key)
        result: JSONSchema = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            result["required"] = required
        if type_.description:
            result["description"] = type_.description
        return result
    assert isinstance(type_, GraphQLScalarType)
    return dict(_SCALARS.get(type_.name, {}))


def _null_allowed(type_: GraphQLInputType, has_default: bool) -> bool:
    return not isinstance(type_, GraphQLNonNull) and not has_default


def _comment_before(token: Token | None) -> str | None:
    """The ``#`` comment lines right before ``token``, joined; None when there are none."""
    lines: list[str] = []
    current = token.prev if token else None
    while current is not None and current.kind == TokenKind.COMMENT:
        before = current.prev
        if before is not None and before.kind != TokenKind.COMMENT and before.line == current.line:
            break  # a trailing comment belongs to what precedes it on its line
        lines.insert(0, (current.value or "").strip())
        current = before
    text = " ".join(line for line in lines if line)
    return text or None


class _LocationFinder(Visitor):
    """Records, for each variable passed directly to an argument or field, where it goes."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: dict[str, Location] = {}

    def _record(self, value: object, target: GraphQLArgument | GraphQLInputField | None) -> None:
        if isinstance(value, VariableNode) and target is not None:
            self.found.setdefault(
                value.name.value,
                Location(
                    description=target.description,
                    has_default=target.default_value is not Undefined,
                    nullable=not isinstance(target.type, GraphQLNonNull),
                ),
            )

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self._record(node.value, self.type_info.get_argument())

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        field = (
            parent.fields.get(node.name.value)
            if isinstance(parent, GraphQLInputObjectType)
            else None
        )
        self._record(node.value, field)


def variable_locations(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> dict[str, Location]:
    """Where each of ``operation``'s variables is passed (directly, not inside a list)."""
    type_info = TypeInfo(schema)
    finder = _LocationFinder(type_info)
    visit(operation, TypeInfoVisitor(type_info, finder))
    return finder.found


def _argument(
    schema: GraphQLSchema, definition: VariableDefinitionNode, location: Location | None
) -> Argument:
    variable = definition.variable.name.value
    type_ = type_from_ast(schema, definition.type)
    if type_ is None or not is_input_type(type_):
        raise ValueError(f"variable ${variable} has an unknown input type")
    has_own_default = definition.default_value is not None
    required = isinstance(type_, GraphQLNonNull) and not has_own_default
    null_allowed = (
        not isinstance(type_, GraphQLNonNull)
        and not has_own_default
        and location is not None
        and location.nullable
        and not location.has_default
    )
    schema_ = input_schema(type_)
    if null_allowed:
        schema_ = _nullable(schema_)
    description = (location.description if location else None) or _comment_before(
        definition.loc.start_token if definition.loc else None
    )
    if description:
        schema_ = {**schema_, "description": description}
    if has_own_default:
        default = value_from_ast(definition.default_value, type_)
        schema_["default"] = _to_json(default, type_)
    return Argument(
        name=snake_case(variable),
        variable=variable,
        type=type_,
        required=required,
        null_allowed=null_allowed,
        schema=schema_,
    )


def operation_arguments(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[Argument, ...]:
    """The tool arguments of ``operation``, in the order its variables are declared."""
    locations = variable_locations(schema, document, operation)
    return tuple(
        _argument(schema, definition, locations.get(definition.variable.name.value))
        for definition in operation.variable_definitions or ()
    )


def arguments_schema(arguments: tuple[Argument, ...]) -> JSONSchema:
    """The tool's ``inputSchema``: an object of the arguments, no others allowed."""
    schema: JSONSchema = {
        "type": "object",
        "properties": {argument.name: argument.schema for argument in arguments},
        "additionalProperties": False,
    }
    required = [argument.name for argument in arguments if argument.required]
    if required:
        schema["required"] = required
    return schema


def _to_json(value: Any, type_: GraphQLInputType) -> Any:
    """A GraphQL input value as the tool side spells it (enum values, snake_case keys)."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return _to_json(value, type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_to_json(item, type_.of_type) for item in value]
    if isinstance(type_, GraphQLEnumType):
        for name, definition in type_.values.items():
            if value in (definition.value, name):
                return enum_value(name)
        return value
    if isinstance(type_, GraphQLInputObjectType):
        return {
            snake_case(name): _to_json(value[name], field.type)
            for name, field in type_.fields.items()
            if name in value
        }
    return value
