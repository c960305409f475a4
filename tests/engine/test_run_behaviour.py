"""The run engine's behaviour, end to end through GraphQL, on both executors: local host processes
and Dagger (the unmodified SDK against the engine double)."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from pommel.config import Settings
from pommel.ids import Kind, parse_id
from pommel.storage.tables import Event, LogLine, StepRun, WorkflowRun
from tests.conftest import GraphQLClient
from tests.dagger_double import DaggerDouble
from tests.dagger_double.helpers import process_alive, wait_for_file, wait_gone
from tests.engine.run_support import (
    CANCEL,
    TASK,
    add_template,
    execute,
    steps_by_name,
    task_with_template,
    template,
    wait_run,
)

SECRET = "s3cr3t-Value-42"
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("executor_kind", ["local", "dagger"], indirect=True),
]


@pytest.fixture
def executor_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "dagger":
        request.getfixturevalue("dagger_engine")
    return str(request.param)


@pytest.fixture
def settings(settings: Settings, executor_kind: str) -> Settings:
    return dataclasses.replace(
        settings, executor=executor_kind, secrets={"API_TOKEN": SECRET, "UNUSED": "zzz"}
    )


async def run_source(
    gql: GraphQLClient, source: str, *, skip_cache: bool = False
) -> tuple[str, dict[str, object]]:
    task = await task_with_template(gql, await add_template(gql, source))
    run = await wait_run(gql, await execute(gql, task, skip_cache=skip_cache))
    return task, run


def _time(text: object) -> datetime:
    return datetime.fromisoformat(str(text))


async def test_outputs_flow_downstream_and_become_run_outputs(gql: GraphQLClient) -> None:
    source = template(
        "outputs",
        """  - name: produce
    container:
      image: alpine:latest
      command: "echo working; echo '::set-output name=answer::42'; echo '::set-output name=who::world'"
    outputs: {first_line: "${result.output}"}
  - name: consume
    container:
      image: alpine:latest
      command: "echo hello ${steps.produce.outputs.who} ${steps.produce.outputs.answer}"
""",
        outputs="  greeting: {value: '${steps.consume.output}'}\n"
        "  answer: {value: '${steps.produce.outputs.answer}'}\n",
    )
    _, run = await run_source(gql, source)
    assert run["status"] == "SUCCEEDED", run
    steps = steps_by_name(run)
    assert steps["produce"]["outputs"]["answer"] == "42"
    assert steps["produce"]["exitCode"] == 0
    assert steps["consume"]["output"].strip() == "hello world 42"
    assert run["outputs"] == {"greeting": "hello world 42", "answer": "42"}
    assert run["task"]["status"] == "COMPLETED"
    # The full log is kept as lines, in order, per step.
    data = await gql.data(
        'query($id: ID!) { workflowRun(id: $id) { logs(step: "produce") { nodes { step stream text } } } }',
        {"id": run["id"]},
    )
    lines = [n["text"] for n in data["workflowRun"]["logs"]["nodes"] if n["stream"] == "stdout"]
    assert lines[0] == "working"


async def test_independent_steps_run_in_parallel_and_fan_in(gql: GraphQLClient) -> None:
    source = template(
        "fan_in",
        """  - name: left
    container: {image: alpine:latest, command: "sleep 0.6; echo '::set-output name=v::L'"}
  - name: right
    container: {image: alpine:latest, command: "sleep 0.6; echo '::set-output name=v::R'"}
  - name: join
    needs: [left, right]
    container: {image: alpine:latest, command: "echo ${steps.left.outputs.v}${steps.right.outputs.v}"}
""",
    )
    _, run = await run_source(gql, source)
    assert run["status"] == "SUCCEEDED", run
    steps = steps_by_name(run)
    left, right, join = steps["left"], steps["right"], steps["join"]
    # Each started before the other finished: they overlapped in time.
    assert _time(left["startedAt"]) < _time(right["finishedAt"])
    assert _time(right["startedAt"]) < _time(left["finishedAt"])
    assert _time(join["startedAt"]) >= max(_time(left["finishedAt"]), _time(right["finishedAt"]))
    assert join["output"].strip() == "LR"


async def test_failure_fails_the_run_skips_dependents_and_blocks_the_task(
    gql: GraphQLClient,
) -> None:
    source = template(
        "failing",
        """  - name: build
    container: {image: alpine:latest, command: "echo compiling; echo broken >&2; exit 3"}
  - name: deploy
    needs: build
    container: {image: alpine:latest, command: "echo deploying"}
