"""The workflow run API: executeTaskWorkflow, workflowRun, logs, cancel, retry, errors."""

from __future__ import annotations

import contextvars
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine
from starlette.applications import Starlette

from pommel.config import Settings
from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient
from tests.engine.run_support import (
    CANCEL,
    CREATE_WORKFLOW,
    EXECUTE,
    RETRY,
    TASK,
    add_template,
    execute,
    run_of,
    steps_by_name,
    task_with_template,
    template,
    wait_run,
    wait_step,
)

LOGS = """query($id: ID!, $step: String, $after: String, $first: Int) {
  workflowRun(id: $id) { logs(step: $step, after: $after, first: $first) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { step stream text at } } } } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One run at a time, so a second run stays queued while the first one runs.
    return dataclasses.replace(settings, worker_concurrency=1)


async def test_execute_creates_a_workflow_from_the_task_when_it_has_none(
    gql: GraphQLClient,
) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "greet", metadata={"command": "echo hi from the task"})
    data = await gql.data(EXECUTE, {"t": task, "skip": False, "p": None})
    run_id = data["executeTaskWorkflow"]["id"]
    assert run_id.startswith("run-")
    assert data["executeTaskWorkflow"]["status"] in {"QUEUED", "RUNNING"}
    run = await wait_run(gql, run_id)
    assert run["status"] == "SUCCEEDED"
    assert run["outputs"] == {"result": "hi from the task"}
    assert run["executor"] == "local"
    assert "no container isolation" in run["executorNote"]
    data = await gql.data(
        """query($t: ID!) { workflowForTask(taskId: $t) { name status
             latestRun { id status durationMs } runs(first: 10) { totalCount nodes { id } } } }""",
        {"t": task},
    )
    workflow = data["workflowForTask"]
    assert workflow["status"] == "SUCCEEDED"
    assert workflow["latestRun"]["id"] == run_id
    assert workflow["latestRun"]["durationMs"] >= 0
    assert workflow["runs"] == {"totalCount": 1, "nodes": [{"id": run_id}]}
    # A second execution reuses that workflow.
    second = await wait_run(gql, await execute(gql, task))
    data = await gql.data(
        "query($t: ID!) { workflows(filter: {taskId: $t}) { totalCount } workflowForTask(taskId: $t) { runs { nodes { id } } } }",
        {"t": task},
    )
    assert data["workflows"]["totalCount"] == 1
    assert [n["id"] for n in data["workflowForTask"]["runs"]["nodes"]] == [second["id"], run_id]


async def test_a_workflow_never_run_says_so(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "t")
    await gql.data(
        CREATE_WORKFLOW,
        {"t": task, "tpl": "basic_task", "p": {"task_name": "x", "task_command": "true"}},
    )
    data = await gql.data(
        "query($t: ID!) { workflowForTask(taskId: $t) { status latestRun { id } runs { totalCount nodes { id } } } }",
        {"t": task},
    )
    assert data["workflowForTask"] == {
        "status": "NEVER_RUN",
        "latestRun": None,
        "runs": {"totalCount": 0, "nodes": []},
    }


async def test_workflow_type_picks_among_the_tasks_workflows(
    gql: GraphQLClient, tmp_path: Path
) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "t")
    await gql.data(
        CREATE_WORKFLOW,
        {"t": task, "tpl": "basic_task", "p": {"task_name": "x", "task_command": "echo container"}},
    )
    scripted = await add_template(
        gql,
        "metadata: {name: scripted, type: script_workflow}\n"
        "steps:\n  - name: s\n    script: {interpreter: sh, source: 'echo scripted'}\n",
    )
    await gql.data(CREATE_WORKFLOW, {"t": task, "tpl": scripted, "p": None})
    data = await gql.data(
        EXECUTE, {"t": task, "skip": False, "p": None, "type": "CONTAINERIZED_WORKFLOW"}
    )
    run = await wait_run(gql, data["executeTaskWorkflow"]["id"])
    assert steps_by_name(run)["execute_task"]["output"].strip() == "container"
    data = await gql.data(EXECUTE, {"t": task, "skip": False, "p": None})  # the latest
    run = await wait_run(gql, data["executeTaskWorkflow"]["id"])
    assert steps_by_name(run)["s"]["output"].strip() == "scripted"
    error = await gql.error(EXECUTE, {"t": task, "skip": False, "p": None, "type": "API_WORKFLOW"})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "has no api_workflow workflow" in error["extensions"]["fields"]["workflowType"]


async def test_execute_without_a_workflow_or_a_command_says_what_to_do(
    gql: GraphQLClient,
) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "bare")
    error = await gql.error(EXECUTE, {"t": task, "skip": False, "p": None})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "metadata.command" in error["extensions"]["fields"]


async def test_parameters_override_the_workflows_for_one_run(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "t")
    await gql.data(
        CREATE_WORKFLOW,
        {"t": task, "tpl": "basic_task", "p": {"task_name": "x", "task_command": "echo base"}},
    )
    run = await wait_run(
        gql, await execute(gql, task, parameters={"task_command": "echo overridden"})
    )
    assert run["outputs"] == {"result": "overridden"}
    error = await gql.error(EXECUTE, {"t": task, "skip": False, "p": {"task_command": 3}})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "parameters.task_command" in error["extensions"]["fields"]
    error = await gql.error(EXECUTE, {"t": task, "skip": False, "p": [1]})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"


async def test_task_status_follows_its_runs(gql: GraphQLClient, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    source = template(
        "gated",
        f"""  - name: wait
    container: {{image: alpine, command: "while [ ! -f {gate} ]; do sleep 0.05; done; exit $(cat {gate})"}}
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    run_id = await execute(gql, task)
    await wait_step(gql, run_id, "wait", "RUNNING")
    assert (await gql.data(TASK, {"id": task}))["task"]["status"] == "IN_PROGRESS"
    gate.write_text("0")
    await wait_run(gql, run_id)
    assert (await gql.data(TASK, {"id": task}))["task"] == {
        "id": task,
        "status": "COMPLETED",
        "statusReason": None,
    }
    gate.write_text("4")
    # skipCache: the same command succeeded before, and its outcome would be reused.
    failed = await wait_run(gql, await execute(gql, task, skip_cache=True))
    found = (await gql.data(TASK, {"id": task}))["task"]
    assert found["status"] == "BLOCKED"
    assert found["statusReason"] == f"{failed['id']} failed: step 'wait' failed: exit code 4"


