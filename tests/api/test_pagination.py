"""Keyset pagination: stable pages under concurrent inserts, cursor validation."""

from __future__ import annotations

from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient

PAGE = """query($p: ID!, $first: Int, $after: String) {
  project(id: $p) { tasks(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { name } } } } }"""


async def test_page_two_continues_exactly_after_page_one_despite_inserts(
    gql: GraphQLClient,
) -> None:
    project_id = await make_project(gql)
    for index in range(10):
        await make_task(gql, project_id, f"t{index:02}")
    first = (await gql.data(PAGE, {"p": project_id, "first": 4}))["project"]["tasks"]
    assert [e["node"]["name"] for e in first["edges"]] == ["t00", "t01", "t02", "t03"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    # Rows inserted (and deleted) between page requests neither shift nor repeat rows.
    for index in range(3):
        await make_task(gql, project_id, f"new{index}")
    second = (
        await gql.data(PAGE, {"p": project_id, "first": 4, "after": first["pageInfo"]["endCursor"]})
    )["project"]["tasks"]
    assert [e["node"]["name"] for e in second["edges"]] == ["t04", "t05", "t06", "t07"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["totalCount"] == 13

    rest = (
        await gql.data(
            PAGE, {"p": project_id, "first": 100, "after": second["pageInfo"]["endCursor"]}
        )
    )["project"]["tasks"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["t08", "t09", "new0", "new1", "new2"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_bad_cursor_and_first_are_validation_errors(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    error = await gql.error(PAGE, {"p": project_id, "after": "not-a-cursor"})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "after" in error["extensions"]["fields"]
    error = await gql.error(PAGE, {"p": project_id, "first": -1})
    assert "first" in error["extensions"]["fields"]
    error = await gql.error(PAGE, {"p": project_id, "first": 100_000})
    assert "first" in error["extensions"]["fields"]


async def test_empty_page(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    page = (await gql.data(PAGE, {"p": project_id, "first": 0}))["project"]["tasks"]
    assert page["edges"] == []
    assert page["pageInfo"]["endCursor"] is None
