"""Tasks: fields, validation, status transitions, filters and ordering."""

from __future__ import annotations

from tests.api.helpers import (
    ADD_DEPENDENCY,
    CREATE_TASK,
    UPDATE_TASK,
    make_phase,
    make_project,
    make_task,
)
from tests.conftest import GraphQLClient


async def test_create_task_with_all_fields(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "Build")
    data = await gql.data(
        CREATE_TASK,
        {
            "input": {
                "projectId": project_id,
                "name": "Train model",
                "phaseId": phase_id,
                "priority": "HIGH",
                "assignee": "agent:claude",
                "metadata": {"epochs": 10},
            }
        },
    )
    task = data["createTask"]
    assert task["id"].startswith("task-")
    assert task["status"] == "PLANNED"
    assert task["priority"] == "HIGH"
    assert task["assignee"] == "agent:claude"
    assert task["metadata"] == {"epochs": 10}
    assert task["phase"] == {"id": phase_id}


async def test_unknown_enum_value_is_a_validation_error(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    error = await gql.error(
        CREATE_TASK, {"input": {"projectId": project_id, "name": "x", "priority": "URGENT"}}
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "priority" in error["extensions"]["fields"]
    literal = await gql.error(
        'mutation($p: ID!) { createTask(input: {projectId: $p, name: "x", status: DONE}) { id } }',
        {"p": project_id},
    )
    assert literal["extensions"]["code"] == "VALIDATION_FAILED"


async def test_task_metadata_must_be_an_object(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    error = await gql.error(
        CREATE_TASK, {"input": {"projectId": project_id, "name": "x", "metadata": "text"}}
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert set(error["extensions"]["fields"]) == {"metadata"}


async def test_several_bad_fields_are_reported_together(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    error = await gql.error(
        CREATE_TASK,
        {"input": {"projectId": project_id, "name": "", "metadata": 3, "assignee": "a" * 300}},
    )
    assert set(error["extensions"]["fields"]) == {"name", "metadata", "assignee"}


async def test_unknown_ids_are_not_found(gql: GraphQLClient) -> None:
    for query, variables in (
        ("query($id: ID!) { task(id: $id) { id } }", {"id": "task-999"}),
        ("query($id: ID!) { task(id: $id) { id } }", {"id": "proj-1"}),
        ("query($id: ID!) { project(id: $id) { id } }", {"id": "nonsense"}),
        (CREATE_TASK, {"input": {"projectId": "proj-404", "name": "x"}}),
        (UPDATE_TASK, {"id": "task-404", "input": {"name": "y"}}),
        ("mutation($id: ID!) { deleteTask(id: $id) { id } }", {"id": "task-404"}),
    ):
        error = await gql.error(query, variables)
        assert error["extensions"]["code"] == "NOT_FOUND", (query, error)


async def test_allowed_and_disallowed_transitions(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    task_id = await make_task(gql, project_id)
    data = await gql.data(UPDATE_TASK, {"id": task_id, "input": {"status": "CANCELLED"}})
    assert data["updateTask"]["status"] == "CANCELLED"
    error = await gql.error(UPDATE_TASK, {"id": task_id, "input": {"status": "COMPLETED"}})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert "cancelled task cannot become completed" in error["message"]
    data = await gql.data(UPDATE_TASK, {"id": task_id, "input": {"status": "PLANNED"}})
    assert data["updateTask"]["status"] == "PLANNED"


async def test_task_cannot_start_before_its_dependencies_complete(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    first = await make_task(gql, project_id, "first")
    second = await make_task(gql, project_id, "second")
    await gql.data(ADD_DEPENDENCY, {"t": second, "d": first})
    error = await gql.error(UPDATE_TASK, {"id": second, "input": {"status": "IN_PROGRESS"}})
    assert error["extensions"]["code"] == "INVALID_TRANSITION"
    assert first in error["message"]
    await gql.data(UPDATE_TASK, {"id": first, "input": {"status": "COMPLETED"}})
    data = await gql.data(UPDATE_TASK, {"id": second, "input": {"status": "IN_PROGRESS"}})
    assert data["updateTask"]["status"] == "IN_PROGRESS"


async def test_blocked_with_reason_and_clearing_fields(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "A")
    task_id = await make_task(gql, project_id, assignee="ann", phaseId=phase_id)
    data = await gql.data(
        UPDATE_TASK,
        {
            "id": task_id,
            "input": {
                "status": "BLOCKED",
                "statusReason": "waiting for GPUs",
                "assignee": None,
                "phaseId": None,
            },
        },
    )
    task = data["updateTask"]
    assert (task["status"], task["statusReason"]) == ("BLOCKED", "waiting for GPUs")
    assert task["assignee"] is None
    assert task["phase"] is None


async def test_update_without_changes_keeps_task(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    task_id = await make_task(gql, project_id, "same")
    data = await gql.data(UPDATE_TASK, {"id": task_id, "input": {}})
    assert data["updateTask"]["name"] == "same"


async def test_filters(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "A")
    await make_task(gql, project_id, "Write docs", priority="LOW", assignee="ann")
    await make_task(gql, project_id, "Fix login bug", priority="CRITICAL", phaseId=phase_id)
    await make_task(
        gql, project_id, "Deploy", priority="HIGH", assignee="ann", description="the LOGIN service"
    )
    other = await make_project(gql, "other")
    await make_task(gql, other, "Fix login elsewhere")

    async def names(filter: dict[str, object]) -> list[str]:
        data = await gql.data(
            "query($f: TaskFilterInput) { tasks(filter: $f) { totalCount edges { node { name } } } }",
            {"f": filter},
        )
        found = [e["node"]["name"] for e in data["tasks"]["edges"]]
        assert data["tasks"]["totalCount"] == len(found)
        return found

    assert await names({"projectId": project_id, "search": "login"}) == ["Fix login bug", "Deploy"]
    assert await names({"assignee": "ann"}) == ["Write docs", "Deploy"]
    assert await names({"priority": ["CRITICAL", "HIGH"], "projectId": project_id}) == [
        "Fix login bug",
        "Deploy",
    ]
    assert await names({"phaseId": phase_id}) == ["Fix login bug"]
    assert await names({"status": ["COMPLETED"]}) == []


async def test_order_by_priority_and_name(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    for name, priority in (("b", "LOW"), ("a", "CRITICAL"), ("c", "MEDIUM"), ("d", "CRITICAL")):
        await make_task(gql, project_id, name, priority=priority)
    query = """query($o: TaskOrderInput) { tasks(orderBy: $o, first: 2) {
        pageInfo { endCursor hasNextPage } edges { node { name } } } }"""
    query_after = """query($o: TaskOrderInput, $a: String) { tasks(orderBy: $o, first: 10, after: $a) {
        edges { node { name } } } }"""
    order = {"field": "PRIORITY", "direction": "DESC"}
    first_page = (await gql.data(query, {"o": order}))["tasks"]
    rest = (await gql.data(query_after, {"o": order, "a": first_page["pageInfo"]["endCursor"]}))[
        "tasks"
    ]
    names = [e["node"]["name"] for e in first_page["edges"] + rest["edges"]]
    # Ties on priority are broken by id, in the same direction.
    assert names == ["d", "a", "c", "b"]
    by_name = await gql.data(query_after, {"o": {"field": "NAME"}})
    assert [e["node"]["name"] for e in by_name["tasks"]["edges"]] == ["a", "b", "c", "d"]


async def test_delete_task_removes_its_dependency_edges(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    first = await make_task(gql, project_id, "first")
    second = await make_task(gql, project_id, "second")
    await gql.data(ADD_DEPENDENCY, {"t": second, "d": first})
    await gql.data("mutation($id: ID!) { deleteTask(id: $id) { id } }", {"id": first})
    data = await gql.data(
        "query($id: ID!) { task(id: $id) { dependencies { id } } }", {"id": second}
    )
    assert data["task"]["dependencies"] == []
