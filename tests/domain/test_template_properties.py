"""Property tests: arbitrary input only ever fails with TemplateError or ParameterError."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pommel.domain.template import (
    ParameterError,
    StepOutcome,
    TaskContext,
    TemplateError,
    bind_parameters,
    evaluate_condition,
    parse_template,
    render_definition,
    render_runtime,
    render_step,
    secret_names,
    step_outputs,
    validate_source,
)
from pommel.domain.template.expressions import escape, substitute

T = TypeVar("T")
FAST = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SOURCES = [p.read_text(encoding="utf-8") for p in sorted(TEMPLATES.glob("*.yaml"))]
BUILT_INS = {t.name: t for t in map(parse_template, SOURCES)}

# Words the parser reacts to, so generated documents reach deep into it.
VOCABULARY = [
    "metadata", "name", "description", "version", "type", "tags", "parameters", "steps",
    "outputs", "timeout", "container", "image", "command", "workdir", "env", "script",
    "interpreter", "source", "http", "url", "method", "body", "expect_status", "workflow",
    "template", "needs", "if", "retries", "count", "backoff", "value", "required", "default",
    "enum", "string", "integer", "a", "b", "basic_task",
]  # fmt: skip
EXPRESSION_ALPHABET = "${}.$ abc_-0123456789'\"()!=<>&|\\stepsecrtaskoutpu"
EXPRESSION_PIECES = [
    "${", "}", "$${", "${steps.a.output}", "${steps.a.outputs.k}", "${secrets.S}",
    "${epochs}", "${task.name}", "${task.metadata.x}", "${result.json.a}", "success()",
    "failure()", "always()", "&&", "||", "!", "==", "<=", "'x'", '"y"', "(", ")", "1", "null",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(VOCABULARY),
)
expressions = st.one_of(
    st.text(alphabet=EXPRESSION_ALPHABET, max_size=40),
    st.lists(st.sampled_from(EXPRESSION_PIECES), max_size=8).map(" ".join),
    st.lists(st.sampled_from(EXPRESSION_PIECES), max_size=8).map("".join),
)
nested = st.recursive(
    st.one_of(scalars, expressions),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=8)), children, max_size=4
        ),
    ),
    max_leaves=25,
)
odd_values = st.one_of(
    nested, st.sets(st.integers(), max_size=3), st.binary(max_size=5), st.tuples(st.integers())
)


def attempt(call: Callable[[], T], *allowed: type[Exception]) -> tuple[T | None, Any]:
    """``(result, None)`` or ``(None, error)`` for an allowed error; anything else escapes."""
    try:
        return call(), None
    except allowed as exc:
        return None, exc


def dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


@st.composite
def mutated_builtin(draw: st.DrawFn) -> str:
    """A built-in template with a random edit: lines dropped, duplicated or text inserted."""
    lines = draw(st.sampled_from(SOURCES)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "insert", "replace"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "insert":
            lines.insert(at, draw(st.one_of(expressions, st.text(max_size=20))))
        else:
            line = lines[at]
            cut = draw(st.integers(0, len(line)))
            lines[at] = line[:cut] + draw(expressions) + line[cut:]
    return "\n".join(lines) + "\n"


yaml_texts = st.one_of(
    st.text(max_size=200),
    nested.map(dump),
    st.fixed_dictionaries(
        {"metadata": nested, "parameters": nested, "steps": nested, "outputs": nested}
    ).map(dump),
    mutated_builtin(),
)

TASK = TaskContext("task-1", "n", "d", "planned", "low", None, {"x": 1}, "proj-1")
outcomes = st.dictionaries(
    st.sampled_from(["a", "b", "ok"]),
    st.builds(
        StepOutcome,
        status=st.sampled_from(["succeeded", "failed", "skipped"]),
        exit_code=st.one_of(st.none(), st.integers()),
        output=st.text(max_size=20),
        outputs=st.dictionaries(st.text(max_size=3), st.text(max_size=5), max_size=3),
    ),
    max_size=3,
)
secrets = st.dictionaries(st.sampled_from(["S", "T"]), st.text(max_size=5), max_size=2)


@FAST
@given(yaml_texts)
def test_validate_source_never_raises(text: str) -> None:
    problems = validate_source(text)
    assert all(isinstance(p.message, str) and p.message for p in problems)
    assert all(p.line is None or p.line >= 1 for p in problems)


@FAST
@given(yaml_texts)
def test_parse_template_raises_only_template_error(text: str) -> None:
    template, error = attempt(lambda: parse_template(text, lookup=BUILT_INS.get), TemplateError)
    if template is None:
        assert error.problems
        return
    assert validate_source(text, lookup=BUILT_INS.get) == []
    definition, _ = attempt(
        lambda: render_definition(template, parameters={}, task=TASK, lookup=BUILT_INS.get),
        TemplateError,
        ParameterError,
    )
    if definition is not None:
        assert json.loads(json.dumps(definition)) == definition
        secret_names(definition)


@FAST
@given(
    st.sampled_from(sorted(BUILT_INS)),
    st.one_of(odd_values, st.dictionaries(st.text(max_size=12), odd_values)),
)
def test_bind_parameters_raises_only_parameter_error(name: str, values: Any) -> None:
    template = BUILT_INS[name]
    bound, error = attempt(lambda: bind_parameters(template, values), ParameterError)
    if bound is None:
        assert error.problems
    else:
        assert set(bound) == {p.name for p in template.parameters}
        json.dumps(bound)


@FAST
@given(
    st.sampled_from(sorted(BUILT_INS)),
    st.dictionaries(
        st.sampled_from(["task_name", "task_command", "epochs", "url", "x"]), odd_values
    ),
    st.dictionaries(st.text(max_size=5), odd_values, max_size=4),
    st.text(max_size=30),
)
def test_render_definition_raises_only_expected_errors(
    name: str, values: dict[str, Any], metadata: dict[str, Any], text: str
) -> None:
    task = TaskContext("task-1", text, text, "planned", "low", text or None, metadata, "proj-1")
    try:
        definition = render_definition(
            BUILT_INS[name], parameters=values, task=task, lookup=BUILT_INS.get
        )
    except (TemplateError, ParameterError):
        return
    assert json.loads(json.dumps(definition)) == definition


@FAST
@given(nested, outcomes, secrets)
def test_render_runtime_raises_only_template_error(
    value: Any, steps: dict[str, StepOutcome], secret_values: dict[str, str]
) -> None:
    _, error = attempt(
        lambda: render_runtime(value, steps=steps, secrets=secret_values), TemplateError
    )
    assert error is None or error.problems


@FAST
@given(
    expressions, outcomes, st.lists(st.sampled_from(["a", "b", "ok", "zz"]), max_size=3), secrets
)
def test_evaluate_condition_raises_only_template_error(
    expr: str, steps: dict[str, StepOutcome], needs: list[str], secret_values: dict[str, str]
) -> None:
    result, error = attempt(
        lambda: evaluate_condition(expr, steps=steps, needs=needs, secrets=secret_values),
        TemplateError,
    )
    assert isinstance(result, bool) or error.problems


@FAST
@given(expressions, st.text(max_size=30), st.one_of(st.none(), st.integers()))
def test_step_outputs_raise_only_template_error(expr: str, stdout: str, code: int | None) -> None:
    try:
        outputs = step_outputs({"o": expr}, stdout=stdout, exit_code=code, http_status=code)
    except TemplateError:
        return
    assert all(isinstance(v, str) for v in outputs.values())


@FAST
@given(st.text(max_size=60))
def test_escaped_text_reads_back_unchanged(text: str) -> None:
    assert substitute(escape(text), lambda ref: None, final=True) == text


@FAST
@given(st.text(max_size=60))
def test_parameter_values_reach_the_command_verbatim(command: str) -> None:
    """Data is never template text: whatever a user passes is exactly what runs."""
    definition = render_definition(
        BUILT_INS["basic_task"], parameters={"task_name": "n", "task_command": command}, task=TASK
    )
    assert secret_names(definition) == set()
    ready = render_step(definition["steps"][0], steps={}, secrets={"S": "leak"})
    assert ready["argv"] == ["sh", "-c", command]
