"""The bridge's operations against the schema: each validates, and what is derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from jsonschema import Draft202012Validator

from pommel.api.schema import schema
from pommel.mcp.arguments import ArgumentsInvalid
from pommel.mcp.naming import snake_case
from pommel.mcp.notifications import AFFECTED, changed_uris
from pommel.mcp.operations import OPERATIONS_DIR, Catalog, load_catalog
from tests.mcp.helpers import PENDING, needs

ROOT = Path(__file__).resolve().parents[2]
SDL = ROOT / "schema" / "schema.graphql"

# Operation files that use a part of the API still being built (see helpers.PENDING).
USES = {
    "CancelWorkflowRun.graphql": "execution",
    "ExecuteTaskWorkflow.graphql": "execution",
    "RetryWorkflowRun.graphql": "execution",
    "GetWorkflowRun.graphql": "run status",
    "GetWorkflowRunLogs.graphql": "run status",
    "GetWorkflowStatus.graphql": "run status",
    "ProjectWorkflows.graphql": "run status",
    "TaskWorkflow.graphql": "run status",
    "Workflows.graphql": "run status",
    "ExecuteWorkflowsForProject.graphql": "project execution",
    "PlanProjectExecution.graphql": "planning",
}


def _files() -> list[Path]:
    return sorted(OPERATIONS_DIR.glob("*.graphql"))


def _exported() -> GraphQLSchema:
    return build_schema(SDL.read_text(encoding="utf-8"))


def _params() -> list[object]:
    return [
        pytest.param(
            path, id=path.name, marks=[needs(USES[path.name])] if path.name in USES else []
        )
        for path in _files()
    ]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(schema._schema)


def test_the_operations_are_there() -> None:
    assert len(_files()) >= 15 + 3


@pytest.mark.parametrize("path", _params())
def test_operation_validates_against_the_exported_sdl(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    errors = validate(_exported(), document)
    if errors and not validate(schema._schema, document):
        # The code has what the operation needs; the committed SDL is behind, which the SDL
        # drift test reports (tests/api/test_schema_sdl.py).
        pytest.xfail("schema/schema.graphql is behind the code: run `pommel export-schema`")
    assert not errors, "\n".join(f"{path.name}: {error.message}" for error in errors)


@pytest.mark.parametrize("path", _params())
def test_operation_loads_against_the_code_schema(path: Path, catalog: Catalog) -> None:
    problems = [p for p in catalog.problems if p.startswith(f"{path.name}:")]
    assert not problems


def test_the_catalog_has_no_problem_beyond_the_pending_api(catalog: Catalog) -> None:
    pending = {name for name, part in USES.items() if PENDING[part]}
    unexpected = [p for p in catalog.problems if p.split(":", 1)[0] not in pending]
    assert unexpected == []


def test_derived_schemas_are_valid_json_schema(catalog: Catalog) -> None:
    for op in (*catalog.tools, *catalog.resources):
        Draft202012Validator.check_schema(op.input_schema)
        Draft202012Validator.check_schema(op.output_schema)


def test_every_tool_and_argument_is_described(catalog: Catalog) -> None:
    for op in catalog.tools:
        assert len(op.description) > 20, op.name
        for name, argument in op.input_schema["properties"].items():
            assert argument.get("description"), f"{op.mcp_name}.{name} has no description"


def test_argument_names_are_the_variables_in_snake_case(catalog: Catalog) -> None:
    op = catalog.tool("create_workflow_from_template")
    assert op is not None
    assert [(a.name, a.variable) for a in op.arguments] == [
        ("task_id", "taskId"),
        ("template_id", "templateId"),
        ("parameters", "parameters"),
        ("workflow_name", "workflowName"),
    ]
    assert op.input_schema["required"] == ["task_id", "template_id"]
    assert op.input_schema["properties"]["parameters"]["type"] == "object"
    assert snake_case("CreateWorkflowsForProject") == "create_workflows_for_project"


def test_descriptions_come_from_the_schema_first(catalog: Catalog) -> None:
    op = catalog.tool("create_phase")
    assert op is not None
    # CreatePhaseInput.position is described in the schema; the operation adds nothing.
    described = schema._schema.type_map["CreatePhaseInput"].fields["position"].description  # type: ignore[union-attr]
    assert op.input_schema["properties"]["position"]["description"] == described


def test_enums_take_the_contracts_lower_case_values(catalog: Catalog) -> None:
    op = catalog.tool("create_workflow_from_task")
    assert op is not None
    workflow_type = op.input_schema["properties"]["workflow_type"]
    assert workflow_type["enum"] == [
        "containerized_workflow",
        "script_workflow",
        "api_workflow",
        "composite_workflow",
    ]
    variables = op.variables({"task_id": "task-1", "workflow_type": "script_workflow"})
    assert variables == {"taskId": "task-1", "workflowType": "SCRIPT_WORKFLOW"}


def test_null_clears_only_where_the_api_gives_null_a_meaning(catalog: Catalog) -> None:
    update = catalog.tool("update_task")
    assert update is not None
    assert update.input_schema["properties"]["assignee"]["type"] == ["string", "null"]
    assert update.input_schema["properties"]["name"]["type"] == "string"
    variables = update.variables({"task_id": "task-1", "assignee": None, "name": None})
    assert variables == {"taskId": "task-1", "assignee": None}  # name: null = not given


def test_bad_arguments_are_named_all_at_once(catalog: Catalog) -> None:
    op = catalog.tool("create_task")
    assert op is not None
    with pytest.raises(ArgumentsInvalid) as caught:
        op.variables({"nam": "x", "priority": "urgent", "metadata": "{}"})
    problems = caught.value.problems
    assert any(p.startswith("unknown argument nam") for p in problems)
    assert "name: is required" in problems
    assert "project_id: is required" in problems
    assert any(p.startswith("priority: 'urgent' is not one of low, medium") for p in problems)
    assert any(p.startswith("metadata: expected object") for p in problems)


def test_results_use_the_contracts_enum_values(catalog: Catalog) -> None:
    op = catalog.tool("get_task")
    assert op is not None
    data = {"task": {"id": "task-1", "status": "IN_PROGRESS", "priority": "HIGH", "name": "x"}}
    presented = op.present(data)
    assert presented["task"]["status"] == "in_progress"
    assert presented["task"]["priority"] == "high"
    assert (
        op.output_schema["properties"]["task"]["properties"]["status"]["enum"][1] == "in_progress"
    )


def test_resources_are_queries_with_their_uris(catalog: Catalog) -> None:
    uris = {op.resource_uri for op in catalog.resources}
    for pattern in {uri for uris_ in AFFECTED.values() for uri in uris_}:
        assert pattern in uris | {  # the ones that wait for the backend may be missing now
            f"task-manager://dagger/{rest}"
            for rest in ("workflows", "workflows/{task_id}", "projects/{project_id}/workflows")
        }


def test_events_map_to_the_resources_they_change() -> None:
    step = {"type": "step.finished", "taskId": "task-4", "projectId": "proj-1", "data": {}}
    assert changed_uris(step) == ["task-manager://dagger/workflows/task-4"]
    run = {"type": "run.finished", "taskId": "task-4", "projectId": "proj-1", "data": {}}
    assert changed_uris(run) == [
        "task-manager://dagger/workflows",
        "task-manager://dagger/workflows/task-4",
        "task-manager://dagger/projects/proj-1/workflows",
        "task-manager://dagger/stats",
    ]
    template = {"type": "template.updated", "data": {"template": "nightly"}}
    assert changed_uris(template) == [
        "task-manager://dagger/templates",
        "task-manager://dagger/templates/nightly",
    ]
