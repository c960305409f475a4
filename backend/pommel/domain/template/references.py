"""Load-time checks of every ``${...}``: does it name something that will exist, here?

What a reference may name depends on where it is written (its scope):

==================  =============================================================
``step``            parameters, ``task.*``, ``steps.*`` (other steps), ``secrets.*``
``condition``       the same, as values of the ``if:`` expression
``step_output``     parameters, ``task.*``, ``result.*`` (the step's own result)
``template_output`` parameters, ``task.*``, ``steps.*``
``workflow_param``  parameters, ``task.*`` (bound when the workflow is created)
==================  =============================================================
"""

from __future__ import annotations

from collections.abc import Collection

from .conditions import ConditionError, condition_references
from .expressions import (
    RESULT_FIELDS,
    STEP_FIELDS,
    TASK_FIELDS,
    ExpressionSyntaxError,
    Reference,
    references,
)
from .fields import Collector, suggest
from .steps import ExprField

NAMESPACES = ("parameters", "task", "steps", "secrets", "result")


def check_field(
    field: ExprField, c: Collector, parameters: Collection[str], steps: Collection[str]
) -> set[str]:
    """Report every bad reference in ``field``; return the steps it depends on."""
    try:
        if field.scope == "condition":
            refs = condition_references(field.text)
        else:
            refs = references(field.text)
    except (ExpressionSyntaxError, ConditionError) as exc:
        c.add(field.path, str(exc))
        return set()
    depends: set[str] = set()
    for ref in refs:
        problem = _problem(ref, field, parameters, steps)
        if problem is not None:
            c.add(field.path, f"{ref.text}: {problem}")
        elif ref.segments[0] == "steps":
            depends.add(ref.segments[1])
    return depends


def _problem(
    ref: Reference, field: ExprField, parameters: Collection[str], steps: Collection[str]
) -> str | None:
    segments = ref.segments
    head = segments[0]
    if len(segments) == 1:
        return _parameter(head, parameters)
    if head == "parameters":
        if len(segments) != 2:
            return "write ${parameters.NAME}"
        return _parameter(segments[1], parameters)
    if head == "task":
        return _task(segments)
    if head == "steps":
        return _steps(segments, field, steps)
    if head == "secrets":
        return _secrets(segments, field)
    if head == "result":
        return _result(segments, field)
    if head in parameters:
        return f"parameter '{head}' has no fields; write ${{{head}}}"
    hint = suggest(head, [*NAMESPACES, *parameters])
    return (
        f"unknown reference: '{head}' is not a parameter, nor one of "
        f"{', '.join(NAMESPACES[:-1])}{hint}"
    )


def _parameter(name: str, parameters: Collection[str]) -> str | None:
    if name in parameters:
        return None
    if not parameters:
        hint = " (this template declares no parameters)"
    else:
        hint = suggest(name, parameters) or f" (declared: {', '.join(sorted(parameters))})"
    shell = (
        f"; for a shell variable write $${{{name}}} or ${name}"
        if name.isupper() or name in ("HOME", "PATH", "PWD")
        else ""
    )
    return f"unknown parameter '{name}'{hint}{shell}"


def _task(segments: tuple[str, ...]) -> str | None:
    if len(segments) == 2 and segments[1] in TASK_FIELDS:
        return None
    if segments[1] == "metadata":
        return None if len(segments) >= 3 else "write ${task.metadata.KEY}"
    hint = suggest(segments[1], [*TASK_FIELDS, "metadata"])
    return (
        f"unknown task field '{'.'.join(segments[1:])}'{hint} (task fields: "
        f"{', '.join(TASK_FIELDS)}, metadata.KEY)"
    )


def _steps(segments: tuple[str, ...], field: ExprField, steps: Collection[str]) -> str | None:
    if field.scope == "step_output":
        return (
            "a step's outputs are computed from its own result: use ${result.output}, "
            "${result.exit_code}, ${result.status} or ${result.json.KEY}"
        )
    if field.scope == "workflow_param":
        return (
            "parameters of a workflow step are bound when the workflow is created, before any "
            "step runs, so step results can't be used here"
        )
    if len(segments) < 3:
        return "write ${steps.NAME.output}, .exit_code, .status or .outputs.KEY"
    name = segments[1]
    if name not in steps:
        hint = suggest(name, steps) or f" (steps: {', '.join(steps)})"
        return f"unknown step '{name}'{hint}"
    if name == field.step:
        return "a step can't use its own results; use ${result.*} in its outputs instead"
    rest = segments[2:]
    if (len(rest) == 1 and rest[0] in STEP_FIELDS) or (len(rest) == 2 and rest[0] == "outputs"):
        return None
    hint = suggest(rest[0], [*STEP_FIELDS, "outputs"])
    return (
        f"unknown step field '{'.'.join(rest)}'{hint}; use output, exit_code, status or outputs.KEY"
    )


def _secrets(segments: tuple[str, ...], field: ExprField) -> str | None:
    if field.scope in ("step_output", "template_output"):
        return "outputs are stored and shown to users, so they can't contain secrets"
    if field.scope == "workflow_param":
        return "reference the secret inside the called template instead"
    return None if len(segments) == 2 else "write ${secrets.NAME}"


def _result(segments: tuple[str, ...], field: ExprField) -> str | None:
    if field.scope != "step_output":
        return "${result.*} is only available in a step's outputs"
    if len(segments) == 2 and segments[1] in RESULT_FIELDS:
        return None
    if segments[1] == "json":
        return None
    return "use ${result.output}, ${result.exit_code}, ${result.status} or ${result.json.KEY}"
