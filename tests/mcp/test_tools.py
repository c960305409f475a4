"""The tools, through the SDK's client connected in-process to a bridge on the test app."""

from __future__ import annotations

import pytest

from mcp import Client
from pommel.mcp.executor import InProcessExecutor
from pommel.mcp.server import BridgeConfigError, build_bridge
from pommel.runtime import Runtime
from tests.mcp.helpers import (
    ALL_TOOLS,
    CONTRACT_TOOLS,
    PENDING,
    READ_ONLY_TOOLS,
    WORKFLOW_TYPES,
    call,
    needs,
    seed,
    text_of,
    tool_error,
    wait_for_run,
)


@needs("execution", "run status", "project execution", "planning")
async def test_lists_every_tool_by_exact_name(mcp: Client) -> None:
    names = {tool.name for tool in (await mcp.list_tools()).tools}
    assert names >= CONTRACT_TOOLS
    assert names == ALL_TOOLS


async def test_lists_the_tools_the_api_supports_now(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    assert set(tools) == {name for name in ALL_TOOLS if not _pending_tool(name)}
    for tool in tools.values():
        assert tool.description and tool.output_schema
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (tool.name in READ_ONLY_TOOLS)


def _pending_tool(name: str) -> bool:
    parts = {
        "execute_task_workflow": "execution",
        "cancel_workflow_run": "execution",
        "retry_workflow_run": "execution",
        "get_workflow_status": "run status",
        "get_workflow_run": "run status",
        "get_workflow_run_logs": "run status",
        "execute_workflows_for_project": "project execution",
        "plan_project_execution": "planning",
    }
    return name in parts and PENDING[parts[name]]


@needs("execution")
async def test_execute_task_workflow_takes_the_contracts_arguments(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    schema = tools["execute_task_workflow"].input_schema
    assert schema["required"] == ["task_id"]
    assert set(schema["properties"]) == {"task_id", "workflow_type", "skip_cache", "parameters"}
    assert schema["properties"]["workflow_type"]["enum"] == WORKFLOW_TYPES
    assert schema["properties"]["skip_cache"]["type"] == "boolean"
    assert schema["properties"]["parameters"]["type"] == "object"
    assert schema["additionalProperties"] is False


async def test_contract_argument_names(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    expected = {
        "create_workflow_from_task": ["task_id", "workflow_name", "workflow_type"],
        "get_workflow_status": ["task_id"],
        "create_workflows_for_project": ["project_id", "template_id", "parameters"],
        "list_workflow_templates": ["category"],
        "get_workflow_template": ["template_id"],
        "create_workflow_from_template": ["task_id", "template_id", "parameters", "workflow_name"],
        "execute_task_workflow": ["task_id", "workflow_type", "skip_cache", "parameters"],
        "execute_workflows_for_project": ["project_id", "max_parallel", "skip_cache"],
    }
    for name, arguments in expected.items():
        if name in tools:
            assert list(tools[name].input_schema["properties"]) == arguments, name


async def test_usage_example_create_workflow_from_task(mcp: Client) -> None:
    seeded = await seed(mcp)
    created = await call(
        mcp,
        "create_workflow_from_task",
        {"task_id": seeded.command_task_id, "workflow_name": "hello-workflow"},
    )
    workflow = created["createWorkflowFromTask"]
    assert workflow["id"].startswith("wf-")
    assert workflow["name"] == "hello-workflow"
    assert workflow["type"] == "containerized_workflow"
    assert workflow["templateId"] == "basic_task"
    assert workflow["task"]["id"] == seeded.command_task_id


async def test_usage_example_create_workflow_from_template(mcp: Client) -> None:
    seeded = await seed(mcp)
    created = await call(
        mcp,
        "create_workflow_from_template",
        {
            "task_id": seeded.ml_task_id,
            "template_id": "ml-training",
            "parameters": {"epochs": 10, "batch_size": 32},
        },
    )
    workflow = created["createWorkflowFromTemplate"]
    assert workflow["templateId"] == "ml-training"
    assert workflow["type"] == "script_workflow"
    assert workflow["parameters"]["epochs"] == 10
    assert workflow["parameters"]["batch_size"] == 32


@needs("execution", "run status")
async def test_usage_example_execute_task_workflow(mcp: Client) -> None:
    seeded = await seed(mcp)
    await call(mcp, "create_workflow_from_task", {"task_id": seeded.command_task_id})
    started = await call(
        mcp,
        "execute_task_workflow",
        {
            "task_id": seeded.command_task_id,
            "workflow_type": "containerized_workflow",
            "skip_cache": False,
        },
    )
    run = started["executeTaskWorkflow"]
    assert run["id"].startswith("run-")
    assert run["status"] in {"queued", "running", "succeeded"}
    finished = await wait_for_run(mcp, seeded.command_task_id)
    assert finished["id"] == run["id"]
    assert finished["status"] == "succeeded", finished
    assert "hello from pommel" in finished["steps"][0]["output"]


async def test_templates_tools(mcp: Client) -> None:
    listed = await call(mcp, "list_workflow_templates", {})
    ids = {t["id"] for t in listed["templates"]}
    assert {"basic_task", "ml-training"} <= ids
    ml = await call(mcp, "list_workflow_templates", {"category": "machine-learning"})
    assert [t["id"] for t in ml["templates"]] == ["ml-training"]
    template = await call(mcp, "get_workflow_template", {"template_id": "ml-training"})
    parameters = {p["name"]: p for p in template["template"]["parameters"]}
    assert parameters["epochs"]["type"] == "integer"
    assert "metadata:" in template["template"]["source"]


async def test_planning_tools(mcp: Client) -> None:
    seeded = await seed(mcp)
    phase = await call(mcp, "create_phase", {"project_id": seeded.project_id, "name": "Build"})
    phase_id = phase["createPhase"]["id"]
    moved = await call(
        mcp,
        "update_task",
        {"task_id": seeded.ml_task_id, "phase_id": phase_id, "assignee": "agent-7"},
    )
    assert moved["updateTask"]["phase"]["id"] == phase_id
    assert moved["updateTask"]["assignee"] == "agent-7"
    cleared = await call(mcp, "update_task", {"task_id": seeded.ml_task_id, "assignee": None})
    assert cleared["updateTask"]["assignee"] is None
    assert cleared["updateTask"]["phase"]["id"] == phase_id  # left out: unchanged
    await call(
        mcp,
        "add_task_dependency",
        {"task_id": seeded.ml_task_id, "depends_on_id": seeded.command_task_id},
    )
    listed = await call(
        mcp, "list_tasks", {"project_id": seeded.project_id, "status": ["planned"], "first": 10}
    )
    assert listed["tasks"]["totalCount"] == 2
    phases = await call(mcp, "list_phases", {"project_id": seeded.project_id})
    assert phases["project"]["phases"][0]["tasks"]["totalCount"] == 1
    cycle = await tool_error(
        mcp,
        "add_task_dependency",
        {"task_id": seeded.command_task_id, "depends_on_id": seeded.ml_task_id},
    )
    assert cycle.startswith("DEPENDENCY_CYCLE: ")
    projects = await call(mcp, "list_projects", {"search": "agents"})
    assert projects["projects"]["nodes"][0]["tasks"]["totalCount"] == 2


async def test_validate_workflow_template_reports_problems(mcp: Client) -> None:
    checked = await call(mcp, "validate_workflow_template", {"source": "metadata: {name: x}\n"})
    assert checked["validateTemplate"]["valid"] is False
    assert checked["validateTemplate"]["problems"]


async def test_unknown_ids_are_not_found(mcp: Client) -> None:
    text = await tool_error(mcp, "get_workflow_template", {"template_id": "x"})
    assert text == "NOT_FOUND: no template 'x'"
    text = await tool_error(mcp, "get_task", {"task_id": "task-999"})
    assert text == "NOT_FOUND: no task 'task-999'"
    text = await tool_error(
        mcp, "create_workflow_from_task", {"task_id": "task-999", "workflow_name": "w"}
    )
    assert text.startswith("NOT_FOUND: no task 'task-999'")


async def test_bad_parameters_are_validation_failures(mcp: Client) -> None:
    seeded = await seed(mcp)
    text = await tool_error(
        mcp,
        "create_workflow_from_template",
        {
            "task_id": seeded.ml_task_id,
            "template_id": "ml-training",
            "parameters": {"epochs": "ten"},
        },
    )
    assert text.startswith("VALIDATION_FAILED: ")
    assert "epochs" in text
    text = await tool_error(
        mcp, "create_workflow_from_task", {"task_id": seeded.command_task_id, "workflow_type": "vm"}
    )
    assert text.startswith("VALIDATION_FAILED: workflow_type: 'vm' is not one of containerized")
    text = await tool_error(mcp, "create_workflow_from_task", {"workflow_name": "w"})
    assert text == "VALIDATION_FAILED: task_id: is required"
    text = await tool_error(mcp, "create_workflow_from_task", {"task_id": seeded.ml_task_id})
    assert text.startswith("VALIDATION_FAILED: ")  # metadata names no command nor template


async def test_unknown_tool_is_a_protocol_error(mcp: Client) -> None:
    from mcp import MCPError

    with pytest.raises(MCPError, match="Unknown tool: launch_rockets"):
        await mcp.call_tool("launch_rockets", {})


async def test_read_only_hides_every_mutating_tool(runtime: Runtime) -> None:
    bridge = build_bridge(InProcessExecutor(runtime, read_only=True), read_only=True)
    async with Client(bridge.server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {name for name in READ_ONLY_TOOLS if not _pending_tool(name)}
        result = await client.call_tool("list_workflow_templates", {})
        assert not result.is_error
        from mcp import MCPError

        with pytest.raises(MCPError, match="hidden"):
            await client.call_tool("create_project", {"name": "nope"})


async def test_tools_allow_list(runtime: Runtime) -> None:
    allowed = {"get_workflow_template", "create_workflow_from_template"}
    bridge = build_bridge(InProcessExecutor(runtime), tools=allowed)
    async with Client(bridge.server) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == allowed
        assert len((await client.list_resources()).resources) >= 2  # resources stay
    with pytest.raises(BridgeConfigError, match="unknown tool"):
        build_bridge(InProcessExecutor(runtime), tools={"get_workflow_templat"})
    with pytest.raises(BridgeConfigError, match="read-only"):
        build_bridge(InProcessExecutor(runtime), read_only=True, tools=allowed)


async def test_text_content_is_the_structured_content(mcp: Client) -> None:
    result = await mcp.call_tool("get_workflow_template", {"template_id": "basic_task"})
    assert '"id": "basic_task"' in text_of(result)


async def test_create_workflows_for_project(mcp: Client) -> None:
    seeded = await seed(mcp)
    made = (await call(mcp, "create_workflows_for_project", {"project_id": seeded.project_id}))[
        "createWorkflowsForProject"
    ]
    assert [w["task"]["id"] for w in made["workflows"]] == [seeded.command_task_id]
    assert [s["task"]["id"] for s in made["skipped"]] == [seeded.ml_task_id]
    assert made["skipped"][0]["reason"]


@needs("project execution", "run status")
async def test_execute_workflows_for_project(mcp: Client) -> None:
    seeded = await seed(mcp)
    await call(mcp, "create_workflows_for_project", {"project_id": seeded.project_id})
    started = await call(
        mcp,
        "execute_workflows_for_project",
        {"project_id": seeded.project_id, "max_parallel": 2, "skip_cache": False},
    )
    assert started["executeWorkflowsForProject"]["id"]
    finished = await wait_for_run(mcp, seeded.command_task_id)
    assert finished["status"] == "succeeded"


@needs("planning")
async def test_plan_project_execution(mcp: Client) -> None:
    seeded = await seed(mcp)
    planned = await call(mcp, "plan_project_execution", {"project_id": seeded.project_id})
    assert planned["planProjectExecution"] is not None
