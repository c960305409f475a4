"""What an operation returns: its shape, derived from the selection set and the schema.

The shape gives the tool's ``outputSchema`` (clients validate structured content against it)
and is used to present results: GraphQL enum names become the contract's lower-case values
(``CONTAINERIZED_WORKFLOW`` → ``containerized_workflow``), the spelling tool inputs take, so an
agent can pass back what it read. Keys stay as GraphQL returns them (camelCase, aliases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from pommel.mcp.naming import enum_value

JSONSchema = dict[str, Any]

_SCALARS: dict[str, JSONSchema] = {
    "ID": {"type": "string"},
    "String": {"type": "string"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string"},
    "JSON": {},  # any JSON value (a parameter's default may be a number, a list, …)
}

_CompositeType = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


@dataclass
class Shape:
    """One value of a result: a scalar, an enum, a list of shapes, or an object of shapes."""

    nullable: bool
    scalar: str | None = None
    enum: tuple[str, ...] | None = None
    items: Shape | None = None
    fields: dict[str, Shape] = field(default_factory=dict)
    always: set[str] = field(default_factory=set)  # keys present in every result
    composite: bool = False


def _fields_of(type_: _CompositeType) -> dict[str, Any]:
    return dict(type_.fields) if not isinstance(type_, GraphQLUnionType) else {}


def _collect(
    shape: Shape,
    parent: _CompositeType,
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
    *,
    certain: bool,
) -> None:
    """Add the fields of ``selection_set`` on ``parent`` to ``shape``.

    Fields under a fragment on a narrower type are present only for that type: not ``always``.
    """
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            if selection.name.value == "__typename":
                shape.fields[key] = Shape(nullable=False, scalar="String")
            else:
                definition = _fields_of(parent)[selection.name.value]
                child = _shape(definition.type, selection.selection_set, fragments, schema)
                existing = shape.fields.get(key)
                if existing is not None and existing.composite and child.composite:
                    _merge(existing, child)
                else:
                    shape.fields[key] = child
            if certain:
                shape.always.add(key)
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            sub_set = selection.selection_set
        else:
            assert isinstance(selection, FragmentSpreadNode)
            fragment = fragments[selection.name.value]
            condition = fragment.type_condition
            sub_set = fragment.selection_set
        target = schema.get_type(condition.name.value) if condition else parent
        assert isinstance(target, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        _collect(shape, target, sub_set, fragments, schema, certain=certain and target is parent)


def _merge(into: Shape, other: Shape) -> None:
    target = into.items if into.items is not None else into
    source = other.items if other.items is not None else other
    for key, value in source.fields.items():
        target.fields.setdefault(key, value)
    target.always |= source.always


def _shape(
    type_: GraphQLOutputType,
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    schema: GraphQLSchema,
    *,
    nullable: bool = True,
) -> Shape:
    if isinstance(type_, GraphQLNonNull):
        return _shape(type_.of_type, selection_set, fragments, schema, nullable=False)
    if isinstance(type_, GraphQLList):
        items = _shape(type_.of_type, selection_set, fragments, schema)
        return Shape(nullable=nullable, items=items, composite=items.composite)
    if isinstance(type_, GraphQLEnumType):
        return Shape(nullable=nullable, enum=tuple(enum_value(name) for name in type_.values))
    if isinstance(type_, GraphQLScalarType):
        return Shape(nullable=nullable, scalar=type_.name)
    named = get_named_type(type_)
    assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
    assert selection_set is not None  # validation requires a selection on composite types
    shape = Shape(nullable=nullable, composite=True)
    _collect(shape, named, selection_set, fragments, schema, certain=True)
    return shape


def operation_shape(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> Shape:
    """The shape of ``operation``'s ``data`` (an object keyed by its root fields)."""
    root = schema.get_root_type(operation.operation)
    assert root is not None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    shape = Shape(nullable=False, composite=True)
    _collect(shape, root, operation.selection_set, fragments, schema, certain=True)
    return shape


def _with_null(schema: JSONSchema) -> JSONSchema:
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" not in schema:
        return schema
    return {**schema, "type": [schema["type"], "null"]}


def output_schema(shape: Shape) -> JSONSchema:
    """The JSON Schema every value of ``shape`` satisfies."""
    schema: JSONSchema
    if shape.items is not None:
        schema = {"type": "array", "items": output_schema(shape.items)}
    elif shape.enum is not None:
        schema = {"type": "string", "enum": list(shape.enum)}
    elif shape.scalar is not None:
        schema = dict(_SCALARS.get(shape.scalar, {}))
    else:
        schema = {
            "type": "object",
            "properties": {key: output_schema(value) for key, value in shape.fields.items()},
            "required": [key for key in shape.fields if key in shape.always],
            "additionalProperties": False,
        }
    return _with_null(schema) if shape.nullable else schema


def present(value: Any, shape: Shape) -> Any:
    """``value`` (a GraphQL result) with enum values in the contract's spelling."""
    if value is None:
        return None
    if shape.items is not None:
        return [present(item, shape.items) for item in value]
    if shape.enum is not None:
        return enum_value(value) if isinstance(value, str) else value
    if shape.fields and isinstance(value, dict):
        return {
            key: present(item, shape.fields[key]) if key in shape.fields else item
            for key, item in value.items()
        }
    return value