""",
    )
    task, run = await run_source(gql, source)
    assert run["status"] == "FAILED"
    steps = steps_by_name(run)
    assert steps["build"]["status"] == "FAILED"
    assert steps["build"]["exitCode"] == 3
    assert steps["build"]["stderr"].strip() == "broken"
    assert steps["deploy"]["status"] == "SKIPPED"
    assert "exit code 3" in run["error"]
    found = (await gql.data(TASK, {"id": task}))["task"]
    assert found["status"] == "BLOCKED"
    assert run["id"] in found["statusReason"] and "exit code 3" in found["statusReason"]


async def test_step_timeout_and_run_timeout(gql: GraphQLClient) -> None:
    step_timeout = template(
        "slow_step",
        """  - name: slow
    timeout: 0.5s
    container: {image: alpine:latest, command: "sleep 5"}
""",
    )
    started = time.monotonic()
    _, run = await run_source(gql, step_timeout)
    assert time.monotonic() - started < 4
    assert run["status"] == "FAILED"
    assert "timeout" in steps_by_name(run)["slow"]["error"]
    run_timeout = template(
        "slow_run",
        """  - name: first
    container: {image: alpine:latest, command: "echo fast"}
  - name: second
    needs: first
    container: {image: alpine:latest, command: "sleep 5"}
  - name: third
    needs: second
    container: {image: alpine:latest, command: "echo never"}
""",
        extra="timeout: 1s\n",
    )
    started = time.monotonic()
    _, run = await run_source(gql, run_timeout)
    assert time.monotonic() - started < 4.5
    assert run["status"] == "FAILED"
    assert "timeout of 1s" in run["error"]
    steps = steps_by_name(run)
    assert steps["first"]["status"] == "SUCCEEDED"
    assert steps["second"]["status"] == "FAILED"
    assert steps["third"]["status"] == "SKIPPED"


async def test_cancel_stops_a_sleep_60_within_5_seconds(gql: GraphQLClient, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    source = template(
        "sleeper",
        f"""  - name: nap
    container: {{image: alpine:latest, command: "echo $$ > {pid_file}; exec sleep 60"}}
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    run_id = await execute(gql, task)
    pid = int(await wait_for_file(pid_file))
    assert process_alive(pid)
    started = time.monotonic()
    data = await gql.data(CANCEL, {"r": run_id})
    assert data["cancelWorkflowRun"]["cancelRequested"] is True
    run = await wait_run(gql, run_id, within=5)
    assert time.monotonic() - started < 5
    assert run["status"] == "CANCELLED"
    assert steps_by_name(run)["nap"]["status"] == "CANCELLED"
    assert await wait_gone([pid], within=2) == []
    found = (await gql.data(TASK, {"id": task}))["task"]
    assert found["status"] == "PLANNED"  # a cancelled run returns a task it started


