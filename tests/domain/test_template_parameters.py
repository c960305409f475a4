"""Binding parameter values: defaults, types, enums, and every problem named at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pommel.domain.template import ParameterError, Template, bind_parameters, parse_template

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

TYPES = """\
metadata: {name: types}
parameters:
  text: {type: string, default: hi}
  count: {type: integer}
  ratio: {type: number, default: 0.5}
  flag: {type: boolean, default: false}
  items: {type: array, default: [1, 2]}
  config: {type: object}
  mode: {type: string, enum: [fast, slow], default: fast}
  level: {type: integer, enum: [1, 2, 3]}
  needed: {type: string, required: true, description: What to do}
steps:
  - {name: a, container: {image: x}}
"""


@pytest.fixture(scope="module")
def ml() -> Template:
    return parse_template((TEMPLATES / "ml-training.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def types() -> Template:
    return parse_template(TYPES)


def test_ml_training_contract_call(ml: Template) -> None:
    bound = bind_parameters(ml, {"epochs": 10, "batch_size": 32})
    assert bound["epochs"] == 10
    assert bound["batch_size"] == 32
    assert bound["learning_rate"] == 0.05  # default applied
    assert bound["dataset_size"] == 512


def test_ml_training_bad_epochs_is_named(ml: Template) -> None:
    with pytest.raises(ParameterError) as caught:
        bind_parameters(ml, {"epochs": "ten"})
    (problem,) = caught.value.problems
    assert problem.name == "epochs"
    assert problem.message == "expected integer, got string 'ten'"
    assert str(caught.value) == "invalid parameters: epochs: expected integer, got string 'ten'"


def test_missing_required_is_named() -> None:
    basic = parse_template((TEMPLATES / "basic_task.yaml").read_text(encoding="utf-8"))
    with pytest.raises(ParameterError) as caught:
        bind_parameters(basic, {"task_name": "x"})
    (problem,) = caught.value.problems
    assert problem.name == "task_command"
    assert problem.message.startswith("required parameter is missing")
    assert "The command to execute" in problem.message


def test_every_problem_is_reported_at_once(types: Template) -> None:
    values = {
        "count": True,  # booleans are not integers
        "ratio": "0.5",
        "flag": 1,
        "items": "a,b",
        "config": [1],
        "mode": "medium",
        "level": 4,
        "foo": 1,
        "txet": "typo",
    }
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, values)
    fields = caught.value.fields
    assert fields == {
        "foo": fields["foo"],
        "txet": "unknown parameter; did you mean 'text'?",
        "count": "expected integer, got boolean true",
        "ratio": "expected number, got string '0.5'",
        "flag": "expected boolean, got integer 1",
        "items": "expected array, got string 'a,b'",
        "config": "expected object, got array of 1 item",
        "mode": "must be one of 'fast', 'slow'; got 'medium'",
        "level": "must be one of 1, 2, 3; got 4",
        "needed": "required parameter is missing (What to do)",
    }
    assert fields["foo"].startswith("unknown parameter (this template takes: text, count")


def test_defaults_and_accepted_values(types: Template) -> None:
    bound = bind_parameters(types, {"needed": "go", "ratio": 2, "items": ("a",), "level": 2})
    assert bound == {
        "text": "hi",
        "count": None,  # optional without default
        "ratio": 2,  # integers are acceptable numbers
        "flag": False,
        "items": ["a"],  # tuples become JSON arrays
        "config": None,
        "mode": "fast",
        "level": 2,
        "needed": "go",
    }


def test_none_means_not_given(types: Template) -> None:
    assert bind_parameters(types, {"needed": "go", "text": None})["text"] == "hi"
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, {"needed": None})
    assert caught.value.fields == {"needed": "required parameter is missing (What to do)"}


def test_json_only_in_arrays_and_objects(types: Template) -> None:
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, {"needed": "x", "items": [1, {2, 3}], "config": {"a": float("nan")}})
    assert caught.value.fields == {
        "items": "expected array of JSON values; [1] is a set (not JSON)",
        "config": "expected object of JSON values; a is nan, not a number",
    }
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, {"needed": "x", "ratio": float("inf")})
    assert caught.value.fields == {"ratio": "expected a finite number, got inf"}


def test_bound_values_are_copies(types: Template) -> None:
    given: dict[str, object] = {"needed": "x", "config": {"nested": [1]}}
    bound = bind_parameters(types, given)
    assert bound["config"] == {"nested": [1]}
    assert bound["config"] is not given["config"]


def test_none_and_non_mapping_values(types: Template) -> None:
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, None)
    assert list(caught.value.fields) == ["needed"]
    with pytest.raises(ParameterError) as caught:
        bind_parameters(types, ["needed"])  # type: ignore[arg-type]
    assert caught.value.fields == {"parameters": "expected an object, got array of 1 item"}


def test_template_without_parameters() -> None:
    template = parse_template("metadata: {name: t}\nsteps: [{name: a, container: {image: x}}]\n")
    assert bind_parameters(template, {}) == {}
    with pytest.raises(ParameterError) as caught:
        bind_parameters(template, {"x": 1})
    assert caught.value.fields == {"x": "unknown parameter (this template takes no parameters)"}


def test_binding_is_idempotent(types: Template, ml: Template) -> None:
    """Services bind once to validate, then render_definition binds the result again."""
    once = bind_parameters(types, {"needed": "go", "count": 3})
    assert bind_parameters(types, once) == once
    assert bind_parameters(ml, bind_parameters(ml, {})) == bind_parameters(ml, {})
