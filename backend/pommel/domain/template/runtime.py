"""Run-time rendering: what a rendered definition needs once steps have produced results.

The runner, for each step, in this order:

1. ``evaluate_condition(step["if"], steps=outcomes, needs=step["needs"], secrets=…)``;
2. ``render_step(step, steps=outcomes, secrets=…)`` — resolves ``${steps.*}``/``${secrets.*}``
   in what it executes (image, argv, workdir, env, files, http) and turns ``$${`` into ``${``;
3. after it ran: ``step_outputs(step["outputs"], stdout=…, exit_code=…, http_status=…)``.

When the run ends, ``render_runtime(definition["outputs"], steps=outcomes, secrets={})`` gives
the workflow's outputs. Render each value once: rendering twice would unescape ``$${`` twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import conditions
from .conditions import Call, ConditionError
from .expressions import ExpressionSyntaxError, Reference, Resolver, references, substitute
from .model import Problem, StepOutcome, TemplateError

_MARKER = re.compile(r"::set-output name=([A-Za-z0-9_][A-Za-z0-9_-]*)::(.*)")
_MAX_DEPTH = 100
_RUNTIME_FIELDS = ("image", "argv", "workdir", "env", "files", "http")


class _Unresolved(Exception):
    pass


def render_runtime(
    value: Any, *, steps: Mapping[str, StepOutcome], secrets: Mapping[str, str]
) -> Any:
    """``value`` with ``${steps.*}`` and ``${secrets.*}`` resolved in every string inside it.

    Walks strings, lists/tuples (returned as lists) and mappings; other values pass through.
    Raises ``TemplateError`` for a step that hasn't run, a secret that isn't set, or any other
    reference (those belong to ``render_definition``).
    """

    def resolve(ref: Reference) -> object:
        head = ref.segments[0]
        if head == "steps":
            return _step_value(ref, steps)
        if head == "secrets" and len(ref.segments) == 2:
            name = ref.segments[1]
            if name not in secrets:
                raise _Unresolved(f"{ref.text}: secret '{name}' is not set")
            return secrets[name]
        raise _Unresolved(f"{ref.text} can't be resolved when the workflow runs")

    return _walk(value, "", 0, lambda text, path: _final(text, path, resolve))


def render_step(
    step: Mapping[str, Any], *, steps: Mapping[str, StepOutcome], secrets: Mapping[str, str]
) -> dict[str, Any]:
    """A rendered step ready to execute: its executable fields passed through ``render_runtime``.

    ``if`` and ``outputs`` are left as they are (see ``evaluate_condition``/``step_outputs``).
    """
    ready = dict(step)
    for key in _RUNTIME_FIELDS:
        if ready.get(key) is not None:
            ready[key] = render_runtime(ready[key], steps=steps, secrets=secrets)
    return ready


def evaluate_condition(
    expr: str | None,
    *,
    steps: Mapping[str, StepOutcome],
    needs: Sequence[str],
    secrets: Mapping[str, str],
) -> bool:
    """Whether a step with condition ``expr`` (as rendered) should run now.

    ``success()`` — every step in ``needs`` succeeded (the meaning of no ``if`` at all);
    ``failure()`` — one of ``needs`` failed; ``always()`` — true. Only the direct ``needs``
    count, as with GitHub Actions' ``needs`` context. A secret that isn't set reads as empty
    text, so ``${secrets.TOKEN} != ''`` tests whether it is configured.
    """
    try:
        tree: conditions.Node = Call("success")
        if expr is not None and expr.strip():
            tree = conditions.parse(expr)
    except ConditionError as exc:
        raise TemplateError([Problem("if", None, str(exc))]) from None

    def resolve(ref: Reference) -> conditions.Value:
        head = ref.segments[0]
        if head == "secrets" and len(ref.segments) == 2:
            return secrets.get(ref.segments[1], "")
        if head != "steps":
            raise _Unresolved(f"{ref.text} can't be resolved when the workflow runs")
        value = _step_value(ref, steps)
        return value if isinstance(value, str | int) else None

    def status(function: str) -> bool:
        found = [steps.get(name) for name in needs]
        if function == "success":
            return all(o is not None and o.status == "succeeded" for o in found)
        if function == "failure":
            return any(o is not None and o.status == "failed" for o in found)
        return True

    try:
        return conditions.evaluate(tree, resolve, status)
    except _Unresolved as exc:
        raise TemplateError([Problem("if", None, str(exc))]) from None


def step_outputs(
    declared: Mapping[str, str],
    *,
    stdout: str,
    exit_code: int | None,
    http_status: int | None = None,
) -> dict[str, str]:
    """A finished step's outputs: ``::set-output name=KEY::VALUE`` lines, then ``declared``.

    ``declared`` is the step's ``outputs`` from the rendered definition; ``${result.output}``
    is the trimmed stdout (for HTTP steps, pass the response body as ``stdout``),
    ``${result.json.A.B}`` a field of it parsed as JSON (empty when absent). In marker values,
    ``%0A``, ``%0D`` and ``%25`` stand for a newline, a carriage return and ``%``.
    """
    found = parse_markers(stdout)
    parsed: list[object] = []  # parse stdout as JSON at most once, and only if asked

    def body() -> object:
        if not parsed:
            try:
                parsed.append(json.loads(stdout))
            except ValueError:
                parsed.append(None)
        return parsed[0]

    def resolve(ref: Reference) -> object:
        segments = ref.segments
        if segments[0] != "result" or len(segments) < 2:
            raise _Unresolved(f"{ref.text} can't be used in a step's outputs")
        if segments[1] == "json":
            return _dig(body(), segments[2:])
        if len(segments) == 2 and segments[1] == "output":
            return stdout.strip()
        if len(segments) == 2 and segments[1] == "exit_code":
            return exit_code
        if len(segments) == 2 and segments[1] == "status":
            return http_status
        raise _Unresolved(f"{ref.text}: unknown result field")

    for name, expr in declared.items():
        found[name] = _final(expr, f"outputs.{name}", resolve)
    return found


def parse_markers(stdout: str) -> dict[str, str]:
    """The ``::set-output name=KEY::VALUE`` lines in ``stdout`` (a later line wins)."""
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        match = _MARKER.fullmatch(line.strip())
        if match:
            found[match.group(1)] = re.sub(
                "%(25|0A|0D)",
                lambda m: {"25": "%", "0A": "\n", "0D": "\r"}[m.group(1)],
                match.group(2),
            )
    return found


def secret_names(definition: Mapping[str, Any]) -> set[str]:
    """Every secret a rendered definition refers to, so the runner can fetch and mask them."""
    names: set[str] = set()

    def visit(value: Any, key: object, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, str):
            try:
                refs = conditions.condition_references(value) if key == "if" else references(value)
            except (ExpressionSyntaxError, ConditionError):
                return
            names.update(
                r.segments[1] for r in refs if r.segments[0] == "secrets" and len(r.segments) == 2
            )
        elif isinstance(value, Mapping):
            for k, item in value.items():
                visit(item, k, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item, None, depth + 1)

    visit(definition, None, 0)
    return names


def mask_secrets(text: str, secrets: Mapping[str, str] | Sequence[str]) -> str:
    """``text`` with every secret value replaced by ``***`` (longest first, so none leaks)."""
    values = secrets.values() if isinstance(secrets, Mapping) else secrets
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _step_value(ref: Reference, steps: Mapping[str, StepOutcome]) -> object:
    segments = ref.segments
    if len(segments) < 3:
        raise _Unresolved(f"{ref.text}: write ${{steps.NAME.output}}")
    outcome = steps.get(segments[1])
    if outcome is None:
        raise _Unresolved(f"{ref.text}: step '{segments[1]}' has not run")
    field = segments[2:]
    if field == ("output",):
        return outcome.output.strip()
    if field == ("exit_code",):
        return outcome.exit_code
    if field == ("status",):
        return outcome.status
    if len(field) == 2 and field[0] == "outputs":
        return outcome.outputs.get(field[1], "")  # like GitHub Actions: unset outputs are empty
    raise _Unresolved(f"{ref.text}: unknown step field '{'.'.join(field)}'")


def _dig(value: object, path: Sequence[str]) -> object:
    for key in path:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return ""
    return value


def _final(text: str, path: str, resolve: Resolver) -> str:
    try:
        return substitute(text, resolve, final=True)
    except (ExpressionSyntaxError, _Unresolved) as exc:
        raise TemplateError([Problem(path, None, str(exc))]) from None


def _walk(value: Any, path: str, depth: int, render: Callable[[str, str], str]) -> Any:
    if depth > _MAX_DEPTH:
        raise TemplateError([Problem(path, None, "the value is nested too deeply")])
    if isinstance(value, str):
        return render(value, path)
    if isinstance(value, Mapping):
        return {
            k: _walk(v, f"{path}.{k}" if path else str(k), depth + 1, render)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_walk(v, f"{path}[{i}]", depth + 1, render) for i, v in enumerate(value)]
    return value
