"""Projects through the GraphQL API over HTTP."""

from __future__ import annotations

from tests.api.helpers import CREATE_PROJECT, make_phase, make_project, make_task
from tests.conftest import GraphQLClient


async def test_create_project_returns_prefixed_id_and_fields(gql: GraphQLClient) -> None:
    data = await gql.data(
        'mutation { createProject(input: {name: "  Apollo  ", description: "Moon",'
        ' metadata: {team: "a"}}) { id name description metadata createdAt } }'
    )
    project = data["createProject"]
    assert project["id"].startswith("proj-")
    assert project["name"] == "Apollo"  # trimmed
    assert project["description"] == "Moon"
    assert project["metadata"] == {"team": "a"}


async def test_update_project_changes_only_given_fields(gql: GraphQLClient) -> None:
    project_id = await make_project(gql, "Old")
    data = await gql.data(
        'mutation($id: ID!) { updateProject(id: $id, input: {name: "New"}) { name description } }',
        {"id": project_id},
    )
    assert data["updateProject"] == {"name": "New", "description": ""}


async def test_projects_connection_search_and_total(gql: GraphQLClient) -> None:
    for name in ("Alpha", "Beta", "Alphabet"):
        await make_project(gql, name)
    data = await gql.data(
        '{ projects(filter: {search: "alpha"}) { totalCount edges { node { name } } } }'
    )
    names = [edge["node"]["name"] for edge in data["projects"]["edges"]]
    assert names == ["Alpha", "Alphabet"]
    assert data["projects"]["totalCount"] == 2


async def test_delete_project_removes_phases_tasks_and_dependencies(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    phase_id = await make_phase(gql, project_id, "Design")
    first = await make_task(gql, project_id, "a", phaseId=phase_id)
    second = await make_task(gql, project_id, "b", dependsOn=[first])
    other_project = await make_project(gql, "Other")
    survivor = await make_task(gql, other_project, "c")

    data = await gql.data(
        "mutation($id: ID!) { deleteProject(id: $id) { id } }", {"id": project_id}
    )
    assert data["deleteProject"]["id"] == project_id

    for gone in (project_id, phase_id, first, second):
        node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": gone})
        assert node["node"] is None, gone
    remaining = await gql.data("{ tasks { totalCount edges { node { id } } } }")
    assert [edge["node"]["id"] for edge in remaining["tasks"]["edges"]] == [survivor]
    error = await gql.error("query($id: ID!) { project(id: $id) { id } }", {"id": project_id})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_project_name_validation_names_the_field(gql: GraphQLClient) -> None:
    for name, problem in (("   ", "must not be empty"), ("x" * 201, "at most 200")):
        error = await gql.error(CREATE_PROJECT, {"input": {"name": name}})
        assert error["extensions"]["code"] == "VALIDATION_FAILED"
        assert problem in error["extensions"]["fields"]["name"]


async def test_metadata_must_be_an_object(gql: GraphQLClient) -> None:
    error = await gql.error(CREATE_PROJECT, {"input": {"name": "x", "metadata": [1, 2]}})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "JSON object" in error["extensions"]["fields"]["metadata"]
    listing = await gql.data("{ projects { totalCount } }")
    assert listing["projects"]["totalCount"] == 0  # nothing stored
