"""Rendering: parameters and task now, steps and secrets at run time, outputs and markers."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from pommel.domain.template import (
    ParameterError,
    StepOutcome,
    TaskContext,
    Template,
    TemplateError,
    mask_secrets,
    parse_markers,
    parse_template,
    render_definition,
    render_runtime,
    render_step,
    secret_names,
    step_outputs,
)

TASK = TaskContext(
    id="task-12",
    name="Train model",
    description="uses ${secrets.TOKEN} in its text",
    status="in_progress",
    priority="high",
    assignee=None,
    metadata={"dataset": {"name": "iris", "rows": 150}, "tags": ["a", "b"], "gpu": True},
    project_id="proj-3",
)

SOURCE = textwrap.dedent("""\
    metadata: {name: demo, version: 2.1.0, type: script_workflow}
    timeout: 2h
    parameters:
      epochs: {type: integer, default: 3}
      rate: {type: number, default: 0.5}
      flag: {type: boolean, default: true}
      names: {type: array, default: [x, y]}
      note: {type: string, default: ""}
    steps:
      - name: prep
        container:
          image: alpine:${epochs}
          command: echo ${task.name} ${task.metadata.dataset.name} $${HOME} ${names}
          workdir: /w/${task.project_id}
          env: {A: "1", B: "${flag}"}
        env: {B: "${rate}", T: "${secrets.TOKEN}"}
        retries: {count: 2, backoff: 3s}
        timeout: 30s
      - name: train
        if: ${steps.prep.outputs.ok} == 'yes' && ${epochs} > 2 && ${task.priority} == "high"
        script:
          interpreter: python3
          source: print("${task.description}", ${epochs})
        outputs:
          loss: ${result.json.metrics.loss}
          code: ${result.exit_code}
      - name: call
        http:
          method: post
          url: https://api/${task.id}?token=${secrets.API}
          body: {epochs: "${epochs}", prev: "${steps.train.outputs.loss}", list: ["${names}"]}
    outputs:
      loss: ${steps.train.outputs.loss}
      summary: {value: "${task.name}: ${steps.prep.output}", description: Summary}
    """)


@pytest.fixture(scope="module")
def template() -> Template:
    return parse_template(SOURCE)


@pytest.fixture(scope="module")
def definition(template: Template) -> dict[str, Any]:
    return render_definition(template, parameters={"epochs": 4}, task=TASK)


def step(definition: dict[str, Any], name: str) -> dict[str, Any]:
    steps = definition["steps"]
    assert isinstance(steps, list)
    return next(s for s in steps if s["name"] == name)


def test_definition_shape(definition: dict[str, Any]) -> None:
    assert json.loads(json.dumps(definition)) == definition  # JSON-serialisable as is
    assert {k: definition[k] for k in ("name", "template", "version", "type", "timeout")} == {
        "name": "demo",
        "template": "demo",
        "version": "2.1.0",
        "type": "script_workflow",
        "timeout": 7200.0,
    }
    assert definition["parameters"] == {
        "epochs": 4,
        "rate": 0.5,
        "flag": True,
        "names": ["x", "y"],
        "note": "",
    }
    keys = {
        "name", "description", "kind", "image", "argv", "workdir", "env", "files", "http",
        "workflow", "needs", "if", "timeout", "retries", "outputs",
    }  # fmt: skip
    assert all(set(s) == keys for s in definition["steps"])


def test_container_step(definition: dict[str, Any]) -> None:
    prep = step(definition, "prep")
    assert prep["kind"] == "container"
    assert prep["image"] == "alpine:4"
    assert prep["argv"] == ["sh", "-c", 'echo Train model iris $${HOME} ["x", "y"]']
    assert prep["workdir"] == "/w/proj-3"
    # step env wins over container env; values are text
    assert prep["env"] == {"A": "1", "B": "0.5", "T": "${secrets.TOKEN}"}
    assert prep["retries"] == {"count": 2, "backoff": 3.0}
    assert prep["timeout"] == 30.0
    assert prep["needs"] == []
    assert prep["if"] is None


def test_script_step_and_condition(definition: dict[str, Any]) -> None:
    train = step(definition, "train")
    assert train["image"] == "python:3.12-slim"
    assert train["argv"] == ["python3", ".pommel/train.py"]
    # The task description is data: its ${secrets.TOKEN} is escaped, never resolved later.
    assert train["files"] == {".pommel/train.py": 'print("uses $${secrets.TOKEN} in its text", 4)'}
    assert train["needs"] == ["prep"]  # implicit, from the condition
    assert train["if"] == '${steps.prep.outputs.ok} == \'yes\' && 4 > 2 && "high" == "high"'
    assert train["outputs"] == {
        "loss": "${result.json.metrics.loss}",
        "code": "${result.exit_code}",
    }


def test_http_step(definition: dict[str, Any]) -> None:
    call = step(definition, "call")
    assert call["needs"] == ["train"]
    assert call["http"] == {
        "method": "POST",
        "url": "https://api/task-12?token=${secrets.API}",
        "headers": {"Content-Type": "application/json"},
        "body": '{"epochs": "4", "prev": "${steps.train.outputs.loss}", "list": ["[\\"x\\", \\"y\\"]"]}',
        "expect_status": list(range(200, 300)),
    }


def test_template_outputs_keep_step_references(definition: dict[str, Any]) -> None:
    assert definition["outputs"] == {
        "loss": "${steps.train.outputs.loss}",
        "summary": "Train model: ${steps.prep.output}",
    }


def test_secret_names(definition: dict[str, Any]) -> None:
    # TOKEN from the env and API from the URL; the escaped one in the description doesn't count
    assert secret_names(definition) == {"TOKEN", "API"}
    assert secret_names({"steps": [{"if": "${secrets.X} != ''", "argv": ["$${secrets.Y}"]}]}) == {
        "X"
    }


def test_runtime_rendering(definition: dict[str, Any]) -> None:
    outcomes = {
        "prep": StepOutcome("succeeded", 0, "  hello\n", {"ok": "yes"}),
        "train": StepOutcome("succeeded", 0, '{"metrics": {"loss": 0.25}}', {"loss": "0.25"}),
    }
    secrets = {"TOKEN": "s3cret", "API": "k"}
    prep = render_step(step(definition, "prep"), steps=outcomes, secrets=secrets)
    assert prep["env"] == {"A": "1", "B": "0.5", "T": "s3cret"}
    assert prep["argv"] == ["sh", "-c", 'echo Train model iris ${HOME} ["x", "y"]']
    train = render_step(step(definition, "train"), steps=outcomes, secrets=secrets)
    assert train["files"] == {".pommel/train.py": 'print("uses ${secrets.TOKEN} in its text", 4)'}
    assert train["outputs"] == step(definition, "train")["outputs"]  # left for step_outputs
    call = render_step(step(definition, "call"), steps=outcomes, secrets=secrets)
    assert call["http"]["url"] == "https://api/task-12?token=k"
    assert json.loads(call["http"]["body"])["prev"] == "0.25"
    outputs = render_runtime(definition["outputs"], steps=outcomes, secrets={})
    assert outputs == {"loss": "0.25", "summary": "Train model: hello"}


def test_runtime_values_of_step_fields() -> None:
    outcomes = {"a": StepOutcome("failed", 3, " out \n", {})}
    value = ["${steps.a.output}|${steps.a.exit_code}|${steps.a.status}|${steps.a.outputs.none}"]
    assert render_runtime(value, steps=outcomes, secrets={}) == ["out|3|failed|"]
    skipped = {"a": StepOutcome("skipped")}
    assert render_runtime("[${steps.a.exit_code}]", steps=skipped, secrets={}) == "[]"
    assert render_runtime({"n": 1, "t": ("x",)}, steps={}, secrets={}) == {"n": 1, "t": ["x"]}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("${steps.ghost.output}", "step 'ghost' has not run"),
        ("${secrets.MISSING}", "secret 'MISSING' is not set"),
        ("${epochs}", "can't be resolved when the workflow runs"),
        ("${steps.a.nope}", "unknown step field 'nope'"),
        ("${unclosed", "unterminated"),
    ],
)
def test_runtime_errors(text: str, words: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render_runtime({"env": {"X": text}}, steps={"a": StepOutcome("succeeded")}, secrets={})
    (problem,) = caught.value.problems
    assert problem.path == "env.X"
    assert words in problem.message


def test_missing_task_metadata_is_located(template: Template) -> None:
    task = TaskContext("task-9", "n", "d", "planned", "low", "ana", {"dataset": {}}, "proj-1")
    with pytest.raises(TemplateError) as caught:
        render_definition(template, parameters={}, task=task)
    (problem,) = caught.value.problems
    assert problem.path == "steps[0].container.command"
    assert (
        problem.line
        == SOURCE.splitlines().index(
            "      command: echo ${task.name} ${task.metadata.dataset.name} $${HOME} ${names}"
        )
        + 1
    )
    assert "task task-9 has no metadata 'dataset.name'" in problem.message


def test_bad_parameters_raise_parameter_error(template: Template) -> None:
    with pytest.raises(ParameterError) as caught:
        render_definition(template, parameters={"epochs": "many"}, task=TASK)
    assert caught.value.fields == {"epochs": "expected integer, got string 'many'"}


def test_task_values_render_as_json_and_assignee_as_empty() -> None:
    source = (
        "metadata: {name: t}\nsteps:\n  - name: a\n    container: {image: x, command: "
        "'${task.metadata.tags} ${task.metadata.gpu} ${task.metadata.dataset.rows} "
        "[${task.assignee}] ${task.status} ${task.metadata.tags.1}'}\n"
    )
    rendered = render_definition(parse_template(source), parameters={}, task=TASK, name="custom")
    assert rendered["name"] == "custom"
    assert rendered["steps"][0]["argv"][2] == '["a", "b"] true 150 [] in_progress b'


def test_value_ending_in_dollar_before_runtime_reference() -> None:
    source = (
        "metadata: {name: t}\nparameters: {p: {type: string}}\nsteps:\n  - name: a\n"
        "    container: {image: x}\n  - name: b\n"
        "    container: {image: x, command: '${p}${steps.a.output}'}\n"
    )
    with pytest.raises(TemplateError) as caught:
        render_definition(parse_template(source), parameters={"p": "US$"}, task=TASK)
    (problem,) = caught.value.problems
    assert problem.path == "steps[1].container.command"
    assert "ending in '$'" in problem.message


def test_dollar_from_a_value_never_forms_a_reference() -> None:
    source = (
        "metadata: {name: t}\nparameters: {p: {type: string}}\nsteps:\n  - name: a\n"
        "    container: {image: x, command: '${p}{secrets.X}'}\n"
    )
    rendered = render_definition(parse_template(source), parameters={"p": "$"}, task=TASK)
    assert secret_names(rendered) == set()
    ready = render_step(rendered["steps"][0], steps={}, secrets={})
    assert ready["argv"] == ["sh", "-c", "${secrets.X}"]


def test_step_outputs_markers_and_declared() -> None:
    stdout = "\n".join(
        [
            "working",
            "::set-output name=loss::0.12",
            "  ::set-output name=multi::a%0Ab%25%0D",
            "::set-output name=loss::0.10",
            "::set-output name=bad name::x",
        ]
    )
    declared = {"code": "${result.exit_code}", "first": "x-$${literal}-${result.output}"}
    outputs = step_outputs(declared, stdout=stdout, exit_code=0)
    assert outputs["loss"] == "0.10"
    assert outputs["multi"] == "a\nb%\r"
    assert outputs["code"] == "0"
    assert outputs["first"] == "x-${literal}-" + stdout.strip()
    assert "bad name" not in outputs


def test_step_outputs_for_http_results() -> None:
    body = '{"status": "ok", "items": [{"id": 7}], "count": 2}'
    declared = {
        "status": "${result.status}",
        "service": "${result.json.status}",
        "first": "${result.json.items.0.id}",
        "items": "${result.json.items}",
        "missing": "${result.json.nope.deeper}",
    }
    assert step_outputs(declared, stdout=body, exit_code=None, http_status=503) == {
        "status": "503",
        "service": "ok",
        "first": "7",
        "items": '[{"id": 7}]',
        "missing": "",
    }
    not_json = step_outputs({"s": "${result.json.status}"}, stdout="<html>", exit_code=None)
    assert not_json == {"s": ""}


def test_parse_markers_and_masking() -> None:
    assert parse_markers("::set-output name=a::1\r\nnoise\n::set-output name=b::") == {
        "a": "1",
        "b": "",
    }
    assert mask_secrets("token abc and abcdef", {"A": "abc", "B": "abcdef", "C": ""}) == (
        "token *** and ***"
    )


def test_script_interpreters_get_file_suffixes() -> None:
    source = textwrap.dedent("""\
        metadata: {name: t}
        steps:
          - {name: s, script: {interpreter: sh, source: echo 1}}
          - {name: n, script: {interpreter: node, source: "console.log(1)"}}
          - {name: r, script: {interpreter: ruby, source: puts 1, image: "ruby:3"}}
        """)
    steps = render_definition(parse_template(source), parameters={}, task=TASK)["steps"]
    assert [(s["argv"], s["image"]) for s in steps] == [
        (["sh", ".pommel/s.sh"], "alpine:latest"),
        (["node", ".pommel/n.js"], "node:22-slim"),
        (["ruby", ".pommel/r"], "ruby:3"),
    ]


CHILD = """\
metadata: {name: child}
parameters:
  count: {type: integer, required: true}
  label: {type: string, default: none}
