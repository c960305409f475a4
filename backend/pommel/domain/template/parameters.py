"""Declared parameters: reading their specs, and checking values against them.

Types follow JSON: ``integer`` accepts whole numbers but not booleans, ``number`` accepts
integers too, ``array``/``object`` hold JSON data only (the rendered definition is JSON).
Values are data, never template text: a value containing ``${...}`` is used literally.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, cast

from .fields import Collector, kind, suggest
from .model import (
    PARAMETER_TYPES,
    ParameterError,
    ParameterProblem,
    ParameterSpec,
    ParameterType,
    Template,
)
from .source import join

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ALIASES = {
    "int": "integer",
    "str": "string",
    "text": "string",
    "bool": "boolean",
    "float": "number",
    "list": "array",
    "dict": "object",
    "map": "object",
    "mapping": "object",
}
_MAX_DEPTH = 64


def describe(value: object) -> str:
    """``string 'ten'``, ``integer 3``, ``boolean true``… for messages about a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        shown = str(value) if abs(value) < 10**30 else "(a very large integer)"
        return f"integer {shown}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"string {shown!r}"
    if isinstance(value, list | tuple):
        return f"array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return "object"
    return f"a {type(value).__name__} (not JSON)"


def check_value(spec: ParameterSpec, value: object) -> str | None:
    """Why ``value`` doesn't fit ``spec`` (type, then enum), or ``None`` when it does."""
    problem = _type_problem(spec.type, value)
    if problem is None and spec.enum is not None and not any(_same(value, o) for o in spec.enum):
        choices = ", ".join(_show(option) for option in spec.enum)
        problem = f"must be one of {choices}; got {_show(value)}"
    return problem


def bind_parameters(template: Template, values: Mapping[str, object] | None) -> dict[str, object]:
    """Check ``values`` against ``template`` and apply defaults.

    Returns every declared parameter (``None`` for an optional one without a default, which
    renders as empty text). A ``None`` value counts as not given. Raises ``ParameterError``
    naming every unknown, missing or badly typed parameter at once.
    """
    given: Mapping[Any, object] = {} if values is None else values
    if not isinstance(given, Mapping):
        problem = ParameterProblem("parameters", f"expected an object, got {describe(given)}")
        raise ParameterError([problem])
    declared = {spec.name: spec for spec in template.parameters}
    problems: list[ParameterProblem] = []
    for key in given:
        if key not in declared:
            hint = suggest(str(key), declared) or (
                f" (this template takes: {', '.join(declared)})"
                if declared
                else " (this template takes no parameters)"
            )
            problems.append(ParameterProblem(str(key), f"unknown parameter{hint}"))
    bound: dict[str, object] = {}
    for spec in template.parameters:
        value = given.get(spec.name)
        if value is None:
            if spec.default is None and spec.required:
                about = f" ({spec.description})" if spec.description else ""
                problems.append(
                    ParameterProblem(spec.name, f"required parameter is missing{about}")
                )
            bound[spec.name] = _plain(spec.default)
            continue
        problem = check_value(spec, value)
        if problem is not None:
            problems.append(ParameterProblem(spec.name, problem))
        else:
            bound[spec.name] = _plain(value)
    if problems:
        raise ParameterError(problems)
    return bound


def parse_parameters(data: object, c: Collector) -> tuple[ParameterSpec, ...]:
    """The ``parameters:`` section; problems go to ``c``."""
    if data is None:
        return ()
    section = c.mapping(data, "parameters", what="a mapping of parameter name to its spec")
    specs: list[ParameterSpec] = []
    for name, raw in (section or {}).items():
        path = join("parameters", name)
        if not NAME.fullmatch(name):
            c.add(
                path,
                f"invalid parameter name '{name}': use letters, digits, '_' and '-', "
                "starting with a letter or '_'",
            )
        spec = _parse_spec(name, raw, path, c)
        if spec is not None:
            specs.append(spec)
    return tuple(specs)


def _parse_spec(name: str, raw: object, path: str, c: Collector) -> ParameterSpec | None:
    body = c.mapping(
        raw,
        path,
        allowed=("type", "description", "required", "default", "enum"),
        required=("type",),
        what="a parameter spec like {type: string, description: ...}",
    )
    if body is None or "type" not in body:
        return None
    type_name = body["type"]
    if type_name not in PARAMETER_TYPES:
        alias = _ALIASES.get(str(type_name))
        hint = f"; did you mean '{alias}'?" if alias else suggest(str(type_name), PARAMETER_TYPES)
        c.add(
            join(path, "type"),
            f"unknown type {_show(type_name)}{hint or ''} (types: {', '.join(PARAMETER_TYPES)})",
        )
        return None
    param_type = cast(ParameterType, type_name)
    description = c.text(body.get("description", ""), join(path, "description")) or ""
    required = body.get("required", False)
    if not isinstance(required, bool):
        c.add(join(path, "required"), f"expected true or false, got {kind(required)}")
        required = False
    enum: tuple[object, ...] | None = None
    if "enum" in body:
        enum = _parse_enum(param_type, body["enum"], join(path, "enum"), c)
    spec = ParameterSpec(name, param_type, description, required, None, enum)
    default = body.get("default")
    if default is not None:
        problem = check_value(spec, default)
        if problem is not None:
            c.add(join(path, "default"), f"default doesn't fit the parameter: {problem}")
        else:
            spec = ParameterSpec(name, param_type, description, required, default, enum)
    return spec


def _parse_enum(
    type_name: ParameterType, raw: object, path: str, c: Collector
) -> tuple[object, ...] | None:
    if not isinstance(raw, list) or not raw:
        c.add(path, f"expected a non-empty list of allowed values, got {kind(raw)}")
        return None
    good = True
    for i, option in enumerate(raw):
        problem = _type_problem(type_name, option)
        if problem is not None:
            c.add(join(path, i), f"enum value doesn't fit type {type_name}: {problem}")
            good = False
    return tuple(raw) if good else None


def _type_problem(type_name: ParameterType, value: object) -> str | None:
    ok: bool
    if type_name == "string":
        ok = isinstance(value, str)
    elif type_name == "boolean":
        ok = isinstance(value, bool)
    elif type_name == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
    elif type_name == "array":
        ok = isinstance(value, list | tuple)
    else:
        ok = isinstance(value, Mapping)
    if not ok:
        return f"expected {type_name}, got {describe(value)}"
    if type_name in ("array", "object"):
        where = _not_json(value, "", 0)
        if where is not None:
            return f"expected {type_name} of JSON values; {where}"
    return None


def _not_json(value: object, at: str, depth: int) -> str | None:
    """Where ``value`` stops being JSON data, or ``None``."""
    if depth > _MAX_DEPTH:
        return f"the value is nested more than {_MAX_DEPTH} levels deep"
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{at or 'the value'} is {value!r}, not a number"
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _not_json(item, f"{at}[{i}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{at or 'the object'} has a non-text key {describe(key)}"
            found = _not_json(item, f"{at}.{key}" if at else key, depth + 1)
            if found:
                return found
        return None
    return f"{at or 'the value'} is {describe(value)}"


def _same(a: object, b: object) -> bool:
    # 1 == True in Python; for parameter values they are different things.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        return bool(a == b)
    except Exception:  # an arbitrary object's __eq__ may do anything
        return False


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:39] + "…")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return describe(value).split(" ", 1)[1]
    return describe(value)


def _plain(value: object) -> object:
    """A fresh copy made only of dict/list/scalars, so the bound values are JSON as they are."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
