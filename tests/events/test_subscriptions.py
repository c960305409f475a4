"""GraphQL subscriptions over a real WebSocket (graphql-transport-ws) against a real server."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from pommel.domain.status import TaskStatus
from pommel.events.log import latest_sequence
from pommel.ids import Kind, format_id
from pommel.services import dependencies, tasks
from tests.events import data
from tests.events.conftest import ALLOWED_ORIGIN, eventually
from tests.events.server import LiveServer
from tests.events.wsclient import ALL_EVENTS, PROJECT_EVENTS, RUN_EVENTS, GraphQLWS, seqs


async def test_every_change_arrives_in_order(live_server: LiveServer) -> None:
    db = live_server.runtime.db
    run = await live_server.run(lambda: data.new_run(live_server.runtime))
    project_id = format_id(Kind.PROJECT, run.project)
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        # No `after`: live events only, from the moment the subscription is registered.
        base = live_server.runtime.broker.stats.subscribers
        op = await ws.subscribe(PROJECT_EVENTS, {"projectId": project_id})
        await eventually(lambda: live_server.runtime.broker.stats.subscribers == base + 1)
        start = await live_server.run(latest_sequence)

        async def changes() -> None:
            other = await tasks.create_task(db, project_pk=run.project, name="Test")
            await tasks.update_task(db, pk=run.task, status=TaskStatus.IN_PROGRESS)
            await dependencies.add_dependency(db, task_pk=other.pk, depends_on_pk=run.task)
            await tasks.update_task(db, pk=other.pk, name="Test all", assignee="ada")
            await data.log_lines(db, run, 3)
            await tasks.delete_task(db, pk=other.pk)

        await live_server.run(changes)
        expected = await live_server.run(
            lambda: data.sequences(after=start, project_id=run.project)
        )
        received = await ws.events(op, len(expected))
    assert seqs(received) == expected
    assert [event["type"] for event in received][:2] == ["task.created", "task.updated"]
    assert received[-1]["type"] == "task.deleted"
    first = received[0]
    assert first["projectId"] == project_id
    assert first["taskId"].startswith("task-")
    log_event = next(event for event in received if event["type"] == "step.log")
    assert log_event["runId"] == run.run_id
    assert log_event["workflowId"] == format_id(Kind.WORKFLOW, run.workflow)
    assert log_event["data"] == {"line": 0, "pad": ""}
    assert log_event["step"] == "build"


async def test_live_only_without_after_and_type_filter(live_server: LiveServer) -> None:
    db = live_server.runtime.db
    run = await live_server.run(lambda: data.new_run(live_server.runtime))
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        base = live_server.runtime.broker.stats.subscribers
        op = await ws.subscribe(ALL_EVENTS, {"types": ["run.finished", "task.status_changed"]})
        await eventually(lambda: live_server.runtime.broker.stats.subscribers == base + 1)
        await live_server.run(lambda: data.log_lines(db, run, 5))
        await live_server.run(
            lambda: tasks.update_task(db, pk=run.task, status=TaskStatus.IN_PROGRESS)
        )
        await live_server.run(lambda: data.finish(db, run))
        received = await ws.events(op, 2)
    assert [event["type"] for event in received] == ["task.status_changed", "run.finished"]
    assert received[1]["status"] == "succeeded"


async def test_reconnect_with_after_gets_exactly_what_came_after(live_server: LiveServer) -> None:
    db = live_server.runtime.db
    run = await live_server.run(lambda: data.new_run(live_server.runtime))
    await live_server.run(lambda: data.log_lines(db, run, 12))
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run.run_id})  # from the run's start
        first = await ws.events(op, 12)
    assert [event["message"] for event in first] == [f"line {i}" for i in range(12)]

    resume_after = first[7]["sequence"]
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run.run_id, "after": resume_after})
        replayed = await ws.events(op, 4)
        await live_server.run(lambda: data.log_lines(db, run, 3))
        await live_server.run(lambda: data.finish(db, run))
        live, end = await ws.until_complete(op)
    assert seqs(replayed) == seqs(first)[8:]
    assert end["type"] == "complete"  # the run's RUN_FINISHED ends the subscription
    everything = await live_server.run(lambda: data.sequences(run_id=run.run))
    assert seqs(first)[:8] + seqs(replayed) + seqs(live) == everything
    assert live[-1]["type"] == "run.finished"


async def test_handover_under_concurrent_appends_loses_and_repeats_nothing(
    live_server: LiveServer,
) -> None:
    server = live_server
    db = server.runtime.db
    run = await server.run(lambda: data.new_run(server.runtime))
    hammer = server.spawn(lambda: data.log_lines(db, run, 60))
    async with GraphQLWS.connect(server.ws_url) as ws:
        ops: list[tuple[str, int | None]] = []
        for index in range(12):
            await asyncio.sleep(0.01)  # spread the subscriptions over the appends
            # Half from the run's start, half resuming a little behind the head of the log.
            head = await server.run(latest_sequence)
            after = max(head - 5 * index, 0) if index % 2 else None
            ops.append(
                (await ws.subscribe(RUN_EVENTS, {"runId": run.run_id, "after": after}), after)
            )
        await asyncio.wrap_future(hammer)
        await server.run(lambda: data.finish(db, run))
        everything = await server.run(lambda: data.sequences(run_id=run.run))
        for op, after in ops:
            received, end = await ws.until_complete(op, seconds=20)
            assert end["type"] == "complete"
            expected = [s for s in everything if after is None or s > after]
            assert seqs(received) == expected, f"subscription after={after}"


async def test_two_hundred_subscribers_see_the_identical_sequence(live_server: LiveServer) -> None:
    db = live_server.runtime.db
    broker = live_server.runtime.broker
    run = await live_server.run(lambda: data.new_run(live_server.runtime))
    await live_server.run(lambda: data.log_lines(db, run, 5))
    base = broker.stats.subscribers  # the app's own (the worker's, on PostgreSQL)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(GraphQLWS.connect(live_server.ws_url))
            for _ in range(20)
        ]
        ops = [
            (client, await client.subscribe(RUN_EVENTS, {"runId": run.run_id}))
            for client in clients
            for _ in range(10)
        ]
        await eventually(lambda: broker.stats.subscribers == base + 200, seconds=30)
        fetches = broker.stats.fetches
        await live_server.run(lambda: data.log_lines(db, run, 10))
        await live_server.run(lambda: data.finish(db, run))
        results = await asyncio.gather(
            *(client.until_complete(op, seconds=30) for client, op in ops)
        )
    expected = await live_server.run(lambda: data.sequences(run_id=run.run))
    assert len(expected) == 16
    for received, end in results:
        assert seqs(received) == expected
        assert end["type"] == "complete"
    # At most one read per wake-up (11 commits; on PostgreSQL each also comes back as a
    # NOTIFY), however many subscribers there are.
    assert broker.stats.fetches - fetches <= 11 * (2 if db.is_postgres else 1)


async def test_finished_run_replays_then_completes(live_server: LiveServer) -> None:
    db = live_server.runtime.db
    run = await live_server.run(lambda: data.new_run(live_server.runtime))
    await live_server.run(lambda: data.log_lines(db, run, 3))
    await live_server.run(lambda: data.finish(db, run, "failed"))
    base = live_server.runtime.broker.stats.subscribers
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run.run_id})
        received, end = await ws.until_complete(op)
        assert end["type"] == "complete"
        assert [event["type"] for event in received] == ["step.log"] * 3 + ["run.finished"]
        # Resuming after the end of a finished run: nothing more, and it still completes.
        op = await ws.subscribe(
            RUN_EVENTS, {"runId": run.run_id, "after": received[-1]["sequence"]}
        )
        received, end = await ws.until_complete(op)
        assert (received, end["type"]) == ([], "complete")
    assert live_server.runtime.broker.stats.subscribers == base


BAD_SUBSCRIPTIONS: list[tuple[str, dict[str, object], str]] = [
    (RUN_EVENTS, {"runId": "run-999999"}, "NOT_FOUND"),
    (RUN_EVENTS, {"runId": "task-1"}, "NOT_FOUND"),
    (RUN_EVENTS, {"runId": "nonsense"}, "NOT_FOUND"),
    (PROJECT_EVENTS, {"projectId": "proj-999999"}, "NOT_FOUND"),
    (ALL_EVENTS, {"types": ["task.updated", "no.such"]}, "VALIDATION_FAILED"),
    (ALL_EVENTS, {"after": -1}, "VALIDATION_FAILED"),
    ("subscription { events { nope } }", {}, "VALIDATION_FAILED"),
]


async def test_bad_subscriptions_get_errors_shaped_like_query_errors(
    live_server: LiveServer,
) -> None:
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        for document, variables, code in BAD_SUBSCRIPTIONS:
            op = await ws.subscribe(document, variables)
            message = await ws.message(op)
            assert message["type"] == "error", (variables, message)
            error = message["payload"][0]
            assert error["extensions"]["code"] == code, (variables, error)
            assert "Traceback" not in str(error)
    not_found = "no workflow run 'run-999999'"
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": "run-999999"})
        assert (await ws.message(op))["payload"][0]["message"] == not_found
        op = await ws.subscribe(ALL_EVENTS, {"types": ["no.such"]})
        fields = (await ws.message(op))["payload"][0]["extensions"]["fields"]
        assert fields["types"].startswith("unknown event type(s) no.such; known: ")


async def test_foreign_origin_is_refused_and_listed_origin_accepted(
    live_server: LiveServer,
) -> None:
    assert live_server.runtime.settings.allowed_origins == (ALLOWED_ORIGIN,)
    with pytest.raises(InvalidStatus) as refused:
        async with GraphQLWS.connect(live_server.ws_url, origin="https://evil.example.com"):
            pass
    assert refused.value.response.status_code == 403
    broker = live_server.runtime.broker
    async with GraphQLWS.connect(
        live_server.ws_url, origin=ALLOWED_ORIGIN, payload={"note": "keys plug in here"}
    ) as ws:
        base = broker.stats.subscribers
        op = await ws.subscribe(ALL_EVENTS, {})
        await eventually(lambda: broker.stats.subscribers == base + 1)
        await ws.complete(op)  # the client leaves: the broker forgets it
        await eventually(lambda: broker.stats.subscribers == base)


async def test_a_real_run_streams_from_queued_to_finished(live_server: LiveServer) -> None:
    """End to end with the engine: the run's events, live, then the subscription completes."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{live_server.port}") as http:

        async def gql(document: str, variables: dict[str, object]) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": document, "variables": variables})
            body: dict[str, Any] = response.json()
            assert not body.get("errors"), body
            return body["data"]  # type: ignore[no-any-return]

        project = await gql('mutation { createProject(input: {name: "Live"}) { id } }', {})
        task = await gql(
            'mutation($p: ID!) { createTask(input: {projectId: $p, name: "Echo"}) { id } }',
            {"p": project["createProject"]["id"]},
        )
        task_id = task["createTask"]["id"]
        await gql(
            "mutation($t: ID!) { createWorkflowFromTemplate(taskId: $t, templateId: "
            '"basic_task", parameters: {task_name: "echo", task_command: "echo hello"}) { id } }',
            {"t": task_id},
        )
        run = await gql(
            "mutation($t: ID!) { executeTaskWorkflow(taskId: $t) { id } }", {"t": task_id}
        )
    async with GraphQLWS.connect(live_server.ws_url) as ws:
        op = await ws.subscribe(RUN_EVENTS, {"runId": run["executeTaskWorkflow"]["id"]})
        received, end = await ws.until_complete(op, seconds=30)
    types = [event["type"] for event in received]
    assert types[0] == "run.queued"
    assert "run.started" in types and "step.finished" in types
    assert types[-1] == "run.finished"
    assert received[-1]["status"] == "succeeded", received[-1]
    assert end["type"] == "complete"
    assert seqs(received) == sorted(set(seqs(received)))
