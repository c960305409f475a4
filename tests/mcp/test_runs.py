"""The run tools beyond the contract's eight: a run's record and logs, retry and cancel."""

from __future__ import annotations

import anyio

from mcp import Client
from tests.mcp.helpers import call, needs, seed, tool_error, wait_for_run


@needs("execution", "run status")
async def test_run_record_logs_and_retry(mcp: Client) -> None:
    seeded = await seed(mcp)
    started = await call(mcp, "execute_task_workflow", {"task_id": seeded.command_task_id})
    run_id = started["executeTaskWorkflow"]["id"]
    assert started["executeTaskWorkflow"]["workflow"]["templateId"] == "basic_task"
    await wait_for_run(mcp, seeded.command_task_id)

    record = await call(mcp, "get_workflow_run", {"run_id": run_id})
    assert record["workflowRun"]["status"] == "succeeded"
    assert record["workflowRun"]["task"]["id"] == seeded.command_task_id
    assert record["workflowRun"]["steps"][0]["status"] == "succeeded"

    logs = await call(mcp, "get_workflow_run_logs", {"run_id": run_id, "first": 50})
    lines = [line["text"] for line in logs["workflowRun"]["logs"]["nodes"]]
    assert any("hello from pommel" in line for line in lines)

    retried = await call(mcp, "retry_workflow_run", {"run_id": run_id})
    assert retried["retryWorkflowRun"]["retryOf"]["id"] == run_id
    assert retried["retryWorkflowRun"]["id"] != run_id


async def running(client: Client, run_id: str) -> None:
    """Wait until the run has left the queue."""
    for _ in range(200):
        record = await call(client, "get_workflow_run", {"run_id": run_id})
        if record["workflowRun"]["status"] != "queued":
            return
        await anyio.sleep(0.1)
    raise AssertionError(f"{run_id} never started")


@needs("execution", "run status")
async def test_cancel_a_running_run(mcp: Client) -> None:
    project = await call(mcp, "create_project", {"name": "Slow"})
    task = await call(
        mcp,
        "create_task",
        {
            "project_id": project["createProject"]["id"],
            "name": "Sleep",
            "metadata": {"command": "sleep 30"},
        },
    )
    task_id = task["createTask"]["id"]
    started = await call(mcp, "execute_task_workflow", {"task_id": task_id, "skip_cache": True})
    run_id = started["executeTaskWorkflow"]["id"]
    await running(mcp, run_id)
    await call(mcp, "cancel_workflow_run", {"run_id": run_id})
    finished = await wait_for_run(mcp, task_id, limit_s=20)
    assert finished["status"] == "cancelled"


@needs("execution", "run status")
async def test_unknown_runs_are_not_found(mcp: Client) -> None:
    assert (await tool_error(mcp, "get_workflow_run", {"run_id": "run-999"})).startswith(
        "NOT_FOUND: "
    )
    assert (await tool_error(mcp, "cancel_workflow_run", {"run_id": "run-999"})).startswith(
        "NOT_FOUND: "
    )
    text = await tool_error(mcp, "execute_task_workflow", {"task_id": "task-999"})
    assert text.startswith("NOT_FOUND: no task 'task-999'")
