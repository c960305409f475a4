"""Composite steps: child runs that are cancelled, fail and resume with their parent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from starlette.applications import Starlette

from pommel.config import Settings
from pommel.domain.status import RunStatus, StepStatus
from pommel.runtime import Runtime
from pommel.services import runs
from pommel.services.run_queries import child_runs_of, get_run, step_rows_of_runs
from tests.dagger_double.helpers import wait_for_file, wait_gone
from tests.engine.run_support import service_workflow, template, wait_finished


def _child(gate: Path, first: Path, pid: Path) -> str:
    return template(
        "child",
        f"""  - name: first
    container: {{image: alpine, command: "echo x >> {first}; echo ::set-output name=v::from-child"}}
  - name: second
    needs: first
    container: {{image: alpine, command: "echo $$ > {pid}; while [ ! -f {gate} ]; do sleep 0.02; done; exit $(cat {gate})"}}
    outputs: {{done: "${{result.exit_code}}"}}
""",
        outputs="  value: {value: '${steps.first.outputs.v}'}\n",
    )


PARENT = template(
    "parent",
    """  - name: call
    workflow: {template: child}
  - name: after
    needs: call
    container: {image: alpine, command: "echo got ${steps.call.outputs.value}"}
""",
    outputs="  result: {value: '${steps.after.output}'}\n",
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The child template is a file template (from ``templates_dir``)."""
    folder = tmp_path / "templates"
    folder.mkdir()
    gate, first, pid = tmp_path / "gate", tmp_path / "first", tmp_path / "pid"
    (folder / "child.yaml").write_text(_child(gate, first, pid))
    return dataclasses.replace(settings, templates_dir=folder)


async def _setup(app: Starlette, tmp_path: Path) -> tuple[Runtime, int, Path, Path, Path]:
    runtime: Runtime = app.state.runtime
    gate, first, pid = tmp_path / "gate", tmp_path / "first", tmp_path / "pid"
    (workflow,) = await service_workflow(runtime, PARENT)
    return runtime, workflow, gate, first, pid


async def test_a_composite_run_succeeds_with_its_childs_outputs(
    app: Starlette, tmp_path: Path
) -> None:
    runtime, workflow, gate, _, _ = await _setup(app, tmp_path)
    gate.write_text("0")
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    done = await wait_finished(run.pk)
    assert done.status is RunStatus.SUCCEEDED
    assert done.outputs == {"result": "got from-child"}
    (child,) = (await child_runs_of([run.pk]))[run.pk]
    assert child.parent_run_pk == run.pk and child.status is RunStatus.SUCCEEDED
    assert child.template_id == "child" and child.trigger == "composite"
    steps = {s.name: s for s in (await step_rows_of_runs([run.pk]))[run.pk]}
    assert steps["call"].child_run_pk == child.pk
    assert steps["call"].outputs == {"value": "from-child"}


async def test_a_failing_child_fails_its_step(app: Starlette, tmp_path: Path) -> None:
    runtime, workflow, gate, _, _ = await _setup(app, tmp_path)
    gate.write_text("7")
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    done = await wait_finished(run.pk)
    assert done.status is RunStatus.FAILED
    steps = {s.name: s for s in (await step_rows_of_runs([run.pk]))[run.pk]}
    assert steps["call"].status is StepStatus.FAILED
    assert "exit code 7" in (steps["call"].error or "")
    assert steps["after"].status is StepStatus.SKIPPED


async def test_cancelling_the_parent_cancels_the_child(app: Starlette, tmp_path: Path) -> None:
    runtime, workflow, _, _, pid_file = await _setup(app, tmp_path)
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    pid = int(await wait_for_file(pid_file))
    await runs.request_cancel(runtime.db, pk=run.pk)
    done = await wait_finished(run.pk, within=5)
    assert done.status is RunStatus.CANCELLED
    (child,) = (await child_runs_of([run.pk]))[run.pk]
    assert child.status is RunStatus.CANCELLED
    assert await wait_gone([pid]) == []


async def test_a_restart_resumes_the_child_where_it_was(app: Starlette, tmp_path: Path) -> None:
    runtime, workflow, gate, first, pid_file = await _setup(app, tmp_path)
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    await wait_for_file(pid_file)
    await runtime.worker.stop()
    (child,) = (await child_runs_of([run.pk]))[run.pk]
    assert child.status is RunStatus.RUNNING
    assert (await get_run(run.pk)).status is RunStatus.RUNNING
    gate.write_text("0")
    await runtime.worker.start()
    done = await wait_finished(run.pk)
    assert done.status is RunStatus.SUCCEEDED, done
    assert done.resumed == 1
    # The same child run went on: its first step was not executed again.
    children = (await child_runs_of([run.pk]))[run.pk]
    assert [c.pk for c in children] == [child.pk]
    resumed_child = await get_run(child.pk)
    assert resumed_child.status is RunStatus.SUCCEEDED and resumed_child.resumed == 1
    assert first.read_text().count("x") == 1
