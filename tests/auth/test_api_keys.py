"""API keys through the API: the secret is shown once, stored hashed, listed without it,
validated, revoked; ``lastUsedAt`` is recorded without a write per request."""

from __future__ import annotations

import re

import pytest

from pommel.runtime import Runtime
from pommel.services import api_keys, auth
from pommel.storage.tables import ApiKey
from tests.auth.conftest import KeyClient, MakeKey
from tests.conftest import GraphQLClient

CREATE_KEY = """
mutation($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) {
    secret apiKey { id name prefix scopes createdAt lastUsedAt revokedAt }
  }
}
"""
LIST_KEYS = "{ apiKeys { id name prefix scopes createdAt lastUsedAt revokedAt } }"
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"


async def test_create_returns_the_secret_once_and_stores_only_its_hash(
    gql: GraphQLClient,
) -> None:
    created = (await gql.data(CREATE_KEY, {"name": "ci", "scopes": ["read", "execute"]}))[
        "createApiKey"
    ]
    secret, key = created["secret"], created["apiKey"]
    assert re.fullmatch(r"pml_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", secret)
    assert key["id"] == "key-1" and key["name"] == "ci"
    assert secret.startswith(f"pml_{key['prefix']}_")
    assert key["scopes"] == ["read", "execute"]
    assert key["lastUsedAt"] is None and key["revokedAt"] is None

    listed = (await gql.data(LIST_KEYS))["apiKeys"]
    assert listed == [key]
    assert secret not in str(listed)
    # The type has no field that could return it.
    error = await gql.error("{ apiKeys { secret } }")
    assert error["extensions"]["code"] == "VALIDATION_FAILED"

    rows = await ApiKey.select()
    assert len(rows) == 1
    assert secret not in str(rows)
    assert rows[0]["secret_hash"] == api_keys.hash_key(secret)


async def test_scopes_are_deduplicated_and_ordered(gql: GraphQLClient) -> None:
    created = await gql.data(CREATE_KEY, {"name": "x", "scopes": ["admin", "READ", "read"]})
    assert created["createApiKey"]["apiKey"]["scopes"] == ["read", "admin"]


@pytest.mark.parametrize(
    ("key_name", "scopes", "field", "words"),
    [
        ("ci", [], "scopes", "at least one scope"),
        ("ci", ["read", "root"], "scopes", "unknown scope(s) root"),
        ("  ", ["read"], "name", "must not be empty"),
    ],
)
async def test_bad_input_names_the_field(
    gql: GraphQLClient, key_name: str, scopes: list[str], field: str, words: str
) -> None:
    error = await gql.error(CREATE_KEY, {"name": key_name, "scopes": scopes})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert words in error["extensions"]["fields"][field]
    assert await ApiKey.count() == 0


async def test_both_bad_fields_are_reported_at_once(gql: GraphQLClient) -> None:
    error = await gql.error(CREATE_KEY, {"name": "", "scopes": ["nope"]})
    assert set(error["extensions"]["fields"]) == {"name", "scopes"}


async def test_revoke_is_idempotent_and_unknown_keys_are_not_found(gql: GraphQLClient) -> None:
    key_id = (await gql.data(CREATE_KEY, {"name": "a", "scopes": ["read"]}))["createApiKey"][
        "apiKey"
    ]["id"]
    first = (await gql.data(REVOKE_KEY, {"id": key_id}))["revokeApiKey"]
    assert first["revokedAt"] is not None
    again = (await gql.data(REVOKE_KEY, {"id": key_id}))["revokeApiKey"]
    assert again["revokedAt"] == first["revokedAt"]
    listed = (await gql.data(LIST_KEYS))["apiKeys"]
    assert listed[0]["revokedAt"] == first["revokedAt"]

    error = await gql.error(REVOKE_KEY, {"id": "key-99"})
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await gql.error(REVOKE_KEY, {"id": "task-1"})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_last_used_is_recorded_at_most_once_a_minute(
    api: KeyClient, make_key: MakeKey, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    real_touch = api_keys.touch_api_key

    async def counting_touch(db: object, *, pk: int, at: object) -> None:
        writes.append(pk)
        await real_touch(db, pk=pk, at=at)  # type: ignore[arg-type]

    monkeypatch.setattr(api_keys, "touch_api_key", counting_touch)
    key = await make_key("admin")
    for _ in range(5):
        await api.data("{ __typename }", key=key)
    await runtime.auth.close()  # let the background write finish
    assert writes == [1]
    listed = (await api.data(LIST_KEYS, key=key))["apiKeys"]
    assert listed[0]["lastUsedAt"] is not None

    # A minute later the next use is recorded again.
    monkeypatch.setattr(auth, "TOUCH_INTERVAL_S", 0.0)
    await api.data("{ __typename }", key=key)
    await runtime.auth.close()
    assert writes == [1, 1]
