"""Deliveries to a real receiver: signed, filtered, retried with backoff, recorded,
redelivered; a hanging or dead endpoint delays nobody else."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

from pommel import __version__
from pommel.events.webhook_signature import verify_signature
from tests.api.helpers import make_project, make_task
from tests.conftest import GraphQLClient
from tests.webhooks.conftest import create_webhook, deliveries, eventually, settled
from tests.webhooks.receiver import Receiver

UPDATE = "mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id redeliveryOf status } }"
EVENTS = "query($after: Int) { events(after: $after, first: 1000) { sequence type projectId } }"


async def _events(gql: GraphQLClient, after: int = 0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await gql.data(EVENTS, {"after": after}))["events"]
    return found


async def _head(gql: GraphQLClient) -> int:
    events = await _events(gql)
    return events[-1]["sequence"] if events else 0


async def test_a_delivery_is_signed_complete_and_recorded(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    await make_project(gql, "before")  # committed before the webhook: not delivered
    hook = await create_webhook(gql, url=receiver.url("a"))
    secret, hook_id = hook["secret"], hook["webhook"]["id"]
    project = await make_project(gql, "after")

    (request,) = await receiver.wait_for("a", 1)
    headers, body = request.headers, request.body
    assert verify_signature(secret, headers["pommel-signature"], body)
    assert not verify_signature("wrong secret value", headers["pommel-signature"], body)
    assert headers["pommel-event"] == "project.created"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"Pommel/{__version__}"
    assert headers["pommel-webhook"] == hook_id

    payload = json.loads(body)
    assert set(payload) == {
        "sequence", "type", "at", "projectId", "taskId", "workflowId", "runId",
        "step", "status", "message", "data",
    }  # fmt: skip
    assert payload["type"] == "project.created"
    assert payload["projectId"] == project and payload["taskId"] is None
    assert payload["at"].endswith("Z")
    assert payload["sequence"] == (await _events(gql))[-1]["sequence"]

    (delivery,) = await settled(gql, hook_id, 1)
    assert headers["pommel-delivery"] == delivery["id"]
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 1
    assert delivery["responseStatus"] == 200 and delivery["deliveredAt"] is not None
    assert delivery["eventSequence"] == payload["sequence"]
    assert delivery["payload"] == payload
    (attempt,) = delivery["history"]
    assert attempt["number"] == 1 and attempt["responseStatus"] == 200
    assert attempt["error"] is None and attempt["responseBody"] == "answer 200"


async def test_event_type_and_project_filters(gql: GraphQLClient, receiver: Receiver) -> None:
    first, second = await make_project(gql, "one"), await make_project(gql, "two")
    start = await _head(gql)
    await create_webhook(gql, url=receiver.url("all"))
    await create_webhook(gql, url=receiver.url("types"), eventTypes=["task.created"])
    await create_webhook(gql, url=receiver.url("group"), eventTypes=["project.*"])
    await create_webhook(gql, url=receiver.url("project"), projectId=second)
    await create_webhook(
        gql, url=receiver.url("both"), projectId=first, eventTypes=["task.created"]
    )

    await make_task(gql, first, "a")
    await make_task(gql, second, "b")
    await gql.data(
        'mutation($id: ID!) { updateProject(id: $id, input: {name: "uno"}) { id } }', {"id": first}
    )
    await make_project(gql, "three")

    events = await _events(gql, start)
    expected = {
        "all": events,
        "types": [e for e in events if e["type"] == "task.created"],
        "group": [e for e in events if e["type"].startswith("project.")],
        "project": [e for e in events if e["projectId"] == second],
        "both": [e for e in events if e["projectId"] == first and e["type"] == "task.created"],
    }
    assert len(expected["types"]) == 2 and len(expected["both"]) == 1 and expected["project"]
    for name, wanted in expected.items():
        await receiver.wait_for(name, len(wanted))
    await asyncio.sleep(0.3)  # anything extra would arrive by now
    for name, wanted in expected.items():
        got = [json.loads(r.body)["sequence"] for r in receiver.requests(name)]
        assert got == [e["sequence"] for e in wanted], name


async def test_failures_are_retried_with_backoff_until_delivered(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    hook = await create_webhook(gql, url=receiver.url("flaky"))
    receiver.fail("flaky", 2, status=500)
    await make_project(gql)

    requests = await receiver.wait_for("flaky", 3)
    assert len({r.headers["pommel-delivery"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same body every time
    assert all(
        verify_signature(hook["secret"], r.headers["pommel-signature"], r.body) for r in requests
    )
    first_gap, second_gap = requests[1].at - requests[0].at, requests[2].at - requests[1].at
    assert first_gap >= 0.18  # base 0.2 s (plus up to 10% jitter)
    assert second_gap >= 0.36 and second_gap > first_gap * 1.5  # then doubled

    (delivery,) = await settled(gql, hook["webhook"]["id"], 1)
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 3
    assert [a["responseStatus"] for a in delivery["history"]] == [500, 500, 200]
    assert [a["error"] for a in delivery["history"]] == ["HTTP 500", "HTTP 500", None]
    assert [a["number"] for a in delivery["history"]] == [1, 2, 3]
    assert delivery["lastError"] is None and delivery["nextAttemptAt"] is None


async def test_retry_after_is_honoured(gql: GraphQLClient, receiver: Receiver) -> None:
    await create_webhook(gql, url=receiver.url("busy"))
    receiver.fail("busy", 1, status=429, **{"Retry-After": "1"})
    await make_project(gql)
    first, second = await receiver.wait_for("busy", 2)
    assert second.at - first.at >= 0.95  # not the 0.2 s backoff


async def test_it_gives_up_after_the_last_attempt_and_can_redeliver(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    hook = await create_webhook(gql, url=receiver.url("dead"))
    hook_id = hook["webhook"]["id"]
    receiver.always("dead", 503)
    await make_project(gql)

    (failed,) = await settled(gql, hook_id, 1)
    assert failed["status"] == "FAILED" and failed["attempts"] == 4  # webhook_max_attempts
    assert failed["responseStatus"] == 503 and failed["lastError"] == "HTTP 503"
    assert failed["nextAttemptAt"] is None and len(failed["history"]) == 4
    assert len(receiver.requests("dead")) == 4

    receiver.always("dead", None)
    again = (await gql.data(REDELIVER, {"id": failed["id"]}))["redeliverWebhook"]
    assert again["redeliveryOf"] == failed["id"] and again["id"] != failed["id"]
    assert again["status"] == "PENDING"

    requests = await receiver.wait_for("dead", 5)
    assert requests[-1].body == requests[0].body
    assert requests[-1].headers["pommel-delivery"] == again["id"]
    original, redelivered = await settled(gql, hook_id, 2)
    assert original["status"] == "FAILED"  # the record of what happened stays
    assert redelivered["status"] == "DELIVERED" and redelivered["attempts"] == 1
    assert redelivered["eventSequence"] == original["eventSequence"]


async def test_redelivering_to_a_paused_webhook_is_a_conflict(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    hook_id = (await create_webhook(gql, url=receiver.url("p")))["webhook"]["id"]
    await make_project(gql)
    (delivery,) = await settled(gql, hook_id, 1)
    await gql.data(UPDATE, {"id": hook_id, "input": {"active": False}})
    error = await gql.error(REDELIVER, {"id": delivery["id"]})
    assert error["extensions"]["code"] == "CONFLICT"


async def test_a_paused_webhook_gets_nothing_and_resumes_from_now(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    hook_id = (await create_webhook(gql, url=receiver.url("p")))["webhook"]["id"]
    await gql.data(UPDATE, {"id": hook_id, "input": {"active": False}})
    await make_project(gql, "while paused")
    await gql.data(UPDATE, {"id": hook_id, "input": {"active": True}})
    resumed = await make_project(gql, "after")
    (request,) = await receiver.wait_for("p", 1)
    await asyncio.sleep(0.3)
    assert len(receiver.requests("p")) == 1
    assert json.loads(request.body)["projectId"] == resumed


async def test_a_hanging_receiver_does_not_delay_another_webhook(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    slow_id = (await create_webhook(gql, url=receiver.url("slow")))["webhook"]["id"]
    await create_webhook(gql, url=receiver.url("fast"))
    receiver.hang("slow", 30)
    started = time.monotonic()
    for number in range(6):
        await make_project(gql, f"p{number}")
    fast = await receiver.wait_for("fast", 6)
    # Every fast delivery arrived before even one slow request could time out (1 s).
    assert fast[-1].at - started < 0.9
    # The slow lane holds at most ``webhook_concurrency`` (4) requests at a time.
    assert len(receiver.requests("slow")) <= 4

    async def timed_out() -> bool:
        found = await deliveries(gql, slow_id)
        return any(a["error"] == "timed out after 1s" for d in found for a in d["history"])

    await eventually(timed_out, what="a recorded timeout")


async def test_a_dead_endpoint_is_recorded_as_a_connection_error(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead_id = (await create_webhook(gql, url=f"http://127.0.0.1:{closed_port}/x"))["webhook"]["id"]
    await create_webhook(gql, url=receiver.url("alive"))
    await make_project(gql)
    await receiver.wait_for("alive", 1)

    async def refused() -> bool:
        found = await deliveries(gql, dead_id)
        return bool(found and found[0]["history"])

    await eventually(refused, what="a recorded connection error")
    (delivery,) = await deliveries(gql, dead_id)
    assert delivery["history"][0]["responseStatus"] is None
    assert delivery["history"][0]["error"].startswith("ConnectError")
    assert delivery["status"] == "PENDING" and delivery["nextAttemptAt"] is not None


async def test_deleting_a_webhook_drops_its_pending_deliveries(
    gql: GraphQLClient, receiver: Receiver
) -> None:
    hook_id = (await create_webhook(gql, url=receiver.url("gone")))["webhook"]["id"]
    receiver.always("gone", 500)
    await make_project(gql)
    await receiver.wait_for("gone", 1)
    await gql.data("mutation($id: ID!) { deleteWebhook(id: $id) { id } }", {"id": hook_id})
    count = len(receiver.requests("gone"))
    await asyncio.sleep(0.6)  # past two backoff periods
    assert len(receiver.requests("gone")) == count
