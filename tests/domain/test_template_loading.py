"""Parsing templates: the contract example, and every kind of mistake with path and line."""

from __future__ import annotations

import textwrap

import pytest

from pommel.domain.template import (
    Problem,
    RetryPolicy,
    Template,
    TemplateError,
    parse_template,
    validate_source,
)

CONTRACT_EXAMPLE = """\
metadata:
  name: basic_task
  description: A basic task workflow template
  version: 1.0.0
  category: general
  tags: [basic, task]
parameters:
  task_name:    {type: string, description: The name of the task, required: true}
  task_command: {type: string, description: The command to execute, required: true}
steps:
  - name: execute_task
    description: Execute the task
    container:
      image: alpine:latest
      command: ${task_command}
      workdir: /app
outputs:
  result:
    description: The result of the task
    value: ${steps.execute_task.output}
"""

HEADER = """\
metadata:
  name: t
parameters:
  epochs: {type: integer, default: 5}
  label: {type: string, default: x}
"""


def src(body: str) -> str:
    return HEADER + textwrap.dedent(body)


def line_of(source: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``: the expected location."""
    for number, line in enumerate(source.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in source")


def find(problems: list[Problem], path: str, *words: str) -> Problem:
    for problem in problems:
        if problem.path == path and all(w in problem.message for w in words):
            return problem
    raise AssertionError(
        f"no problem at {path} with {words}; got:\n" + "\n".join(map(str, problems))
    )


def assert_problem(source: str, path: str, needle: str, *words: str) -> Problem:
    problem = find(validate_source(source), path, *words)
    assert problem.line == line_of(source, needle), str(problem)
    return problem


def test_contract_example_loads_exactly_as_written() -> None:
    template = parse_template(CONTRACT_EXAMPLE)
    assert (template.name, template.version, template.category) == (
        "basic_task",
        "1.0.0",
        "general",
    )
    assert template.tags == ("basic", "task")
    assert template.workflow_type == "containerized_workflow"
    assert [(p.name, p.type, p.required) for p in template.parameters] == [
        ("task_name", "string", True),
        ("task_command", "string", True),
    ]
    (step,) = template.steps
    assert step.kind == "container" and step.container is not None
    assert step.container.image == "alpine:latest"
    assert step.container.command == "${task_command}"
    assert step.container.workdir == "/app"
    assert template.outputs[0].value == "${steps.execute_task.output}"
    assert template.source == CONTRACT_EXAMPLE


def test_builtin_basic_task_file_is_the_contract_text() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "templates" / "basic_task.yaml"
    assert path.read_text(encoding="utf-8") == CONTRACT_EXAMPLE


def test_error_lists_every_problem_at_once() -> None:
    source = src("""\
        steps:
          - name: a
            contianer: {image: x}
          - name: b
            container: {image: alpine, command: "echo ${nope}"}
            timeout: forever
        """)
    with pytest.raises(TemplateError) as caught:
        parse_template(source)
    problems = caught.value.problems
    assert len(problems) == 4, problems
    message = str(caught.value)
    for text in ("contianer", "did you mean 'container'", "unknown parameter 'nope'", "forever"):
        assert text in message
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("metadata:\n  name: [x\n", 3, "invalid YAML"),
        ("metadata:\n\tname: x\n", 2, "invalid YAML"),
        ("", 1, "empty"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("just text", 1, "expected a mapping"),
    ],
)
def test_not_a_template_at_all(text: str, line: int, words: str) -> None:
    (problem,) = validate_source(text)
    assert (problem.path, problem.line) == ("", line)
    assert words in problem.message


def test_missing_sections_and_unknown_top_level_key() -> None:
    source = "metadata: {name: x}\nstep: []\n"
    problems = validate_source(source)
    find(problems, "", "missing required key 'steps'")
    assert find(problems, "step", "did you mean 'steps'").line == 2


def test_metadata_problems() -> None:
    source = textwrap.dedent("""\
        metadata:
          name: My Template
          type: api
          tags: tag-without-list-is-fine
          colour: blue
        steps:
          - {name: a, container: {image: x}}
        """)
    assert_problem(source, "metadata.name", "name: My", "lower-case")
    assert_problem(source, "metadata.type", "type: api", "api_workflow")
    assert_problem(source, "metadata.colour", "colour", "unknown key")
    fixed = source.replace("My Template", "x").replace("api", "api_workflow")
    fixed = fixed.replace("  colour: blue\n", "")
    assert parse_template(fixed).tags == ("tag-without-list-is-fine",)


@pytest.mark.parametrize(
    ("spec", "path", "words"),
    [
        ("{type: int}", "parameters.p.type", ("did you mean 'integer'",)),
        ("{type: integer, default: ten}", "parameters.p.default", ("expected integer", "'ten'")),
        ("{type: boolean, default: 1}", "parameters.p.default", ("expected boolean",)),
        ("{type: integer, default: true}", "parameters.p.default", ("expected integer",)),
        ("{type: string, enum: [a, b], default: c}", "parameters.p.default", ("one of 'a', 'b'",)),
        ("{type: string, enum: [a, 2]}", "parameters.p.enum[1]", ("expected string",)),
        ("{type: string, required: yes please}", "parameters.p.required", ("true or false",)),
        ("{type: string, descripton: x}", "parameters.p.descripton", ("'description'",)),
        ("{description: no type}", "parameters.p", ("missing required key 'type'",)),
        ("string", "parameters.p", ("expected a parameter spec",)),
    ],
)
def test_parameter_spec_problems(spec: str, path: str, words: tuple[str, ...]) -> None:
    source = f"metadata: {{name: t}}\nparameters:\n  p: {spec}\nsteps:\n  - {{name: a, container: {{image: x}}}}\n"
    problem = find(validate_source(source), path, *words)
    assert problem.line == 3


def test_bad_parameter_name() -> None:
    source = "metadata: {name: t}\nparameters:\n  9lives: {type: string}\nsteps: [{name: a, container: {image: x}}]\n"
    assert find(validate_source(source), "parameters.9lives", "invalid parameter name").line == 3


@pytest.mark.parametrize(
    ("step", "path", "needle", "words"),
    [
        ("- {name: a}", "steps[0]", "name: a", ("exactly one of", "found none")),
        (
            "- {name: a, container: {image: x}, script: {interpreter: sh, source: x}}",
            "steps[0]",
            "name: a",
            ("found container and script",),
        ),
        ("- {name: a, container: {image: x}, need: [b]}", "steps[0].need", "need:", ("'needs'",)),
        ("- {container: {image: x}}", "steps[0]", "container", ("missing required key 'name'",)),
        ("- {name: 1a, container: {image: x}}", "steps[0].name", "1a", ("invalid step name",)),
        ("- {name: a, container: {command: ls}}", "steps[0].container", "command", ("'image'",)),
        (
            "- {name: a, container: {image: x}, timeout: soon}",
            "steps[0].timeout",
            "soon",
            ('"30s"',),
        ),
        (
            "- {name: a, container: {image: x}, timeout: -5}",
            "steps[0].timeout",
            "-5",
            ("more than zero",),
        ),
        (
            "- {name: a, container: {image: x}, retries: many}",
            "steps[0].retries",
            "many",
            ("retry count",),
        ),
        (
            "- {name: a, container: {image: x}, retries: {count: 2, backof: 1s}}",
            "steps[0].retries",
            "backof",
            ("unknown key 'backof'",),
        ),
        (
            "- {name: a, http: {url: 'http://x', expect_status: [200, 999]}}",
            "steps[0].http.expect_status",
            "999",
            ("HTTP status",),
        ),
        (
            "- {name: a, http: {url: 'http://x', method: FETCH}}",
            "steps[0].http.method",
            "FETCH",
            ("GET",),
        ),
        (
            "- {name: a, script: {interpreter: ruby, source: puts 1}}",
            "steps[0].script",
            "ruby",
            ("no default image", "image:"),
        ),
        (
            "- {name: a, container: {image: x}, env: {1X: y}}",
            "steps[0].env.1X",
            "1X",
            ("variable name",),
        ),
        (
            "- {name: a, container: {image: x}, if: 'success( &&'}",
            "steps[0].if",
            "success(",
            ("expected ')'",),
        ),
        (
            "- {name: a, container: {image: x}, if: 'yes please'}",
            "steps[0].if",
            "yes please",
            ("unknown name 'yes'",),
        ),
    ],
)
def test_step_problems(step: str, path: str, needle: str, words: tuple[str, ...]) -> None:
    source = "metadata: {name: t}\nsteps:\n  " + step + "\n"
    assert_problem(source, path, needle, *words)


def test_steps_must_be_a_non_empty_list() -> None:
    assert_problem("metadata: {name: t}\nsteps: []\n", "steps", "steps", "non-empty list")
    assert_problem("metadata: {name: t}\nsteps: {a: 1}\n", "steps", "steps", "non-empty list")


def test_duplicate_step_names() -> None:
    source = src("""\
        steps:
          - {name: a, container: {image: x}}
          - {name: a, container: {image: y}}
        """)
    assert_problem(source, "steps[1].name", "image: y", "duplicate step name 'a'", "steps[0]")


def test_unknown_and_self_needs() -> None:
    source = src("""\
        steps:
          - {name: build, container: {image: x}}
          - name: test
            needs: [biuld, test]
            container: {image: x}
        """)
    assert_problem(source, "steps[1].needs[0]", "biuld", "unknown step 'biuld'", "'build'")
    assert_problem(source, "steps[1].needs[1]", "biuld", "can't need itself")


def test_needs_cycle_is_named() -> None:
    source = src("""\
        steps:
          - {name: a, needs: c, container: {image: x}}
          - {name: b, needs: a, container: {image: x}}
          - {name: c, needs: b, container: {image: x}}
        """)
    problem = assert_problem(source, "steps[0].needs", "name: a", "cycle")
    assert "a -> c -> b -> a" in problem.message


def test_cycle_through_step_references() -> None:
    source = src("""\
        steps:
          - name: a
            container: {image: x, command: "echo ${steps.b.output}"}
          - name: b
            needs: a
            container: {image: x}
        """)
    problem = find(validate_source(source), "steps[0].needs", "cycle")
    assert "a -> b -> a" in problem.message
    assert problem.line == line_of(source, "name: a")


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("${epoch}", ("unknown parameter 'epoch'", "did you mean 'epochs'")),
        ("${parameters.nope}", ("unknown parameter 'nope'",)),
        ("${parameters.epochs.x}", ("${parameters.NAME}",)),
        ("${HOME}", ("$${HOME}",)),
        ("${task.title}", ("unknown task field 'title'",)),
        ("${task.metadata}", ("${task.metadata.KEY}",)),
        ("${step.a.output}", ("did you mean 'steps'",)),
        ("${steps.zz.output}", ("unknown step 'zz'",)),
        ("${steps.a.stdout}", ("unknown step field 'stdout'",)),
        ("${steps.a}", ("${steps.NAME.output}",)),
        ("${steps.b.output}", ("own results",)),
        ("${result.output}", ("only available in a step's outputs",)),
        ("${secrets.a.b}", ("${secrets.NAME}",)),
        ("${epochs.x}", ("has no fields",)),
        ("${epochs", ("unterminated",)),
        ("${a b}", ("invalid reference",)),
        ("${}", ("invalid reference",)),
    ],
)
def test_reference_problems(expression: str, words: tuple[str, ...]) -> None:
    source = src(f"""\
        steps:
          - {{name: a, container: {{image: x}}}}
          - name: b
            container:
              image: alpine
              command: "echo {expression}"
        """)
    assert_problem(source, "steps[1].container.command", "command:", *words)


def test_reference_scopes_in_outputs_and_workflow_parameters() -> None:
    source = src("""\
        steps:
          - name: a
            container: {image: x}
            outputs:
              other: ${steps.a.output}
              loss: ${result.json.loss}
          - name: w
            workflow:
              template: basic_task
              parameters: {task_command: "${steps.a.output}", task_name: "${secrets.X}"}
        outputs:
          leaked: ${secrets.TOKEN}
          fine: {value: "${steps.a.outputs.loss} ${task.metadata.run.id} ${label}"}
          bad: {value: "${result.output}"}
        """)
    problems = validate_source(source)
    assert find(problems, "steps[0].outputs.other", "${result.output}").line == line_of(
        source, "other:"
    )
    find(
        problems, "steps[1].workflow.parameters.task_command", "bound when the workflow is created"
    )
    find(problems, "steps[1].workflow.parameters.task_name", "inside the called template")
    find(problems, "outputs.leaked.value", "can't contain secrets")
    find(problems, "outputs.bad.value", "only available in a step's outputs")
    assert not [p for p in problems if p.path.startswith(("outputs.fine", "steps[0].outputs.loss"))]


def test_only_workflow_steps_are_checked_against_lookup() -> None:
    source = src("""\
        steps:
          - name: w
            workflow: {template: missing-one, parameters: {}}
        """)
    assert validate_source(source) == []  # without a lookup, template ids are not checked
    problem = find(validate_source(source, lookup=lambda name: None), "steps[0].workflow.template")
    assert "no template named 'missing-one'" in problem.message
    assert problem.line == line_of(source, "missing-one")


def test_workflow_parameters_are_checked_against_the_called_template() -> None:
    basic = parse_template(CONTRACT_EXAMPLE)
    source = src("""\
        steps:
          - name: w
            workflow:
              template: basic_task
              parameters:
                task_nam: x
                task_command: 42
        """)
    problems = validate_source(source, lookup={"basic_task": basic}.get)
    assert find(
        problems, "steps[0].workflow.parameters.task_nam", "did you mean 'task_name'"
    ).line == (line_of(source, "task_nam:"))
    find(problems, "steps[0].workflow.parameters.task_command", "expected string, got integer 42")
    find(problems, "steps[0].workflow.parameters", "missing required parameter 'task_name'")


def test_a_template_cannot_include_itself() -> None:
    direct = "metadata: {name: loop}\nsteps:\n  - {name: w, workflow: {template: loop}}\n"
    problem = find(validate_source(direct), "steps[0].workflow.template")
    assert "loop -> loop" in problem.message

    other = parse_template("metadata: {name: b}\nsteps:\n  - {name: w, workflow: {template: a}}\n")
    indirect = "metadata: {name: a}\nsteps:\n  - {name: w, workflow: {template: b}}\n"
    problem = find(validate_source(indirect, lookup={"b": other}.get), "steps[0].workflow.template")
    assert "a -> b -> a" in problem.message


def test_yaml_details() -> None:
    duplicate = src("""\
        steps:
          - name: a
            container: {image: x}
            container: {image: y}
        """)
    assert_problem(duplicate, "steps[0].container", "image: y", "duplicate key", "first on line")

    tagged = src("steps:\n  - {name: a, container: {image: !!binary aGVsbG8=}}\n")
    assert_problem(tagged, "steps[0].container.image", "binary", "not supported")

    recursive = src("steps: &s\n  - *s\n")
    find(validate_source(recursive), "steps[0]", "refers to itself")

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefg"):
        prev = "abcdefg"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    assert any("too large" in p.message for p in validate_source(bomb))


def test_yaml_anchors_merge_keys_and_plain_keys() -> None:
    source = textwrap.dedent("""\
        metadata: {name: t, version: 2}
        steps:
          - &base
            name: a
            container: {image: alpine, command: [sleep, 1]}
            env: {on: yes}
          - <<: *base
            name: b
            timeout: 90s
        """)
    template = parse_template(source)
    a, b = template.steps
    assert template.version == "2"
    assert a.env == {"on": "true"}  # keys stay text; a boolean value becomes "true"
    assert a.container is not None and a.container.command == ("sleep", "1")
    assert (b.name, b.timeout, b.container) == ("b", 90.0, a.container)


def test_step_fields_are_read() -> None:
    source = src("""\
        timeout: 1h
        steps:
          - name: fetch
            http:
              url: https://example.com/${label}
              body: {n: "${epochs}"}
              expect_status: 201
            retries: 3
          - name: run
            needs: fetch
            if: ${steps.fetch.status} == 'succeeded'
            timeout: 1h30m
            retries: {count: 2, backoff: 500ms}
            script: {interpreter: bash, source: echo hi}
        """)
    template = parse_template(source)
    fetch, run = template.steps
    assert template.timeout == 3600.0
    assert fetch.http is not None
    assert (fetch.http.method, fetch.http.expect_status) == ("GET", (201,))
    assert fetch.retries == RetryPolicy(3, 1.0)
    assert run.script is not None and run.script.image == "bash:5"
    assert (run.timeout, run.retries, run.needs) == (5400.0, RetryPolicy(2, 0.5), ("fetch",))
    assert run.condition == "${steps.fetch.status} == 'succeeded'"


def test_implicit_needs_from_step_references() -> None:
    source = src("""\
        steps:
          - {name: a, container: {image: x}}
          - {name: b, container: {image: x}}
          - name: c
            env: {A: "${steps.a.outputs.x}"}
            if: ${steps.b.exit_code} == 0
            container: {image: x}
        """)
    c = parse_template(source).steps[2]
    assert c.needs == ("a", "b")


def test_validate_source_never_raises_on_non_text() -> None:
    assert validate_source(b"metadata: x")  # type: ignore[arg-type]


def test_template_is_plain_data() -> None:
    template = parse_template(CONTRACT_EXAMPLE)
    assert isinstance(template, Template)
    assert template == parse_template(CONTRACT_EXAMPLE)
    assert template.parameter("task_name") is not None
    assert template.step("execute_task") is not None
    assert template.step("nope") is None
