"""Every template shipped in ``templates/`` runs to success on the local executor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pommel.domain.template import parse_template, template_files
from pommel.services.templates import BUILTIN_DIR
from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient
from tests.dagger_double.server import ThreadedServer
from tests.engine.run_support import (
    CREATE_WORKFLOW,
    execute,
    run_of,
    steps_by_name,
    wait_run,
)

SHIPPED = [
    "basic_task",
    "ml-training",
    "python-tests",
    "lint-build",
    "api-health-check",
    "composite-release",
]
# Explicit, so anyio's backend parametrization combines with the template one.
pytestmark = pytest.mark.anyio


@pytest.fixture
def health_server() -> Iterator[ThreadedServer]:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": "1.2.3"})

    server = ThreadedServer(Starlette(routes=[Route("/health", health)]))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _parameters(template_id: str, health: ThreadedServer) -> dict[str, Any]:
    return {
        "basic_task": {"task_name": "greet", "task_command": "echo hello from basic_task"},
        "ml-training": {"epochs": 10, "batch_size": 32},
        "api-health-check": {"url": f"{health.url}/health"},
        "composite-release": {"project_name": "demo", "version": "1.0.0"},
    }.get(template_id, {})


async def _run_template(
    gql: GraphQLClient, template_id: str, parameters: dict[str, Any]
) -> dict[str, Any]:
    project = await make_project(gql, f"shipped {template_id}")
    task = await make_task(gql, project, template_id)
    await gql.data(CREATE_WORKFLOW, {"t": task, "tpl": template_id, "p": parameters})
    return await wait_run(gql, await execute(gql, task), within=90)


def test_every_shipped_template_is_covered() -> None:
    ids = set()
    for path in template_files(BUILTIN_DIR):
        ids.add(parse_template(path.read_text(encoding="utf-8")).name)
    assert ids == set(SHIPPED)


@pytest.mark.parametrize("template_id", SHIPPED)
async def test_shipped_template_runs_to_success(
    gql: GraphQLClient, health_server: ThreadedServer, template_id: str
) -> None:
    run = await _run_template(gql, template_id, _parameters(template_id, health_server))
    assert run["status"] == "SUCCEEDED", run
    steps = steps_by_name(run)
    assert all(step["status"] in {"SUCCEEDED", "SKIPPED"} for step in steps.values()), steps
    outputs = run["outputs"]
    if template_id == "basic_task":
        assert outputs == {"result": "hello from basic_task"}
    elif template_id == "ml-training":
        assert float(outputs["accuracy"]) >= 0.8
        assert outputs["verdict"] == "passed"
    elif template_id == "python-tests":
        assert outputs["tests_run"] == "3"
        assert outputs["failures"] == "0"
    elif template_id == "lint-build":
        assert outputs["artifact"] == "app-0.1.0.tar.gz"
        assert len(outputs["digest"]) == 64
    elif template_id == "api-health-check":
        assert outputs == {"http_status": "200", "service_status": "ok"}
    elif template_id == "composite-release":
        await _check_composite(gql, run)


async def _check_composite(gql: GraphQLClient, run: dict[str, Any]) -> None:
    """The child runs are runs of their own, visible from the parent and pointing back at it."""
    assert run["outputs"]["artifact"] == "demo-1.0.0.tar.gz"
    assert run["outputs"]["release_log"] == "release published"
    steps = steps_by_name(run)
    children = {name: steps[name]["childRun"] for name in ("build", "release")}
    assert all(child is not None for child in children.values())
    assert {c["id"] for c in run["childRuns"]} == {c["id"] for c in children.values()}
    for child in children.values():
        assert child["status"] == "SUCCEEDED"
        assert child["parentRun"] == {"id": run["id"]}
    assert children["build"]["outputs"]["artifact"] == "demo-1.0.0.tar.gz"
    build = await run_of(gql, children["build"]["id"])
    assert set(steps_by_name(build)) == {"lint", "typecheck", "unit", "build", "package"}
    # Child runs are not the workflow's own runs: its latest run is the parent.
    data = await gql.data(
        "query($t: ID!) { workflowForTask(taskId: $t) { status latestRun { id } runs { totalCount } } }",
        {"t": run["task"]["id"]},
    )
    workflow = data["workflowForTask"]
    assert workflow == {
        "status": "SUCCEEDED",
        "latestRun": {"id": run["id"]},
        "runs": {"totalCount": 1},
    }
