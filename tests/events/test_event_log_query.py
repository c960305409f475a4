"""The ``events`` query, for clients that poll instead of subscribing."""

from __future__ import annotations

from typing import Any

import httpx

from pommel.domain.status import TaskStatus
from pommel.events.log import latest_sequence
from pommel.ids import Kind, format_id
from pommel.services import tasks
from tests.events import data
from tests.events.server import LiveServer
from tests.events.wsclient import EVENT_FIELDS

EVENTS = f"""
query($after: Int, $first: Int, $types: [String!], $projectId: ID, $runId: ID) {{
  events(after: $after, first: $first, types: $types, projectId: $projectId, runId: $runId) {{
    {EVENT_FIELDS}
  }}
}}
"""


async def post(server: LiveServer, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        response = await http.post("/graphql", json={"query": EVENTS, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_polling_pages_through_the_log_with_filters(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    start = await live_server.run(latest_sequence)
    run = await live_server.run(lambda: data.new_run(runtime))
    await live_server.run(lambda: data.log_lines(runtime.db, run, 4))
    await live_server.run(
        lambda: tasks.update_task(runtime.db, pk=run.task, status=TaskStatus.IN_PROGRESS)
    )
    await live_server.run(lambda: data.finish(runtime.db, run))
    everything = await live_server.run(lambda: data.sequences(after=start))

    page = (await post(live_server, {"after": start, "first": 3}))["data"]["events"]
    assert [event["sequence"] for event in page] == everything[:3]
    assert page[0]["type"] == "project.created"
    assert page[0]["projectId"] == format_id(Kind.PROJECT, run.project)
    after_page = await post(live_server, {"after": page[-1]["sequence"], "first": 100})
    assert [e["sequence"] for e in after_page["data"]["events"]] == everything[3:]

    of_run = (await post(live_server, {"runId": run.run_id}))["data"]["events"]
    assert [event["type"] for event in of_run] == ["step.log"] * 4 + ["run.finished"]
    assert of_run[0]["data"] == {"line": 0, "pad": ""}
    typed = await post(
        live_server,
        {"after": start, "types": ["task.status_changed"], "projectId": page[0]["projectId"]},
    )
    assert [event["status"] for event in typed["data"]["events"]] == ["in_progress"]


async def test_polling_rejects_bad_arguments(live_server: LiveServer) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"first": 5000}, "first"),
        ({"after": -3}, "after"),
        ({"types": ["task.updated", "bogus"]}, "types"),
    ]
    for variables, field in cases:
        error = (await post(live_server, variables))["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION_FAILED", error
        assert field in error["extensions"]["fields"], error
    error = (await post(live_server, {"runId": "proj-1"}))["errors"][0]
    assert error["extensions"]["code"] == "NOT_FOUND"
