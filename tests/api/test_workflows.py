"""Workflows from templates, from tasks, and for whole projects."""

from __future__ import annotations

from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient

FROM_TEMPLATE = """mutation($t: ID!, $tpl: ID!, $p: JSON, $n: String) {
  createWorkflowFromTemplate(taskId: $t, templateId: $tpl, parameters: $p, workflowName: $n) {
    id name type templateId parameters definition task { id } template { id } } }"""
FROM_TASK = """mutation($t: ID!, $n: String, $ty: WorkflowType) {
  createWorkflowFromTask(taskId: $t, workflowName: $n, workflowType: $ty) {
    id name type templateId parameters definition } }"""


async def test_ml_training_parameters_are_stored(gql: GraphQLClient) -> None:
    task = await make_task(gql, await make_project(gql), "train")
    data = await gql.data(
        FROM_TEMPLATE, {"t": task, "tpl": "ml-training", "p": {"epochs": 10, "batch_size": 32}}
    )
    workflow = data["createWorkflowFromTemplate"]
    assert workflow["id"].startswith("wf-")
    assert workflow["parameters"]["epochs"] == 10
    assert workflow["parameters"]["batch_size"] == 32
    assert workflow["type"] == "SCRIPT_WORKFLOW"  # ml-training is a python script
    assert workflow["template"] == {"id": "ml-training"}
    assert workflow["task"] == {"id": task}
    assert workflow["definition"]["steps"][0]["name"]
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { id ... on Workflow { name } } }", {"id": workflow["id"]}
    )
    assert node["node"]["id"] == workflow["id"]


async def test_bad_and_missing_parameters_are_named(gql: GraphQLClient) -> None:
    task = await make_task(gql, await make_project(gql), "train")
    error = await gql.error(
        FROM_TEMPLATE, {"t": task, "tpl": "ml-training", "p": {"epochs": "ten"}}
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "parameters.epochs" in error["extensions"]["fields"]
    assert "epochs" in error["message"]
    missing = await gql.error(
        FROM_TEMPLATE, {"t": task, "tpl": "basic_task", "p": {"task_name": "x"}}
    )
    assert "task_command" in missing["message"]
    unknown = await gql.error(FROM_TEMPLATE, {"t": task, "tpl": "no-such", "p": {}})
    assert unknown["extensions"]["code"] == "NOT_FOUND"
    not_object = await gql.error(FROM_TEMPLATE, {"t": task, "tpl": "basic_task", "p": [1]})
    assert "parameters" in not_object["extensions"]["fields"]
    listing = await gql.data("{ workflows { totalCount } }")
    assert listing["workflows"]["totalCount"] == 0  # nothing stored


async def test_workflow_from_task_command_and_image(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(
        gql, project, "build", metadata={"command": "make build", "image": "python:3.12"}
    )
    workflow = (await gql.data(FROM_TASK, {"t": task, "n": "nightly"}))["createWorkflowFromTask"]
    assert workflow["name"] == "nightly"
    assert workflow["templateId"] == "basic_task"
    assert workflow["parameters"] == {"task_name": "build", "task_command": "make build"}
    step = workflow["definition"]["steps"][0]
    assert step["image"] == "python:3.12"
    assert step["argv"] == ["sh", "-c", "make build"]


async def test_workflow_from_task_names_what_is_missing(gql: GraphQLClient) -> None:
    task = await make_task(gql, await make_project(gql), "vague")
    error = await gql.error(FROM_TASK, {"t": task})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "metadata.command" in error["extensions"]["fields"]
    assert "template" in error["message"]


async def test_workflow_from_task_metadata_template(gql: GraphQLClient) -> None:
    task = await make_task(
        gql,
        await make_project(gql),
        "ml",
        metadata={"template": "ml-training", "parameters": {"epochs": 3}},
    )
    workflow = (await gql.data(FROM_TASK, {"t": task}))["createWorkflowFromTask"]
    assert workflow["templateId"] == "ml-training"
    assert workflow["parameters"]["epochs"] == 3
    wrong_type = await gql.error(FROM_TASK, {"t": task, "ty": "API_WORKFLOW"})
    assert "workflowType" in wrong_type["extensions"]["fields"]


async def test_workflow_for_task_and_listing(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    task = await make_task(gql, project, "t", metadata={"command": "true"})
    empty = await gql.data("query($t: ID!) { workflowForTask(taskId: $t) { id } }", {"t": task})
    assert empty["workflowForTask"] is None
    first = (await gql.data(FROM_TASK, {"t": task}))["createWorkflowFromTask"]["id"]
    second = (await gql.data(FROM_TASK, {"t": task, "n": "again"}))["createWorkflowFromTask"]["id"]
    latest = await gql.data("query($t: ID!) { workflowForTask(taskId: $t) { id } }", {"t": task})
    assert latest["workflowForTask"]["id"] == second
    listed = await gql.data(
        "query($p: ID!) { workflows(filter: {projectId: $p}) { totalCount edges { node { id } } } }",
        {"p": project},
    )
    assert [e["node"]["id"] for e in listed["workflows"]["edges"]] == [first, second]
    missing = await gql.error('query { workflowForTask(taskId: "task-999") { id } }')
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_create_workflows_for_project(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    done = await make_task(gql, project, "has one", metadata={"command": "true"})
    await gql.data(FROM_TASK, {"t": done})
    await make_task(gql, project, "a")
    await make_task(gql, project, "b")
    query = """mutation($p: ID!, $tpl: ID, $params: JSON) {
      createWorkflowsForProject(projectId: $p, templateId: $tpl, parameters: $params) {
        workflows { task { name } templateId } skipped { task { name } reason } } }"""
    result = (
        await gql.data(
            query,
            {
                "p": project,
                "tpl": "basic_task",
                "params": {"task_name": "x", "task_command": "true"},
            },
        )
    )["createWorkflowsForProject"]
    assert sorted(w["task"]["name"] for w in result["workflows"]) == ["a", "b"]
    assert result["skipped"] == [{"task": {"name": "has one"}, "reason": "already has a workflow"}]
    # Without a template each task is derived on its own; tasks without a command are skipped.
    fresh = await make_project(gql, "fresh")
    await make_task(gql, fresh, "runnable", metadata={"command": "echo hi"})
    await make_task(gql, fresh, "vague")
    derived = (await gql.data(query, {"p": fresh}))["createWorkflowsForProject"]
    assert [w["task"]["name"] for w in derived["workflows"]] == ["runnable"]
    assert derived["skipped"][0]["task"]["name"] == "vague"
    assert derived["skipped"][0]["reason"].startswith("VALIDATION_FAILED")
