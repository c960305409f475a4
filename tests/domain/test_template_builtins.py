"""The built-in templates in templates/: they validate, and their steps really work.

Process steps are run the way the local executor runs them: argv as a host process in a fresh
working directory with the step's files written into it. HTTP steps go to a local server.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pommel.domain.graph import topological_order
from pommel.domain.template import (
    StepOutcome,
    TaskContext,
    Template,
    bind_parameters,
    evaluate_condition,
    parse_template,
    render_definition,
    render_runtime,
    render_step,
    secret_names,
    step_outputs,
    validate_paths,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
BUILT_INS = {
    "basic_task",
    "ml-training",
    "python-tests",
    "lint-build",
    "api-health-check",
    "composite-release",
}
TASK = TaskContext(
    id="task-7",
    name="Nightly build",
    description="Build and check",
    status="planned",
    priority="high",
    assignee=None,
    metadata={},
    project_id="proj-1",
)


def load_all() -> dict[str, Template]:
    raw = {p.stem: p.read_text(encoding="utf-8") for p in TEMPLATES.glob("*.yaml")}
    plain = {t.name: t for t in (parse_template(text) for text in raw.values())}
    # Parse again with a lookup so workflow steps are checked against the other built-ins.
    return {name: parse_template(t.source, lookup=plain.get) for name, t in plain.items()}


@pytest.fixture(scope="module")
def builtins() -> dict[str, Template]:
    return load_all()


class Run:
    """A minimal local runner: enough to prove the templates work end to end."""

    def __init__(self, templates: dict[str, Template], tmp: Path) -> None:
        self.templates = templates
        self.tmp = tmp
        self.logs: dict[str, str] = {}
        self.count = 0

    def run(self, definition: dict[str, Any]) -> tuple[dict[str, StepOutcome], dict[str, Any]]:
        steps = {s["name"]: s for s in definition["steps"]}
        order = topological_order(steps, {n: s["needs"] for n, s in steps.items()})
        outcomes: dict[str, StepOutcome] = {}
        for name in order:
            step = steps[name]
            if not evaluate_condition(step["if"], steps=outcomes, needs=step["needs"], secrets={}):
                outcomes[name] = StepOutcome("skipped")
                continue
            ready = render_step(step, steps=outcomes, secrets={})
            if ready["kind"] == "http":
                outcomes[name] = self.http(ready)
            elif ready["kind"] == "workflow":
                outcomes[name] = self.workflow(ready)
            else:
                outcomes[name] = self.process(ready)
        outputs = render_runtime(definition["outputs"], steps=outcomes, secrets={})
        return outcomes, outputs

    def process(self, step: dict[str, Any]) -> StepOutcome:
        self.count += 1
        workdir = self.tmp / f"{self.count}-{step['name']}"
        workdir.mkdir()
        for relative, content in step["files"].items():
            path = workdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        proc = subprocess.run(
            step["argv"],
            cwd=workdir,
            env={**os.environ, **step["env"]},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.logs[step["name"]] = proc.stdout + proc.stderr
        status = "succeeded" if proc.returncode == 0 else "failed"
        outputs = step_outputs(step["outputs"], stdout=proc.stdout, exit_code=proc.returncode)
        return StepOutcome(status, proc.returncode, proc.stdout, outputs)

    def http(self, step: dict[str, Any]) -> StepOutcome:
        spec = step["http"]
        response = httpx.request(
            spec["method"], spec["url"], headers=spec["headers"], content=spec["body"]
        )
        ok = response.status_code in spec["expect_status"]
        outputs = step_outputs(
            step["outputs"], stdout=response.text, exit_code=None, http_status=response.status_code
        )
        return StepOutcome("succeeded" if ok else "failed", None, response.text, outputs)

    def workflow(self, step: dict[str, Any]) -> StepOutcome:
        call = step["workflow"]
        child = render_definition(
            self.templates[call["template"]],
            parameters=call["parameters"],
            task=TASK,
            lookup=self.templates.get,
        )
        outcomes, outputs = self.run(child)
        failed = any(o.status == "failed" for o in outcomes.values())
        text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in outputs.items()}
        return StepOutcome("failed" if failed else "succeeded", None, "", text)


def test_every_builtin_is_present_and_valid(builtins: dict[str, Template]) -> None:
    assert set(builtins) >= BUILT_INS
    assert builtins["api-health-check"].workflow_type == "api_workflow"
    assert builtins["composite-release"].workflow_type == "composite_workflow"
    assert builtins["ml-training"].workflow_type == "script_workflow"


def test_validate_paths_accepts_the_templates_directory(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    assert validate_paths([str(TEMPLATES)], out=sys.stdout) == 0
    assert "templates valid" in capsys.readouterr().out


def test_no_builtin_needs_secrets(builtins: dict[str, Template]) -> None:
    for name in ("ml-training", "python-tests", "lint-build"):
        assert secret_names(render_definition(builtins[name], parameters={}, task=TASK)) == set()


def test_basic_task_runs_its_command(builtins: dict[str, Template], tmp_path: Path) -> None:
    params = {"task_name": "hello", "task_command": "echo hello from ${task_name} && pwd"}
    definition = render_definition(builtins["basic_task"], parameters=params, task=TASK)
    outcomes, outputs = Run(builtins, tmp_path).run(definition)
    assert outcomes["execute_task"].status == "succeeded"
    # The parameter value is data: its ${task_name} reaches the shell literally, not substituted.
    assert outputs["result"].splitlines()[0] == "hello from"


def test_ml_training_learns_with_default_parameters(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    definition = render_definition(builtins["ml-training"], parameters={}, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, outputs = runner.run(definition)
    assert outcomes["train"].status == "succeeded", runner.logs["train"]
    assert outcomes["evaluate"].status == "succeeded", runner.logs["evaluate"]
    epochs = [line for line in runner.logs["train"].splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 5
    losses = [float(line.rsplit(" ", 1)[1]) for line in epochs]
    assert losses[-1] < losses[0]  # it really learns
    assert float(outputs["accuracy"]) >= 0.8
    assert 0 < float(outputs["final_loss"]) < 0.5
    assert outputs["verdict"] == "passed"


def test_ml_training_contract_parameters(builtins: dict[str, Template], tmp_path: Path) -> None:
    params = {"epochs": 10, "batch_size": 32}
    assert bind_parameters(builtins["ml-training"], params)["epochs"] == 10
    definition = render_definition(builtins["ml-training"], parameters=params, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, _ = runner.run(definition)
    assert outcomes["evaluate"].status == "succeeded"
    assert "epoch 10/10" in runner.logs["train"]


def test_ml_training_evaluate_fails_below_minimum(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    params = {"epochs": 1, "min_accuracy": 0.999}
    definition = render_definition(builtins["ml-training"], parameters=params, task=TASK)
    outcomes, outputs = Run(builtins, tmp_path).run(definition)
    assert outcomes["train"].status == "succeeded"
    assert outcomes["evaluate"].status == "failed"
    assert outputs["verdict"] == "failed"


def test_python_tests_pass_on_a_fresh_directory(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    definition = render_definition(builtins["python-tests"], parameters={}, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, outputs = runner.run(definition)
    assert outcomes["tests"].status == "succeeded", runner.logs["tests"]
    assert outputs == {"tests_run": "3", "failures": "0", "skipped": "0"}
    assert "tests succeeded: 3 run, 0 failed" in runner.logs["summary"]


def test_python_tests_report_failures(builtins: dict[str, Template], tmp_path: Path) -> None:
    setup = (
        "mkdir -p checks && printf 'import unittest\\nclass T(unittest.TestCase):\\n"
        '    def test_bad(self):\\n        self.fail("boom")\\n\' > checks/check_one.py'
    )
    params = {"setup_command": setup, "test_path": "checks", "pattern": "check_*.py"}
    definition = render_definition(builtins["python-tests"], parameters=params, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, outputs = runner.run(definition)
    assert outcomes["tests"].status == "failed"
    assert outputs["failures"] == "1"
    # summary has if: always(), so it still reports
    assert outcomes["summary"].status == "succeeded"
    assert "tests failed: 1 run, 1 failed" in runner.logs["summary"]


def test_python_tests_without_self_check_fail_on_missing_path(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    params = {"self_check": False}
    definition = render_definition(builtins["python-tests"], parameters=params, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, _ = runner.run(definition)
    assert outcomes["tests"].status == "failed"
    assert "tests: no such directory" in runner.logs["tests"]


def test_lint_build_runs_checks_in_parallel_then_builds(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    definition = render_definition(builtins["lint-build"], parameters={}, task=TASK)
    steps = {s["name"]: s for s in definition["steps"]}
    assert {n for n in ("lint", "typecheck", "unit") if not steps[n]["needs"]} == {
        "lint",
        "typecheck",
        "unit",
    }
    assert steps["build"]["needs"] == ["lint", "typecheck", "unit"]
    assert steps["package"]["needs"] == ["build"]  # implicit, through ${steps.build...}
    runner = Run(builtins, tmp_path)
    outcomes, outputs = runner.run(definition)
    assert all(o.status == "succeeded" for o in outcomes.values()), runner.logs
    assert outputs["artifact"] == "app-0.1.0.tar.gz"
    assert len(outputs["digest"]) == 64
    assert outputs["release"] == "app-0.1.0"
    manifest = json.loads(runner.logs["package"].splitlines()[0])
    assert manifest["sha256"] == outputs["digest"]


def test_lint_build_lint_fails_on_trailing_whitespace(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    command = builtins["lint-build"].parameter("lint_command")
    assert command is not None
    setup = "printf 'echo hi  \\n' > bad.sh\n"
    params = {"lint_command": setup + str(command.default)}
    definition = render_definition(builtins["lint-build"], parameters=params, task=TASK)
    runner = Run(builtins, tmp_path)
    outcomes, _ = runner.run(definition)
    assert outcomes["lint"].status == "failed"
    assert "bad.sh: trailing whitespace" in runner.logs["lint"]
    assert outcomes["build"].status == "skipped"
    assert outcomes["package"].status == "skipped"


@pytest.fixture
def health_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                body, code = b'{"status": "ok", "version": "1.2"}', 200
            else:
                body, code = b"not found", 404
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_api_health_check_against_a_local_server(
    builtins: dict[str, Template], tmp_path: Path, health_server: str
) -> None:
    template = builtins["api-health-check"]
    params = {"url": f"{health_server}/health"}
    outcomes, outputs = Run(builtins, tmp_path).run(
        render_definition(template, parameters=params, task=TASK)
    )
    assert outcomes["check"].status == "succeeded"
    assert outputs == {"http_status": "200", "service_status": "ok"}

    params = {"url": f"{health_server}/missing"}
    outcomes, outputs = Run(builtins, tmp_path).run(
        render_definition(template, parameters=params, task=TASK)
    )
    assert outcomes["check"].status == "failed"
    assert outputs == {"http_status": "404", "service_status": ""}


def test_composite_release_renders_and_runs_its_parts(
    builtins: dict[str, Template], tmp_path: Path
) -> None:
    definition = render_definition(
        builtins["composite-release"], parameters={}, task=TASK, lookup=builtins.get
    )
    build, release = definition["steps"]
    assert build["workflow"]["template"] == "lint-build"
    # The called template's parameters are bound now, defaults included.
    assert build["workflow"]["parameters"]["project_name"] == "app"
    assert build["workflow"]["parameters"]["image"] == "alpine:latest"
    assert release["needs"] == ["build"]
    assert release["workflow"]["parameters"] == {
        "task_name": "release app 0.1.0",
        "task_command": 'echo "release published"',
    }
    runner = Run(builtins, tmp_path)
    outcomes, outputs = runner.run(definition)
    assert outcomes["build"].status == "succeeded"
    assert outcomes["release"].status == "succeeded"
    assert outputs == {"artifact": "app-0.1.0.tar.gz", "release_log": "release published"}
