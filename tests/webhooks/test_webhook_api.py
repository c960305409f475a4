"""Managing webhooks through GraphQL: validation, the secret shown once, updates, deletes."""

from __future__ import annotations

import pytest

from pommel.services.webhooks import webhook_secret
from tests.api.helpers import make_project
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import CREATE_WEBHOOK, create_webhook

UPDATE = """
mutation($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { id url description eventTypes projectId active }
}
"""


async def test_create_generates_a_secret_shown_once(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    created = await create_webhook(
        gql,
        url="https://hooks.example.com/pommel",
        eventTypes=["run.finished", "task.*"],
        projectId=project,
        description="CI notifications",
    )
    hook = created["webhook"]
    assert hook["id"] == "hook-1"
    assert hook["eventTypes"] == ["run.finished", "task.*"]
    assert hook["projectId"] == project and hook["active"] is True
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 32
    assert await webhook_secret(1) == created["secret"]

    listed = (await gql.data("{ webhooks { id url description deliveries { id } } }"))["webhooks"]
    assert listed == [
        {
            "id": "hook-1",
            "url": "https://hooks.example.com/pommel",
            "description": "CI notifications",
            "deliveries": [],
        }
    ]
    assert created["secret"] not in str(listed)
    error = await gql.error("{ webhooks { secret } }")
    assert error["extensions"]["code"] == "VALIDATION_FAILED"


async def test_a_supplied_secret_is_used_and_not_echoed(gql: GraphQLClient) -> None:
    created = await create_webhook(gql, url="http://x.test/h", secret="s" * 20)
    assert created["secret"] is None
    assert await webhook_secret(1) == "s" * 20


@pytest.mark.parametrize("types", [None, [], ["*"], ["*", "run.finished"]])
async def test_star_or_nothing_means_every_event(gql: GraphQLClient, types: list[str]) -> None:
    fields = {"url": "http://x.test/h"} | ({} if types is None else {"eventTypes": types})
    created = await create_webhook(gql, **fields)
    assert created["webhook"]["eventTypes"] == []


async def test_every_bad_field_is_named(gql: GraphQLClient) -> None:
    body = await gql.execute(
        CREATE_WEBHOOK,
        {
            "input": {
                "url": "ftp://files.example.com",
                "eventTypes": ["task.created", "task.exploded", "nope.*"],
                "secret": "short",
            }
        },
    )
    fields = body["errors"][0]["extensions"]["fields"]
    assert set(fields) == {"url", "eventTypes", "secret"}
    assert "http://" in fields["url"]
    assert "nope.*" in fields["eventTypes"] and "task.exploded" in fields["eventTypes"]
    assert "task.created," not in fields["eventTypes"].split(";")[0]
    assert "16 to 128" in fields["secret"]
    assert (await gql.data("{ webhooks { id } }"))["webhooks"] == []


@pytest.mark.parametrize("url", ["not a url", "http://", "javascript:alert(1)", ""])
async def test_urls_must_be_http_with_a_host(gql: GraphQLClient, url: str) -> None:
    error = await gql.error(CREATE_WEBHOOK, {"input": {"url": url}})
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "url" in error["extensions"]["fields"]


async def test_an_unknown_project_is_not_found(gql: GraphQLClient) -> None:
    error = await gql.error(
        CREATE_WEBHOOK, {"input": {"url": "http://x.test", "projectId": "proj-9"}}
    )
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_update_changes_only_what_is_given(gql: GraphQLClient) -> None:
    project = await make_project(gql)
    await create_webhook(gql, url="http://x.test/a", projectId=project, description="d")
    updated = (
        await gql.data(
            UPDATE, {"id": "hook-1", "input": {"active": False, "eventTypes": ["run.*"]}}
        )
    )["updateWebhook"]
    assert updated == {
        "id": "hook-1",
        "url": "http://x.test/a",
        "description": "d",
        "eventTypes": ["run.*"],
        "projectId": project,
        "active": False,
    }
    cleared = (await gql.data(UPDATE, {"id": "hook-1", "input": {"projectId": None}}))[
        "updateWebhook"
    ]
    assert cleared["projectId"] is None
    error = await gql.error(UPDATE, {"id": "hook-1", "input": {"url": "mailto:x@y"}})
    assert error["extensions"]["fields"].keys() == {"url"}
    await gql.data(UPDATE, {"id": "hook-1", "input": {"secret": "n" * 16}})
    assert await webhook_secret(1) == "n" * 16
    error = await gql.error(UPDATE, {"id": "hook-5", "input": {"active": True}})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_delete(gql: GraphQLClient) -> None:
    await create_webhook(gql, url="http://x.test/a")
    deleted = await gql.data('mutation { deleteWebhook(id: "hook-1") { id } }')
    assert deleted == {"deleteWebhook": {"id": "hook-1"}}
    assert (await gql.data("{ webhooks { id } }"))["webhooks"] == []
    error = await gql.error('mutation { deleteWebhook(id: "hook-1") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_redelivering_an_unknown_delivery_is_not_found(gql: GraphQLClient) -> None:
    error = await gql.error('mutation { redeliverWebhook(deliveryId: "dlv-4") { id } }')
    assert error["extensions"]["code"] == "NOT_FOUND"
