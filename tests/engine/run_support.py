"""Helpers for the run engine tests: templates in, finished runs out, over GraphQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from pommel.runtime import Runtime
from pommel.services.run_records import RunRecord
from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient

CREATE_TEMPLATE = "mutation($s: String!) { createTemplate(source: $s) { id } }"
CREATE_WORKFLOW = """
mutation($t: ID!, $tpl: ID!, $p: JSON) {
  createWorkflowFromTemplate(taskId: $t, templateId: $tpl, parameters: $p) { id }
}"""
EXECUTE = """
mutation($t: ID!, $skip: Boolean!, $p: JSON, $type: WorkflowType) {
  executeTaskWorkflow(taskId: $t, skipCache: $skip, parameters: $p, workflowType: $type) {
    id status
  }
}"""
CANCEL = "mutation($r: ID!) { cancelWorkflowRun(runId: $r) { id status cancelRequested } }"
RETRY = "mutation($r: ID!, $s: String) { retryWorkflowRun(runId: $r, fromStep: $s) { id status } }"
RUN = """
query($id: ID!) { workflowRun(id: $id) {
  id status error outputs durationMs startedAt finishedAt resumed executor executorNote
  trigger skipCache cancelRequested
  steps { name status exitCode cached attempts output stderr outputs error startedAt finishedAt
          childRun { id status outputs parentRun { id } } }
  childRuns { id status }
  task { id status statusReason }
} }"""
TASK = "query($id: ID!) { task(id: $id) { id status statusReason } }"


async def add_template(gql: GraphQLClient, source: str) -> str:
    data = await gql.data(CREATE_TEMPLATE, {"s": source})
    template_id: str = data["createTemplate"]["id"]
    return template_id


async def task_with_template(
    gql: GraphQLClient, template_id: str, parameters: dict[str, Any] | None = None
) -> str:
    project = await make_project(gql, "engine")
    task = await make_task(gql, project, "work")
    await gql.data(CREATE_WORKFLOW, {"t": task, "tpl": template_id, "p": parameters})
    return task


async def execute(
    gql: GraphQLClient,
    task_id: str,
    *,
    skip_cache: bool = False,
    parameters: dict[str, Any] | None = None,
) -> str:
    data = await gql.data(EXECUTE, {"t": task_id, "skip": skip_cache, "p": parameters})
    run_id: str = data["executeTaskWorkflow"]["id"]
    return run_id


async def run_of(gql: GraphQLClient, run_id: str) -> dict[str, Any]:
    data = await gql.data(RUN, {"id": run_id})
    run: dict[str, Any] = data["workflowRun"]
    return run


async def wait_run(gql: GraphQLClient, run_id: str, within: float = 30.0) -> dict[str, Any]:
    """The run once it has finished."""
    deadline = time.monotonic() + within
    while True:
        run = await run_of(gql, run_id)
        if run["status"] in {"SUCCEEDED", "FAILED", "CANCELLED"}:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"{run_id} did not finish within {within}s: {run}")
        await asyncio.sleep(0.05)


async def wait_step(
    gql: GraphQLClient, run_id: str, step: str, status: str, within: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        run = await run_of(gql, run_id)
        found = {s["name"]: s for s in run["steps"]}
        if found[step]["status"] == status:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"{run_id}: step {step} not {status} within {within}s: {run}")
        await asyncio.sleep(0.05)


def steps_by_name(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in run["steps"]}


def template(name: str, steps: str, *, outputs: str = "", extra: str = "") -> str:
    """A template source with ``steps`` (YAML, indented by two) and optional outputs."""
    source = f"metadata:\n  name: {name}\n  version: 1.0.0\n{extra}steps:\n{steps}"
    if outputs:
        source += f"outputs:\n{outputs}"
    return source


async def service_workflow(runtime: Runtime, source: str, *, tasks: int = 1) -> list[int]:
    """Workflows (pks) of ``source`` for ``tasks`` new tasks, made through the services."""
    from pommel.services import projects, templates, workflows
    from pommel.services import tasks as task_service

    db, registry = runtime.db, runtime.templates
    entry = await templates.create_template(db, registry, source=source)
    project = await projects.create_project(db, name="engine")
    found = []
    for n in range(tasks):
        task = await task_service.create_task(db, project_pk=project.pk, name=f"t{n}")
        workflow = await workflows.create_workflow_from_template(
            db, registry, task_pk=task.pk, template_id=entry.template.name
        )
        found.append(workflow.pk)
    return found


async def wait_finished(pk: int, within: float = 30.0) -> RunRecord:
    """A run (by pk) once finished, read through the services."""
    from pommel.services.run_queries import get_run

    deadline = time.monotonic() + within
    while True:
        run = await get_run(pk)
        if run.status.finished:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {pk} did not finish within {within}s: {run}")
        await asyncio.sleep(0.02)


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until ``check()`` holds (polling: what it watches has no event to wait on)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.01)
