"""Templates through the API: listing, custom templates, validation."""

from __future__ import annotations

from tests.conftest import GraphQLClient

CUSTOM = """
metadata:
  name: hello
  description: Say hello
  version: 1.0.0
  category: demo
  tags: [demo]
parameters:
  who: {type: string, description: Who to greet, default: world}
steps:
  - name: greet
    container:
      image: alpine:latest
      command: echo hello ${who}
"""

CREATE = "mutation($s: String!) { createTemplate(source: $s) { id builtin version parameters { name default } } }"
UPDATE = "mutation($id: ID!, $s: String!) { updateTemplate(id: $id, source: $s) { id version } }"
DELETE = "mutation($id: ID!) { deleteTemplate(id: $id) { id } }"
VALIDATE = "mutation($s: String!) { validateTemplate(source: $s) { valid problems { path line message } } }"


async def test_builtin_templates_are_listed_with_parameters(gql: GraphQLClient) -> None:
    data = await gql.data(
        "{ templates { id builtin workflowType category parameters { name type required } } }"
    )
    by_id = {t["id"]: t for t in data["templates"]}
    assert {
        "basic_task",
        "ml-training",
        "python-tests",
        "lint-build",
        "api-health-check",
        "composite-release",
    } <= set(by_id)
    assert all(t["builtin"] for t in by_id.values())
    assert by_id["api-health-check"]["workflowType"] == "API_WORKFLOW"
    assert by_id["composite-release"]["workflowType"] == "COMPOSITE_WORKFLOW"
    params = {p["name"]: p for p in by_id["basic_task"]["parameters"]}
    assert params["task_command"] == {"name": "task_command", "type": "string", "required": True}
    ml = {p["name"] for p in by_id["ml-training"]["parameters"]}
    assert {"epochs", "batch_size"} <= ml


async def test_templates_by_category_and_single(gql: GraphQLClient) -> None:
    data = await gql.data(
        '{ templates(category: "general") { id } template(id: "basic_task") { id source steps { name kind needs } } }'
    )
    assert "basic_task" in [t["id"] for t in data["templates"]]
    assert data["template"]["steps"] == [{"name": "execute_task", "kind": "container", "needs": []}]
    assert "execute_task" in data["template"]["source"]
    error = await gql.error('{ template(id: "nope") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_custom_template_lifecycle(gql: GraphQLClient) -> None:
    created = (await gql.data(CREATE, {"s": CUSTOM}))["createTemplate"]
    assert created == {
        "id": "hello",
        "builtin": False,
        "version": "1.0.0",
        "parameters": [{"name": "who", "default": "world"}],
    }
    duplicate = await gql.error(CREATE, {"s": CUSTOM})
    assert duplicate["extensions"]["code"] == "CONFLICT"
    updated = (await gql.data(UPDATE, {"id": "hello", "s": CUSTOM.replace("1.0.0", "1.1.0")}))[
        "updateTemplate"
    ]
    assert updated["version"] == "1.1.0"
    renamed = await gql.error(
        UPDATE, {"id": "hello", "s": CUSTOM.replace("name: hello", "name: other")}
    )
    assert renamed["extensions"]["code"] == "VALIDATION_FAILED"
    listed = await gql.data('{ templates(category: "demo") { id } }')
    assert listed["templates"] == [{"id": "hello"}]
    await gql.data(DELETE, {"id": "hello"})
    gone = await gql.error('{ template(id: "hello") { id } }')
    assert gone["extensions"]["code"] == "NOT_FOUND"


async def test_builtin_templates_are_read_only(gql: GraphQLClient) -> None:
    source = (await gql.data('{ template(id: "basic_task") { source } }'))["template"]["source"]
    for query, variables in (
        (UPDATE, {"id": "basic_task", "s": source}),
        (DELETE, {"id": "basic_task"}),
    ):
        error = await gql.error(query, variables)
        assert error["extensions"]["code"] == "FORBIDDEN"
    clash = await gql.error(CREATE, {"s": source})
    assert clash["extensions"]["code"] == "CONFLICT"


async def test_invalid_template_is_refused_with_every_problem(gql: GraphQLClient) -> None:
    bad = CUSTOM.replace("echo hello ${who}", "echo ${whom} ${steps.nowhere.output}")
    error = await gql.error(CREATE, {"s": bad})
    assert error["extensions"]["code"] == "TEMPLATE_INVALID"
    problems = error["extensions"]["problems"]
    assert len(problems) >= 2
    assert all(p["path"] == "steps[0].container.command" for p in problems)
    assert all(p["line"] == 14 for p in problems)


async def test_validate_template_never_throws(gql: GraphQLClient) -> None:
    ok = (await gql.data(VALIDATE, {"s": CUSTOM}))["validateTemplate"]
    assert ok == {"valid": True, "problems": []}
    for source in ("", ":::", "[1, 2]", "metadata: 3", "\x00\x01", "a: [unclosed"):
        result = (await gql.data(VALIDATE, {"s": source}))["validateTemplate"]
        assert result["valid"] is False
        assert result["problems"]
    syntax = (await gql.data(VALIDATE, {"s": "metadata:\n  name: x\n steps: ["}))[
        "validateTemplate"
    ]
    assert syntax["problems"][0]["line"] is not None


async def test_custom_composite_can_call_another_custom_template(gql: GraphQLClient) -> None:
    await gql.data(CREATE, {"s": CUSTOM})
    composite = """
metadata: {name: greet-twice, description: Greets twice, version: 1.0.0, category: demo, type: composite_workflow}
steps:
  - name: first
    workflow: {template: hello, parameters: {who: ann}}
  - name: second
    needs: [first]
    workflow: {template: hello, parameters: {who: bob}}
"""
    created = (await gql.data(CREATE, {"s": composite}))["createTemplate"]
    assert created["id"] == "greet-twice"
    fetched = await gql.data(
        '{ template(id: "greet-twice") { id workflowType steps { name kind } } }'
    )
    assert fetched["template"]["workflowType"] == "COMPOSITE_WORKFLOW"
    assert [s["kind"] for s in fetched["template"]["steps"]] == ["workflow", "workflow"]
