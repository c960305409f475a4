"""What the MCP tests share: the contract's names, calls that must succeed or fail, seeding."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType

from mcp import Client
from pommel.api.schema import schema

# CONTRACT.md section 5, exactly.
CONTRACT_TOOLS = {
    "create_workflow_from_task",
    "execute_task_workflow",
    "get_workflow_status",
    "create_workflows_for_project",
    "execute_workflows_for_project",
    "list_workflow_templates",
    "get_workflow_template",
    "create_workflow_from_template",
}
EXTRA_TOOLS = {
    "create_project",
    "update_project",
    "list_projects",
    "create_phase",
    "update_phase",
    "list_phases",
    "create_task",
    "update_task",
    "list_tasks",
    "get_task",
    "add_task_dependency",
    "remove_task_dependency",
    "cancel_workflow_run",
    "retry_workflow_run",
    "get_workflow_run",
    "get_workflow_run_logs",
    "validate_workflow_template",
    "plan_project_execution",
}
ALL_TOOLS = CONTRACT_TOOLS | EXTRA_TOOLS
READ_ONLY_TOOLS = {
    "get_workflow_status",
    "list_workflow_templates",
    "get_workflow_template",
    "list_projects",
    "list_phases",
    "list_tasks",
    "get_task",
    "get_workflow_run",
    "get_workflow_run_logs",
    "plan_project_execution",
}
RESOURCES = {
    "task-manager://dagger/workflows",
    "task-manager://dagger/stats",
    "task-manager://dagger/templates",
}
RESOURCE_TEMPLATES = {
    "task-manager://dagger/workflows/{task_id}",
    "task-manager://dagger/projects/{project_id}/workflows",
    "task-manager://dagger/templates/{template_id}",
    "task-manager://dagger/templates/category/{category}",
}
WORKFLOW_TYPES = ["containerized_workflow", "script_workflow", "api_workflow", "composite_workflow"]


def _has_field(type_name: str, field: str) -> bool:
    type_ = schema._schema.get_type(type_name)
    return isinstance(type_, GraphQLObjectType) and field in type_.fields


# Parts of the API other issues are building. A test that needs one is expected to fail until
# it lands, and runs for real from then on (the condition is read from the schema).
PENDING = {
    "execution": not _has_field("Mutation", "executeTaskWorkflow"),
    "run status": not (_has_field("Workflow", "latestRun") and _has_field("Query", "workflowRun")),
    "project execution": not _has_field("Mutation", "executeWorkflowsForProject"),
    "planning": not _has_field("Query", "planProjectExecution"),
}


def needs(*parts: str) -> pytest.MarkDecorator:
    """Expect failure while any of ``parts`` of the API is missing (see ``PENDING``)."""
    missing = [part for part in parts if PENDING[part]]
    return pytest.mark.xfail(
        bool(missing), reason=f"waits for the backend: {', '.join(missing)}", strict=True
    )


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "text", None))


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    """The structured result of a tool call that must succeed (the text is the same JSON)."""
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, f"{name} failed: {text_of(result)}"
    assert json.loads(text_of(result)) == result.structured_content
    return result.structured_content


async def tool_error(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """The text of a tool call that must fail."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, f"{name} should have failed, got {result.structured_content}"
    return text_of(result)


async def read_json(client: Client, uri: str) -> Any:
    result = await client.read_resource(uri)
    (contents,) = result.contents
    assert contents.mime_type == "application/json"
    return json.loads(contents.text)


@dataclass(frozen=True)
class Seed:
    project_id: str
    command_task_id: str  # metadata.command: derives a basic_task workflow
    ml_task_id: str  # for the ml-training template


async def seed(client: Client) -> Seed:
    """A project with tasks, made through the tools themselves."""
    project = await call(client, "create_project", {"name": "Agents at work"})
    project_id = project["createProject"]["id"]
    command = await call(
        client,
        "create_task",
        {
            "project_id": project_id,
            "name": "Say hello",
            "metadata": {"command": "echo hello from pommel"},
            "priority": "high",
        },
    )
    ml = await call(client, "create_task", {"project_id": project_id, "name": "Train the model"})
    return Seed(project_id, command["createTask"]["id"], ml["createTask"]["id"])


def available_tools() -> set[str]:
    blocked = {"execute_workflows_for_project"} if PENDING["project execution"] else set()
    if PENDING["planning"]:
        blocked.add("plan_project_execution")
    return ALL_TOOLS - blocked


async def usage_examples(client: Client) -> None:
    """The seed's three usage examples against real tasks, and every resource read back."""
    seeded = await seed(client)
    created = await call(
        client,
        "create_workflow_from_task",
        {"task_id": seeded.command_task_id, "workflow_name": "hello-workflow"},
    )
    assert created["createWorkflowFromTask"]["name"] == "hello-workflow"
    ml = await call(
        client,
        "create_workflow_from_template",
        {
            "task_id": seeded.ml_task_id,
            "template_id": "ml-training",
            "parameters": {"epochs": 10, "batch_size": 32},
        },
    )
    assert ml["createWorkflowFromTemplate"]["parameters"]["epochs"] == 10
    run = await call(
        client,
        "execute_task_workflow",
        {
            "task_id": seeded.command_task_id,
            "workflow_type": "containerized_workflow",
            "skip_cache": False,
        },
    )
    assert run["executeTaskWorkflow"]["id"].startswith("run-")
    finished = await wait_for_run(client, seeded.command_task_id)
    assert finished["status"] == "succeeded", finished
    assert "hello from pommel" in finished["steps"][0]["output"]
    uris = [
        *RESOURCES,
        f"task-manager://dagger/workflows/{seeded.command_task_id}",
        f"task-manager://dagger/projects/{seeded.project_id}/workflows",
        "task-manager://dagger/templates/ml-training",
        "task-manager://dagger/templates/category/machine-learning",
    ]
    for uri in uris:
        assert await read_json(client, uri)
    text = await tool_error(client, "get_workflow_template", {"template_id": "x"})
    assert text == "NOT_FOUND: no template 'x'"
    text = await tool_error(
        client,
        "create_workflow_from_template",
        {
            "task_id": seeded.ml_task_id,
            "template_id": "ml-training",
            "parameters": {"epochs": "ten"},
        },
    )
    assert text.startswith("VALIDATION_FAILED: ") and "epochs" in text


async def names(client: Client) -> tuple[set[str], set[str], set[str]]:
    tools = {tool.name for tool in (await client.list_tools()).tools}
    resources = {resource.uri for resource in (await client.list_resources()).resources}
    templates = {
        t.uri_template for t in (await client.list_resource_templates()).resource_templates
    }
    return tools, resources, templates


TERMINAL = {"succeeded", "failed", "cancelled"}


async def wait_for_run(client: Client, task_id: str, limit_s: float = 60.0) -> dict[str, Any]:
    """The task's latest run once it has finished (polling get_workflow_status)."""
    deadline = time.monotonic() + limit_s
    while True:
        status = await call(client, "get_workflow_status", {"task_id": task_id})
        run = (status["workflowForTask"] or {}).get("latestRun")
        if run and run["status"] in TERMINAL:
            return dict(run)
        assert time.monotonic() < deadline, f"the run did not finish: {run}"
        await asyncio.sleep(0.2)
