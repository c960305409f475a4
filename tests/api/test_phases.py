"""Phases: ordering, moving, deleting."""

from __future__ import annotations

from tests.api.helpers import make_phase, make_project, make_task
from tests.conftest import GraphQLClient

PHASES = "query($id: ID!) { project(id: $id) { phases { name position } } }"


async def _names(gql: GraphQLClient, project_id: str) -> list[tuple[str, int]]:
    data = await gql.data(PHASES, {"id": project_id})
    return [(p["name"], p["position"]) for p in data["project"]["phases"]]


async def test_phases_keep_order_and_insert_at_position(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    await make_phase(gql, project_id, "Design")
    await make_phase(gql, project_id, "Build")
    await make_phase(gql, project_id, "Plan", position=0)
    assert await _names(gql, project_id) == [("Plan", 0), ("Design", 1), ("Build", 2)]


async def test_update_phase_moves_it(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    first = await make_phase(gql, project_id, "A")
    await make_phase(gql, project_id, "B")
    await make_phase(gql, project_id, "C")
    await gql.data(
        'mutation($id: ID!) { updatePhase(id: $id, input: {position: 2, name: "A2"}) { id } }',
        {"id": first},
    )
    assert await _names(gql, project_id) == [("B", 0), ("C", 1), ("A2", 2)]


async def test_position_out_of_range_is_a_validation_error(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    error = await gql.error(
        'mutation($p: ID!) { createPhase(input: {projectId: $p, name: "X", position: 5}) { id } }',
        {"p": project_id},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "position" in error["extensions"]["fields"]


async def test_deleting_a_phase_keeps_its_tasks(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "A")
    await make_phase(gql, project_id, "B")
    task_id = await make_task(gql, project_id, "t", phaseId=phase_id)
    await gql.data("mutation($id: ID!) { deletePhase(id: $id) { id } }", {"id": phase_id})
    data = await gql.data("query($id: ID!) { task(id: $id) { phase { id } } }", {"id": task_id})
    assert data["task"]["phase"] is None
    assert await _names(gql, project_id) == [("B", 0)]


async def test_phase_tasks_and_project(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "A")
    inside = await make_task(gql, project_id, "in", phaseId=phase_id)
    await make_task(gql, project_id, "out")
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Phase { project { id } tasks { edges { node { id } } } } } }",
        {"id": phase_id},
    )
    assert data["node"]["project"]["id"] == project_id
    assert [e["node"]["id"] for e in data["node"]["tasks"]["edges"]] == [inside]


async def test_task_phase_must_belong_to_the_same_project(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    other = await make_project(gql, "other")
    phase_id = await make_phase(gql, other, "A")
    error = await gql.error(
        'mutation($p: ID!, $ph: ID!) { createTask(input: {projectId: $p, name: "t", phaseId: $ph}) { id } }',
        {"p": project_id, "ph": phase_id},
    )
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "phaseId" in error["extensions"]["fields"]
