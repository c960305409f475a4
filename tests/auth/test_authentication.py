"""With ``auth_required``, every GraphQL request needs a valid, unrevoked key; the health
check and the GraphiQL page stay open. Without it, everything is allowed."""

from __future__ import annotations

import pytest

from pommel.services import api_keys
from pommel.storage.tables import Project
from tests.auth.conftest import KeyClient, MakeKey
from tests.conftest import GraphQLClient

PROJECTS = "{ projects { totalCount } }"
CREATE_PROJECT = 'mutation { createProject(input: {name: "p"}) { id } }'


async def test_a_request_without_a_key_is_unauthenticated_and_told_how(api: KeyClient) -> None:
    response = await api.post(PROJECTS)
    assert response.status_code == 200
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer <key>" in error["message"]
    assert "pommel api-keys create" in error["message"]


async def test_nothing_runs_for_an_unauthenticated_mutation(api: KeyClient) -> None:
    error = await api.error(CREATE_PROJECT)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert await Project.count() == 0


async def test_schema_details_do_not_leak_before_authentication(api: KeyClient) -> None:
    # An invalid document is refused for the missing key, not validated ("did you mean …").
    error = await api.error("{ projectz { id } }")
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer nonsense",
        "Bearer pml_00000000_" + "A" * 43,  # well-formed, unknown
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
async def test_bad_keys_are_unauthenticated(api: KeyClient, authorization: str) -> None:
    error = await api.error(PROJECTS, authorization=authorization)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_valid_key_works_and_a_revoked_one_stops_at_once(
    api: KeyClient, make_key: MakeKey
) -> None:
    key = await make_key("read", "write", name="laptop")
    assert (await api.data(PROJECTS, key=key))["projects"]["totalCount"] == 0
    # The scheme name is case-insensitive.
    assert await api.data(PROJECTS, authorization=f"bearer {key}")

    admin = await make_key("admin")
    listed = (await api.data("{ apiKeys { id name } }", key=admin))["apiKeys"]
    laptop = next(item["id"] for item in listed if item["name"] == "laptop")
    await api.data("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": laptop}, key=admin)

    error = await api.error(PROJECTS, key=key)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in error["message"] and "laptop" in error["message"]


async def test_a_key_differing_in_one_character_is_refused(
    api: KeyClient, make_key: MakeKey
) -> None:
    key = await make_key("read")
    last = key[-1]
    forged = key[:-1] + ("A" if last != "A" else "B")
    error = await api.error(PROJECTS, key=forged)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_health_check_and_graphiql_stay_open(api: KeyClient) -> None:
    health = await api.http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_introspection_needs_read(api: KeyClient, make_key: MakeKey) -> None:
    introspect = "{ __schema { queryType { name } } }"
    assert (await api.error(introspect))["extensions"]["code"] == "UNAUTHENTICATED"
    reader = await make_key("read")
    data = await api.data(introspect, key=reader)
    assert data["__schema"]["queryType"]["name"] == "Query"
    writer = await make_key("write")
    error = await api.error(introspect, key=writer)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["missingScope"] == "read"


async def test_without_auth_required_everything_is_allowed(gql: GraphQLClient) -> None:
    assert await gql.data(CREATE_PROJECT)
    assert await gql.data("{ apiKeys { id } webhooks { id } }")
    created = await gql.data('mutation { createApiKey(name: "k", scopes: ["read"]) { secret } }')
    assert created["createApiKey"]["secret"].startswith("pml_")


async def test_without_auth_required_keys_are_not_even_looked_at(gql: GraphQLClient) -> None:
    response = await gql.http.post(
        "/graphql",
        json={"query": CREATE_PROJECT},
        headers={"Authorization": "Bearer not-a-key"},
    )
    assert not response.json().get("errors")


def test_key_format_is_checked_before_any_lookup() -> None:
    assert api_keys.KEY_PATTERN.match("pml_0123abcd_" + "x" * 43)
    assert not api_keys.KEY_PATTERN.match("pml_0123abcd_" + "x" * 42)
    assert not api_keys.KEY_PATTERN.match("pml_0123ABCD_" + "x" * 43)