async def test_retries_back_off_then_succeed(gql: GraphQLClient, tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    source = template(
        "flaky",
        f"""  - name: flaky
    retries: {{count: 3, backoff: 0.2s}}
    container:
      image: alpine:latest
      command: "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; echo attempt $n; [ $n -ge 3 ]"
""",
    )
    started = time.monotonic()
    _, run = await run_source(gql, source)
    elapsed = time.monotonic() - started
    assert run["status"] == "SUCCEEDED", run
    step = steps_by_name(run)["flaky"]
    assert step["attempts"] == 3
    assert step["output"].strip() == "attempt 3"
    assert counter.read_text().strip() == "3"
    assert elapsed >= 0.2 + 0.4  # backoff doubles: 0.2 s, then 0.4 s


async def test_cache_hit_then_skip_cache(
    gql: GraphQLClient, tmp_path: Path, executor_kind: str, request: pytest.FixtureRequest
) -> None:
    counter = tmp_path / "executions"
    source = template(
        "cached",
        f"""  - name: compute
    container:
      image: alpine:latest
      command: "echo x >> {counter}; echo '::set-output name=result::done'"
""",
    )
    task = await task_with_template(gql, await add_template(gql, source))
    first = await wait_run(gql, await execute(gql, task))
    second = await wait_run(gql, await execute(gql, task))
    assert [first["status"], second["status"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert steps_by_name(first)["compute"]["cached"] is False
    hit = steps_by_name(second)["compute"]
    assert hit["cached"] is True
    assert hit["outputs"] == {"result": "done"}
    assert counter.read_text().count("x") == 1  # not executed again
    third = await wait_run(gql, await execute(gql, task, skip_cache=True))
    assert steps_by_name(third)["compute"]["cached"] is False
    assert counter.read_text().count("x") == 2
    if executor_kind == "dagger":
        double: DaggerDouble = request.getfixturevalue("dagger_engine")
        busted = [p for p in double.pipelines if "CACHEBUSTER" in p.env]
        assert busted, "skipCache must bust Dagger's cache"


async def test_secrets_are_masked_everywhere(gql: GraphQLClient) -> None:
    source = template(
        "secretive",
        """  - name: use
    env: {TOKEN: "${secrets.API_TOKEN}"}
    container:
      image: alpine:latest
      command: "echo token=$TOKEN; echo err $TOKEN >&2; echo ::set-output name=leak::$TOKEN"
""",
        outputs="  leaked: {value: '${steps.use.outputs.leak}'}\n",
    )
    _, run = await run_source(gql, source)
    assert run["status"] == "SUCCEEDED", run
    step = steps_by_name(run)["use"]
    assert step["output"].splitlines()[0] == "token=***"
    assert step["stderr"].strip() == "err ***"
    assert step["outputs"] == {"leak": "***"}
    assert run["outputs"] == {"leaked": "***"}
    pk = parse_id(run["id"], Kind.RUN)
    stored = [
        json.dumps(await WorkflowRun.select().where(WorkflowRun.id == pk), default=str),
        json.dumps(await StepRun.select().where(StepRun.run == pk), default=str),
        json.dumps(await LogLine.select().where(LogLine.run == pk), default=str),
        json.dumps(await Event.select().where(Event.run_id == pk), default=str),
    ]
    assert all(SECRET not in text for text in stored)
    assert "token=***" in stored[2]


async def test_if_conditions(gql: GraphQLClient) -> None:
    source = template(
        "conditions",
        """  - name: probe
    container: {image: alpine:latest, command: "echo ::set-output name=flag::yes"}
  - name: when_yes
    needs: probe
    if: ${steps.probe.outputs.flag} == 'yes'
    container: {image: alpine:latest, command: "echo ran"}
  - name: when_no
    needs: probe
    if: ${steps.probe.outputs.flag} == 'no'
    container: {image: alpine:latest, command: "echo never"}
  - name: breaks
    needs: when_yes
    container: {image: alpine:latest, command: "exit 1"}
  - name: after_break
    needs: breaks
    container: {image: alpine:latest, command: "echo never"}
  - name: on_failure
    needs: breaks
    if: failure()
    container: {image: alpine:latest, command: "echo handling"}
  - name: cleanup
    needs: [breaks, after_break]
    if: always()
    container: {image: alpine:latest, command: "echo cleaning"}
""",
    )
    _, run = await run_source(gql, source)
    statuses = {name: step["status"] for name, step in steps_by_name(run).items()}
    assert statuses == {
        "probe": "SUCCEEDED",
        "when_yes": "SUCCEEDED",
        "when_no": "SKIPPED",
        "breaks": "FAILED",
        "after_break": "SKIPPED",
        "on_failure": "SUCCEEDED",
        "cleanup": "SUCCEEDED",
    }
    assert run["status"] == "FAILED"