steps:
  - {name: a, container: {image: x, command: "echo ${count} ${task.metadata.dataset.name}"}}
"""
PARENT = """\
metadata: {name: parent, type: composite_workflow}
parameters:
  n: {type: integer, default: 2}
steps:
  - name: call
    workflow:
      template: child
      parameters: {count: "${n}", label: "run ${n} of ${task.id}"}
"""


def test_composite_binds_child_parameters_with_types() -> None:
    child = parse_template(CHILD)
    parent = parse_template(PARENT, lookup={"child": child}.get)
    rendered = render_definition(parent, parameters={}, task=TASK, lookup={"child": child}.get)
    call = rendered["steps"][0]
    assert call["kind"] == "workflow"
    # a value that is exactly one reference keeps its type, so the child's integer fits
    assert call["workflow"] == {
        "template": "child",
        "parameters": {"count": 2, "label": "run 2 of task-12"},
    }
    without_lookup = render_definition(parent, parameters={}, task=TASK)
    assert without_lookup["steps"][0]["workflow"]["parameters"]["count"] == 2


def test_composite_reports_child_problems_with_locations() -> None:
    child = parse_template(CHILD)
    parent = parse_template(PARENT.replace('count: "${n}", ', 'count: "many ${n}", '))
    with pytest.raises(TemplateError) as caught:
        render_definition(parent, parameters={}, task=TASK, lookup={"child": child}.get)
    (problem,) = caught.value.problems
    assert problem.path == "steps[0].workflow.parameters.count"
    assert problem.line == 8
    assert "expected integer, got string 'many 2'" in problem.message

    bare = TaskContext("task-1", "n", "d", "planned", "low", None, {}, "proj-1")
    with pytest.raises(TemplateError) as caught:
        render_definition(
            parse_template(PARENT), parameters={}, task=bare, lookup={"child": child}.get
        )
    (problem,) = caught.value.problems
    assert problem.path == "steps[0].workflow"
    assert "in template 'child'" in problem.message
    assert "no metadata 'dataset'" in problem.message

    with pytest.raises(TemplateError) as caught:
        render_definition(parse_template(PARENT), parameters={}, task=TASK, lookup=lambda n: None)
    assert "no template named 'child'" in caught.value.problems[0].message


def test_composite_recursion_is_refused_when_rendering() -> None:
    # Each parses alone; only together do they loop.
    a = parse_template("metadata: {name: a}\nsteps:\n  - {name: s, workflow: {template: b}}\n")
    b = parse_template("metadata: {name: b}\nsteps:\n  - {name: s, workflow: {template: a}}\n")
    with pytest.raises(TemplateError) as caught:
        render_definition(a, parameters={}, task=TASK, lookup={"a": a, "b": b}.get)
    assert "a -> b -> a" in str(caught.value)
