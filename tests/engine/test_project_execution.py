"""Project execution: dependency order, parallelism limits, failures blocking dependents."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from starlette.applications import Starlette

from pommel.storage.tables import WorkflowRun
from tests.api.helpers import ADD_DEPENDENCY, make_project, make_task
from tests.conftest import GraphQLClient

EXECUTE = """mutation($p: ID!, $n: Int!, $s: Boolean!) {
  executeWorkflowsForProject(projectId: $p, maxParallel: $n, skipCache: $s) { id status } }"""
PROJECT_RUN = """query($id: ID!) { projectRun(id: $id) { id status error
  counts { tasks succeeded failed blocked skipped waiting running queued }
  notes { task { name } outcome reason } } }"""
TASKS = """query($p: ID!) { project(id: $p) { tasks(first: 500) { edges { node {
  name status statusReason } } } } }"""


async def _wait_finished(gql: GraphQLClient, run_id: str, within: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        run = (await gql.data(PROJECT_RUN, {"id": run_id}))["projectRun"]
        if run["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return run
        assert asyncio.get_running_loop().time() < deadline, run
        await asyncio.sleep(0.1)


async def _statuses(gql: GraphQLClient, project: str) -> dict[str, tuple[str, str | None]]:
    edges = (await gql.data(TASKS, {"p": project}))["project"]["tasks"]["edges"]
    return {e["node"]["name"]: (e["node"]["status"], e["node"]["statusReason"]) for e in edges}


async def _diamond(gql: GraphQLClient, a_command: str = "sleep 0.3") -> tuple[str, dict[str, str]]:
    project = await make_project(gql, "diamond")
    ids = {
        "A": await make_task(gql, project, "A", metadata={"command": a_command}),
        "B": await make_task(gql, project, "B", metadata={"command": "sleep 0.6"}),
        "C": await make_task(gql, project, "C", metadata={"command": "sleep 0.6"}),
        "D": await make_task(gql, project, "D", metadata={"command": "true"}),
    }
    for task, dep in (("B", "A"), ("C", "A"), ("D", "B"), ("D", "C")):
        await gql.data(ADD_DEPENDENCY, {"t": ids[task], "d": ids[dep]})
    return project, ids


async def _run_windows(project_run_pk: int) -> dict[int, tuple[Any, Any]]:
    rows = await WorkflowRun.select(
        WorkflowRun.task, WorkflowRun.started_at, WorkflowRun.finished_at
    ).where(WorkflowRun.project_run == project_run_pk)
    return {row["task"]: (row["started_at"], row["finished_at"]) for row in rows}


async def test_diamond_runs_in_dependency_order_with_parallel_middle(gql: GraphQLClient) -> None:
    project, ids = await _diamond(gql)
    started = (await gql.data(EXECUTE, {"p": project, "n": 2, "s": False}))[
        "executeWorkflowsForProject"
    ]
    assert started["id"].startswith("prun-")
    finished = await _wait_finished(gql, started["id"])
    assert finished["status"] == "SUCCEEDED", finished
    assert finished["counts"]["succeeded"] == 4
    windows = await _run_windows(int(started["id"].split("-")[1]))
    pk = {name: int(task_id.split("-")[1]) for name, task_id in ids.items()}
    a, b, c, d = (windows[pk[n]] for n in "ABCD")
    assert b[0] >= a[1] and c[0] >= a[1]  # B and C only after A finished
    assert b[0] < c[1] and c[0] < b[1]  # B and C side by side
    assert d[0] >= max(b[1], c[1])  # D waits for both
    assert {name: status for name, (status, _) in (await _statuses(gql, project)).items()} == {
        "A": "COMPLETED",
        "B": "COMPLETED",
        "C": "COMPLETED",
        "D": "COMPLETED",
    }


async def test_failing_root_blocks_every_dependent(gql: GraphQLClient) -> None:
    project, ids = await _diamond(gql, a_command="exit 3")
    started = (await gql.data(EXECUTE, {"p": project, "n": 2, "s": False}))[
        "executeWorkflowsForProject"
    ]
    finished = await _wait_finished(gql, started["id"])
    assert finished["status"] == "FAILED"
    assert ids["A"] in finished["error"]
    statuses = await _statuses(gql, project)
    assert statuses["A"][0] == "BLOCKED"
    for name in "BCD":
        assert statuses[name] == ("BLOCKED", f"dependency {ids['A']} failed"), name
    windows = await _run_windows(int(started["id"].split("-")[1]))
    assert len(windows) == 1  # B, C, D never started
    assert finished["counts"]["blocked"] == 3
    notes = {n["task"]["name"]: n["outcome"] for n in finished["notes"]}
    assert notes == {"A": "failed", "B": "blocked", "C": "blocked", "D": "blocked"}


async def test_completed_and_cancelled_tasks_are_skipped(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    await make_task(gql, project, "done", status="COMPLETED", metadata={"command": "exit 1"})
    await make_task(gql, project, "dropped", status="CANCELLED", metadata={"command": "exit 1"})
    await make_task(gql, project, "todo", metadata={"command": "true"})
    started = (await gql.data(EXECUTE, {"p": project, "n": 4, "s": False}))[
        "executeWorkflowsForProject"
    ]
    finished = await _wait_finished(gql, started["id"])
    assert finished["status"] == "SUCCEEDED"
    assert finished["counts"]["skipped"] == 2
    assert finished["counts"]["succeeded"] == 1


async def test_random_dag_runs_each_task_once_in_order_within_limit(
    app: Starlette, gql: GraphQLClient
) -> None:
    project = await make_project(gql, "random")
    rng = random.Random(11)
    ids: list[str] = []
    deps: dict[str, list[str]] = {}
    for index in range(200):
        chosen = rng.sample(ids, k=min(len(ids), rng.randint(0, 3)))
        ids.append(
            await make_task(
                gql, project, f"t{index}", metadata={"command": "true"}, dependsOn=chosen
            )
        )
        deps[ids[-1]] = chosen
    started = (await gql.data(EXECUTE, {"p": project, "n": 4, "s": False}))[
        "executeWorkflowsForProject"
    ]
    finished = await _wait_finished(gql, started["id"], within=180)
    assert finished["status"] == "SUCCEEDED", finished
    windows = await _run_windows(int(started["id"].split("-")[1]))
    assert len(windows) == 200  # each exactly once
    rows = await WorkflowRun.select(WorkflowRun.task).where(
        WorkflowRun.project_run == int(started["id"].split("-")[1])
    )
    assert len(rows) == 200
    by_pk = {int(t.split("-")[1]): t for t in ids}
    for pk, (start, _) in windows.items():
        for dep in deps[by_pk[pk]]:
            assert windows[int(dep.split("-")[1])][1] <= start
    # Never more than maxParallel runs at once.
    edges = sorted(
        [(s, 1) for s, _ in windows.values()] + [(f, -1) for _, f in windows.values()],
        key=lambda e: (e[0], e[1]),
    )
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    assert peak <= 4


async def test_plan_project_execution(gql: GraphQLClient) -> None:
    project, ids = await _diamond(gql)
    vague = await make_task(gql, project, "vague")
    after_vague = await make_task(
        gql, project, "after vague", metadata={"command": "true"}, dependsOn=[vague]
    )
    plan = (
        await gql.data(
            """query($p: ID!) { planProjectExecution(projectId: $p, maxParallel: 2) {
              runnable problems waves tasks { task { id } action reason wave steps cachedSteps } } }""",
            {"p": project},
        )
    )["planProjectExecution"]
    assert plan["waves"] == [[ids["A"]], [ids["B"], ids["C"]], [ids["D"]]]
    by_id = {t["task"]["id"]: t for t in plan["tasks"]}
    assert by_id[vague]["action"] == "CANNOT_RUN"
    assert "metadata" in by_id[vague]["reason"]
    assert by_id[after_vague]["action"] == "BLOCKED"
    assert by_id[ids["A"]]["steps"] == ["execute_task"]
    assert plan["runnable"] == 4
    assert plan["problems"] == 2


async def test_plan_predicts_cache_hits_after_a_run(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "echo", metadata={"command": "echo hello"})
    started = (await gql.data(EXECUTE, {"p": project, "n": 1, "s": False}))[
        "executeWorkflowsForProject"
    ]
    await _wait_finished(gql, started["id"])
    await gql.data(
        "mutation($id: ID!) { updateTask(id: $id, input: {status: PLANNED}) { id } }", {"id": task}
    )
    plan = await gql.data(
        "query($p: ID!) { planProjectExecution(projectId: $p) { tasks { cachedSteps } } }",
        {"p": project},
    )
    assert plan["planProjectExecution"]["tasks"][0]["cachedSteps"] == ["execute_task"]


async def test_cancel_project_run(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    slow = await make_task(gql, project, "slow", metadata={"command": "sleep 60"})
    await make_task(gql, project, "later", metadata={"command": "true"}, dependsOn=[slow])
    started = (await gql.data(EXECUTE, {"p": project, "n": 2, "s": False}))[
        "executeWorkflowsForProject"
    ]
    await asyncio.sleep(0.5)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    await gql.data("mutation($id: ID!) { cancelProjectRun(id: $id) { id } }", {"id": started["id"]})
    finished = await _wait_finished(gql, started["id"], within=10)
    assert finished["status"] == "CANCELLED"
    assert loop.time() - begin < 6
    runs = await WorkflowRun.select(WorkflowRun.status).where(
        WorkflowRun.project_run == int(started["id"].split("-")[1])
    )
    assert [r["status"] for r in runs] == ["cancelled"]


async def test_retried_dependency_unblocks_dependents(gql: GraphQLClient) -> None:
    project, ids = await _diamond(gql, a_command="exit 3")
    started = (await gql.data(EXECUTE, {"p": project, "n": 2, "s": False}))[
        "executeWorkflowsForProject"
    ]
    await _wait_finished(gql, started["id"])
    # Fix A's command and run it again by itself: its dependents are no longer blocked.
    await gql.data(
        'mutation($id: ID!) { updateTask(id: $id, input: {metadata: {command: "true"}}) { id } }',
        {"id": ids["A"]},
    )
    await gql.data(
        "mutation($t: ID!) { createWorkflowFromTask(taskId: $t) { id } }", {"t": ids["A"]}
    )
    run = (
        await gql.data(
            "mutation($t: ID!) { executeTaskWorkflow(taskId: $t) { id } }", {"t": ids["A"]}
        )
    )["executeTaskWorkflow"]
    for _ in range(200):
        status = (
            await gql.data("query($id: ID!) { workflowRun(id: $id) { status } }", {"id": run["id"]})
        )["workflowRun"]["status"]
        if status == "SUCCEEDED":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    statuses = await _statuses(gql, project)
    assert statuses["A"][0] == "COMPLETED"
    for name in "BCD":
        assert statuses[name] == ("PLANNED", None), name


async def test_execute_validation(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    error = await gql.error(EXECUTE, {"p": project, "n": 0, "s": False})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "maxParallel" in error["extensions"]["fields"]
    missing = await gql.error(EXECUTE, {"p": "proj-999", "n": 1, "s": False})
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_project_run_lists_only_its_own_runs(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "again", metadata={"command": "true"})
    first = (await gql.data(EXECUTE, {"p": project, "n": 1, "s": True}))[
        "executeWorkflowsForProject"
    ]
    await _wait_finished(gql, first["id"])
    await gql.data(
        "mutation($id: ID!) { updateTask(id: $id, input: {status: PLANNED}) { id } }", {"id": task}
    )
    second = (await gql.data(EXECUTE, {"p": project, "n": 1, "s": True}))[
        "executeWorkflowsForProject"
    ]
    await _wait_finished(gql, second["id"])
    query = "query($id: ID!) { projectRun(id: $id) { runs { id } } }"
    first_runs = (await gql.data(query, {"id": first["id"]}))["projectRun"]["runs"]
    second_runs = (await gql.data(query, {"id": second["id"]}))["projectRun"]["runs"]
    assert len(first_runs) == len(second_runs) == 1
    assert first_runs != second_runs
    bad = await gql.error(
        "query($id: ID!) { projectRun(id: $id) { runs(first: -1) { id } } }", {"id": first["id"]}
    )
    assert bad["extensions"]["code"] == "VALIDATION_FAILED"