async def test_logs_page_by_step_with_cursors(gql: GraphQLClient) -> None:
    source = template(
        "chatty",
        """  - name: talk
    container: {image: alpine, command: "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2"}
  - name: quiet
    needs: talk
    container: {image: alpine, command: "echo other"}
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    run_id = (await wait_run(gql, await execute(gql, task)))["id"]
    seen: list[tuple[str, str]] = []
    after = None
    pages = 0
    while True:
        data = await gql.data(LOGS, {"id": run_id, "step": "talk", "after": after, "first": 2})
        logs = data["workflowRun"]["logs"]
        assert logs["totalCount"] == 6
        seen += [(e["node"]["stream"], e["node"]["text"]) for e in logs["edges"]]
        assert all(e["node"]["step"] == "talk" for e in logs["edges"])
        pages += 1
        if not logs["pageInfo"]["hasNextPage"]:
            break
        after = logs["pageInfo"]["endCursor"]
    assert pages == 3
    stdout = [text for stream, text in seen if stream == "stdout"]
    assert stdout == ["line1", "line2", "line3", "line4", "line5"]
    assert ("stderr", "oops") in seen
    everything = await gql.data(LOGS, {"id": run_id, "step": None, "after": None, "first": 100})
    nodes = [e["node"] for e in everything["workflowRun"]["logs"]["edges"]]
    assert {n["step"] for n in nodes} == {"", "talk", "quiet"}  # "": notes about the run
    assert any(n["stream"] == "system" and "no container isolation" in n["text"] for n in nodes)
    error = await gql.error(LOGS, {"id": run_id, "step": None, "after": "bogus", "first": 2})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"


async def test_retry_from_a_step_reuses_the_steps_before_it(
    gql: GraphQLClient, tmp_path: Path
) -> None:
    counts = {name: tmp_path / name for name in ("prepare", "build", "check")}
    flag = tmp_path / "broken"
    flag.write_text("yes")
    source = template(
        "pipeline",
        f"""  - name: prepare
    container: {{image: alpine, command: "echo x >> {counts["prepare"]}; echo ::set-output name=v::$(date +%s%N)"}}
  - name: build
    needs: prepare
    container: {{image: alpine, command: "echo x >> {counts["build"]}; echo built-${{steps.prepare.outputs.v}}"}}
  - name: check
    needs: build
    container: {{image: alpine, command: "echo x >> {counts["check"]}; [ ! -f {flag} ]"}}
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    first = await wait_run(gql, await execute(gql, task))
    assert first["status"] == "FAILED"
    original = steps_by_name(first)
    flag.unlink()

    data = await gql.data(RETRY, {"r": first["id"], "s": "build"})
    retry = await wait_run(gql, data["retryWorkflowRun"]["id"])
    assert retry["status"] == "SUCCEEDED", retry
    assert retry["trigger"] == "retry"
    steps = steps_by_name(retry)
    assert steps["prepare"]["status"] == "SUCCEEDED"
    assert steps["prepare"]["outputs"] == original["prepare"]["outputs"]  # kept, not re-run
    assert steps["build"]["output"].strip() == f"built-{original['prepare']['outputs']['v']}"
    assert [len(p.read_text().splitlines()) for p in counts.values()] == [1, 2, 2]
    data = await gql.data(
        "query($id: ID!) { workflowRun(id: $id) { retryOf { id } steps { name reusedFrom { id } } } }",
        {"id": retry["id"]},
    )
    assert data["workflowRun"]["retryOf"] == {"id": first["id"]}
    reused = {s["name"]: s["reusedFrom"] for s in data["workflowRun"]["steps"]}
    assert reused == {"prepare": {"id": first["id"]}, "build": None, "check": None}

    # Without fromStep: only the steps that did not succeed run again.
    flag.write_text("yes")
    failed = await wait_run(gql, await execute(gql, task, skip_cache=True))
    assert failed["status"] == "FAILED"
    flag.unlink()
    data = await gql.data(RETRY, {"r": failed["id"], "s": None})
    again = await wait_run(gql, data["retryWorkflowRun"]["id"])
    assert again["status"] == "SUCCEEDED"
    assert steps_by_name(again)["prepare"]["outputs"] == steps_by_name(failed)["prepare"]["outputs"]
    assert [len(p.read_text().splitlines()) for p in counts.values()] == [2, 3, 4]


async def test_cancel_a_queued_run_and_refuse_to_cancel_a_finished_one(
    gql: GraphQLClient, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    source = template(
        "blocking",
        f"""  - name: wait
    container: {{image: alpine, command: "while [ ! -f {gate} ]; do sleep 0.05; done"}}
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    running = await execute(gql, task)
    await wait_step(gql, running, "wait", "RUNNING")
    queued = await execute(gql, task)  # concurrency is 1: it waits
    assert (await run_of(gql, queued))["status"] == "QUEUED"
    data = await gql.data(CANCEL, {"r": queued})
    assert data["cancelWorkflowRun"]["status"] == "CANCELLED"
    run = await run_of(gql, queued)
    assert run["error"] == "cancelled before it started"
    assert run["startedAt"] is None
    # Cancelling twice is harmless.
    assert (await gql.data(CANCEL, {"r": queued}))["cancelWorkflowRun"]["status"] == "CANCELLED"
    error = await gql.error(RETRY, {"r": running, "s": None})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    gate.write_text("go")
    await wait_run(gql, running)
    error = await gql.error(CANCEL, {"r": running})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert "already succeeded" in error["message"]


async def test_unknown_ids_and_steps(gql: GraphQLClient) -> None:
    for document, variables in [
        ("query($id: ID!) { workflowRun(id: $id) { id } }", {"id": "run-999"}),
        ("query($id: ID!) { workflowRun(id: $id) { id } }", {"id": "task-1"}),
        (CANCEL, {"r": "run-999"}),
        (RETRY, {"r": "run-999", "s": None}),
        (EXECUTE, {"t": "task-999", "skip": False, "p": None}),
    ]:
        error = await gql.error(document, variables)
        assert error["extensions"]["code"] == "NOT_FOUND", (document, error)
    project = await make_project(gql)
    task = await make_task(gql, project, "t", metadata={"command": "true"})
    run = await wait_run(gql, await execute(gql, task))
    error = await gql.error(RETRY, {"r": run["id"], "s": "nope"})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "execute_task" in error["extensions"]["fields"]["fromStep"]
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { id ... on WorkflowRun { status } } }", {"id": run["id"]}
    )
    assert data["node"] == {"id": run["id"], "status": "SUCCEEDED"}
    assert (await gql.data('query { node(id: "run-999") { id } }'))["node"] is None


async def test_nested_run_fields_cost_a_fixed_number_of_statements(
    gql: GraphQLClient, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = await make_project(gql)
    query = """query($p: ID!) { workflows(first: 50, filter: {projectId: $p}) { nodes {
        id status latestRun { id status steps { name status childRun { id } } }
        runs(first: 3) { totalCount nodes { id steps { name } } } } } }"""
    engine: Engine[Any] = app.state.runtime.db.engine
    original = type(engine).run_querystring
    statements: list[str] = []
    counting_here: contextvars.ContextVar[bool] = contextvars.ContextVar("counting", default=False)

    async def counting(self: Engine[Any], querystring: Any, in_pool: bool = True) -> Any:
        # Only this request's statements: tasks it starts (DataLoader batches) inherit the
        # flag, background services started with the app do not.
        if counting_here.get():
            statements.append(str(querystring))
        return await original(self, querystring, in_pool=in_pool)

    tasks: list[str] = []
    counts: dict[int, int] = {}
    for size in (2, 6):
        while len(tasks) < size:
            task = await make_task(gql, project, f"t{len(tasks)}", metadata={"command": "true"})
            await wait_run(gql, await execute(gql, task))
            tasks.append(task)
        statements.clear()
        monkeypatch.setattr(type(engine), "run_querystring", counting)
        token = counting_here.set(True)
        try:
            data = await gql.data(query, {"p": project})
        finally:
            counting_here.reset(token)
            monkeypatch.undo()
        assert len(data["workflows"]["nodes"]) == size
        assert all(n["status"] == "SUCCEEDED" for n in data["workflows"]["nodes"])
        counts[size] = len(statements)
    # Levels that load the same runs may share a batch or not (7 or 8 statements); what must
    # not happen is a statement per workflow or per run.
    assert max(counts.values()) <= 8, counts
