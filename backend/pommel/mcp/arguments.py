"""Tool arguments as an agent sends them, checked and turned into GraphQL variables.

Checked against the input schema derived from the operation (``inputs``), so every bad
argument is named at once in the tool's own terms (``workflow_type: 'vm' is not one of …``)
before anything reaches the API; then renamed (``task_id`` → ``taskId``) and enum values spelt
the GraphQL way (``containerized_workflow`` → ``CONTAINERIZED_WORKFLOW``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
)
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from pommel.mcp.inputs import Argument, JSONSchema
from pommel.mcp.naming import enum_value, snake_case


class ArgumentsInvalid(ValueError):
    """Tool arguments that do not fit the input schema; ``problems`` names each argument."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _to_graphql(value: Any, type_: GraphQLInputType) -> Any:
    """An already validated tool value as a GraphQL variable value."""
    if value is None:
        return None
    if isinstance(type_, GraphQLNonNull):
        return _to_graphql(value, type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_to_graphql(item, type_.of_type) for item in value]
    if isinstance(type_, GraphQLEnumType):
        for name in type_.values:
            if enum_value(name) == value:
                return name
        return value
    if isinstance(type_, GraphQLInputObjectType):
        converted: dict[str, Any] = {}
        for name, field in type_.fields.items():
            key = snake_case(name)
            if key in value:
                converted[name] = _to_graphql(value[key], field.type)
        return converted
    return value


def _describe(error: Any, known: list[str]) -> str:
    """One validation error as ``argument: what is wrong``."""
    where = ".".join(str(part) for part in error.absolute_path)
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where + '.' if where else ''}{missing}: is required"
    if validator == "additionalProperties":
        given = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        names = ", ".join(given)
        hint = f" (known: {', '.join(known)})" if not where else ""
        return f"{where + ': ' if where else ''}unknown argument {names}{hint}"
    if validator == "enum":
        options = ", ".join(str(option) for option in error.validator_value if option is not None)
        return f"{where}: {error.instance!r} is not one of {options}"
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: expected {expected}, got {_json_type(error.instance)}"
    return f"{where or 'arguments'}: {error.message}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "array"
    return "object"


def arguments_validator(schema: JSONSchema) -> Any:
    """A validator of ``schema``, made once per tool (the schema is generated: the tests check
    it with ``check_schema``, which is too slow to run at every start)."""
    return Draft202012Validator(schema)


def variables_from_arguments(
    arguments: tuple[Argument, ...], validator: Any, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``given`` against the tool's input schema and turn it into GraphQL variables.

    Raises ``ArgumentsInvalid`` naming every bad argument at once.
    """
    by_name = {argument.name: argument for argument in arguments}
    # Null where null means nothing is the same as leaving the argument out.
    present = {
        key: value
        for key, value in given.items()
        if not (value is None and key in by_name and not by_name[key].null_allowed)
    }
    errors = sorted(
        validator.iter_errors(present), key=lambda e: [str(part) for part in e.absolute_path]
    )
    if errors:
        raise ArgumentsInvalid([_describe(error, list(by_name)) for error in errors])
    return {
        by_name[key].variable: _to_graphql(value, by_name[key].type)
        for key, value in present.items()
    }
