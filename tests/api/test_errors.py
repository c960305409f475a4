"""Error shaping: unexpected failures are masked with a request id; limits are enforced."""

from __future__ import annotations

import logging

import httpx
import pytest

from pommel.services import projects
from tests.conftest import GraphQLClient


async def test_unexpected_exception_is_masked_and_logged_with_request_id(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(**_: object) -> None:
        raise RuntimeError("secret database password in a traceback")

    monkeypatch.setattr(projects, "list_projects", explode)
    caplog.set_level(logging.ERROR, logger="pommel.api")
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ projects { totalCount } }"},
        headers={"X-Request-ID": "abc123"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "abc123"}
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.headers["x-request-id"] == "abc123"
    record = next(r for r in caplog.records if "unexpected error" in r.getMessage())
    assert "abc123" in record.getMessage()
    assert record.exc_info is not None and "secret" in str(record.exc_info[1])


async def test_syntax_errors_are_validation_failures(gql: GraphQLClient) -> None:
    error = await gql.error("{ projects { ")
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    error = await gql.error("{ projects { nope } }")
    assert error["extensions"]["code"] == "VALIDATION_FAILED"


async def test_depth_limit(gql: GraphQLClient) -> None:
    deep = "{ tasks { edges { node { " + "dependencies { " * 12 + "id" + " }" * 12 + " } } } }"
    error = await gql.error(deep)
    assert "exceeds maximum operation depth" in error["message"]


async def test_alias_limit(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: projects {{ totalCount }}" for i in range(40)) + " }"
    error = await gql.error(query)
    assert "aliases" in error["message"].lower()


async def test_healthz_and_request_ids(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json()["status"] == "ok"
    assert len(response.headers["x-request-id"]) == 16
