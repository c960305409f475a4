"""Step conditions: the expression language and the status functions."""

from __future__ import annotations

import pytest

from pommel.domain.template import StepOutcome, TemplateError, evaluate_condition

STEPS = {
    "ok": StepOutcome("succeeded", 0, " 42 \n", {"n": "7", "word": "yes", "empty": ""}),
    "bad": StepOutcome("failed", 2, "boom", {}),
    "skip": StepOutcome("skipped"),
}


def check(
    expr: str | None, needs: tuple[str, ...] = ("ok",), secrets: dict[str, str] | None = None
) -> bool:
    return evaluate_condition(expr, steps=STEPS, needs=needs, secrets=secrets or {})


@pytest.mark.parametrize(
    ("needs", "success", "failure"),
    [
        ((), True, False),
        (("ok",), True, False),
        (("ok", "bad"), False, True),
        (("skip",), False, False),
        (("ok", "skip"), False, False),
        (("not-run",), False, False),
    ],
)
def test_status_functions(needs: tuple[str, ...], success: bool, failure: bool) -> None:
    assert check(None, needs) is success  # no condition means success()
    assert check("", needs) is success
    assert check("success()", needs) is success
    assert check("failure()", needs) is failure
    assert check("always()", needs) is True
    assert check("!failure()", needs) is (not failure)


def test_conditions_without_status_function_also_need_success() -> None:
    assert check("true", needs=("ok",)) is True
    assert check("true", needs=("bad",)) is False  # implicit success() &&
    assert check("always() && true", needs=("bad",)) is True


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("${steps.ok.exit_code} == 0", True),
        ("${steps.bad.exit_code} == 2", True),
        ("${steps.bad.exit_code} != 0", True),
        ("${steps.ok.output} == '42'", True),  # trimmed stdout
        ("${steps.ok.output} == 42", True),  # different types compare as numbers
        ("${steps.ok.outputs.n} > 5", True),
        ("${steps.ok.outputs.n} >= 7 && ${steps.ok.outputs.n} < 7.5", True),
        ("${steps.ok.outputs.n} <= 6", False),
        ('${steps.ok.outputs.word} == "yes"', True),
        ("${steps.ok.outputs.word} > 3", False),  # 'yes' is not a number
        ("${steps.ok.outputs.missing} == ''", True),
        ("${steps.ok.outputs.empty}", False),
        ("${steps.ok.outputs.word}", True),
        ("!${steps.ok.outputs.word}", False),
        ("${steps.bad.status} == 'failed'", True),
        ("${steps.skip.exit_code} == null", True),
        ("'abc' < 'abd'", True),
        ("'it''s' == \"it's\"", True),
        ("\"a\\n\" != 'a'", True),
        ("1 == 1 == true", True),
        ("false || (true && !false)", True),
        ("!(1 < 2)", False),
        ("-1.5e0 < 0", True),
        ("null == 0", True),
        ("true == 1", True),
    ],
)
def test_expressions(expr: str, expected: bool) -> None:
    assert check(f"always() && ({expr})", needs=("ok", "bad", "skip")) is expected


def test_precedence() -> None:
    # && binds tighter than ||; ! binds tightest
    assert check("always() && (true || false && false)") is True
    assert check("always() && (!false == true)") is True
    assert check("always() && (false && true || true)") is True


def test_secrets_in_conditions() -> None:
    assert check("${secrets.TOKEN} != ''", secrets={"TOKEN": "x"}) is True
    assert check("${secrets.TOKEN} != ''", secrets={}) is False  # not set reads as empty


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("success(", "expected ')'"),
        ("success(1)", "takes no arguments"),
        ("maybe()", "unknown name 'maybe'"),
        ("yes", "unknown name 'yes'"),
        ("1 +", "unexpected '+'"),
        ("(true", "expected ')'"),
        ("true)", "unexpected ')'"),
        ("true &&", "ends too early"),
        ("'open", 'unexpected "\'"'),
        ("${steps.ok", "unterminated"),
        ("${ steps . ok . output } == ${a b}", "invalid reference"),
        ("${epochs} == 1", "can't be resolved when the workflow runs"),
        ("${steps.ghost.output} == 1", "step 'ghost' has not run"),
        ("(" * 60 + "true" + ")" * 60, "nests more than"),
        ("true && " * 300 + "true", "too long"),
        ("   ", None),
    ],
)
def test_errors(expr: str, words: str | None) -> None:
    if words is None:
        assert check(expr) is True  # blank is the same as no condition
        return
    with pytest.raises(TemplateError) as caught:
        check(expr)
    (problem,) = caught.value.problems
    assert problem.path == "if"
    assert words in problem.message, problem.message


def test_whitespace_inside_references() -> None:
    assert check("${ steps . ok . exit_code } == 0") is True
