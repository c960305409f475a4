"""Dependencies: edges, cycles, cross-project refusal."""

from __future__ import annotations

from tests.api.helpers import ADD_DEPENDENCY, make_project, make_task
from tests.conftest import GraphQLClient

REMOVE = "mutation($t: ID!, $d: ID!) { removeTaskDependency(taskId: $t, dependsOnId: $d) { id dependencies { id } } }"


async def test_dependencies_and_dependents(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    a, b, c = [await make_task(gql, project_id, name) for name in "abc"]
    await gql.data(ADD_DEPENDENCY, {"t": c, "d": a})
    data = await gql.data(ADD_DEPENDENCY, {"t": c, "d": b})
    assert {d["id"] for d in data["addTaskDependency"]["dependencies"]} == {a, b}
    dependents = await gql.data(
        "query($id: ID!) { task(id: $id) { dependents { id } } }", {"id": a}
    )
    assert dependents["task"]["dependents"] == [{"id": c}]
    data = await gql.data(REMOVE, {"t": c, "d": a})
    assert data["removeTaskDependency"]["dependencies"] == [{"id": b}]


async def test_cycle_is_refused_and_named(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    a, b, c = [await make_task(gql, project_id, name) for name in "abc"]
    await gql.data(ADD_DEPENDENCY, {"t": b, "d": a})
    await gql.data(ADD_DEPENDENCY, {"t": c, "d": b})
    error = await gql.error(ADD_DEPENDENCY, {"t": a, "d": c})
    assert error["extensions"]["code"] == "DEPENDENCY_CYCLE"
    assert error["extensions"]["cycle"] == [a, c, b, a]
    self_loop = await gql.error(ADD_DEPENDENCY, {"t": a, "d": a})
    assert self_loop["extensions"]["code"] == "DEPENDENCY_CYCLE"
    data = await gql.data("query($id: ID!) { task(id: $id) { dependencies { id } } }", {"id": a})
    assert data["task"]["dependencies"] == []  # nothing stored


async def test_duplicate_edge_is_a_conflict(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    a, b = [await make_task(gql, project_id, name) for name in "ab"]
    await gql.data(ADD_DEPENDENCY, {"t": b, "d": a})
    error = await gql.error(ADD_DEPENDENCY, {"t": b, "d": a})
    assert error["extensions"]["code"] == "CONFLICT"


async def test_cross_project_dependency_is_refused(gql: GraphQLClient) -> None:
    a = await make_task(gql, await make_project(gql, "one"), "a")
    b = await make_task(gql, await make_project(gql, "two"), "b")
    error = await gql.error(ADD_DEPENDENCY, {"t": b, "d": a})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "dependsOnId" in error["extensions"]["fields"]
    created = await gql.error(
        'mutation($p: ID!, $d: [ID!]) { createTask(input: {projectId: $p, name: "x", dependsOn: $d}) { id } }',
        {
            "p": (await gql.data("{ projects { edges { node { id } } } }"))["projects"]["edges"][1][
                "node"
            ]["id"],
            "d": [a],
        },
    )
    assert created["extensions"]["code"] == "VALIDATION_FAILED"


async def test_removing_a_missing_edge_is_not_found(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    a, b = [await make_task(gql, project_id, name) for name in "ab"]
    error = await gql.error(REMOVE, {"t": b, "d": a})
    assert error["extensions"]["code"] == "NOT_FOUND"
