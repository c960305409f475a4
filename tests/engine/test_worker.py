"""The worker: concurrency, group commit, completion hooks, leases, shutdown and resume."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette

from pommel.config import Settings
from pommel.domain.status import RunStatus, StepStatus
from pommel.engine import leases
from pommel.engine.worker import FinishedRun, Worker
from pommel.runtime import Runtime
from pommel.services import runs
from pommel.services.run_queries import get_run, step_rows_of_runs
from pommel.storage.tables import Event, LogLine, WorkflowRun
from tests.engine.run_support import eventually, service_workflow, template, wait_finished

ONE_STEP = template("one", "  - name: only\n    container: {image: alpine, command: 'true'}\n")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, worker_concurrency=8)


def runtime_of(app: Starlette) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def test_runs_share_transactions_under_load(app: Starlette) -> None:
    runtime = runtime_of(app)
    workflows = await service_workflow(runtime, ONE_STEP, tasks=40)
    parts = runtime.worker.parts
    assert parts is not None
    before_tx, before_changes = parts.journal.transactions, parts.journal.changes
    # skipCache: every run executes its step (identical steps would be served from the cache).
    requests = [runs.RunRequest(pk, skip_cache=True) for pk in workflows]
    queued = await runs.queue_runs(runtime.db, requests)
    finished = [await wait_finished(run.pk) for run in queued]
    assert all(run.status is RunStatus.SUCCEEDED for run in finished)
    # A reader may see the last commit a moment before the journal counts it.
    await eventually(lambda: parts.journal.changes - before_changes >= 40 * 4, within=5)
    transactions = parts.journal.transactions - before_tx
    changes = parts.journal.changes - before_changes
    assert changes == 40 * 4  # start, step started, step finished, run finished
    assert transactions < changes / 2, (transactions, changes)
    # Each run's events are complete and in order.
    rows = (
        await Event.select(Event.type).where(Event.run_id == queued[0].pk).order_by(Event.sequence)
    )
    types = [row["type"] for row in rows if row["type"] != "step.log"]
    assert types == ["run.queued", "run.started", "step.started", "step.finished", "run.finished"]


async def test_concurrency_limit(app: Starlette, tmp_path: Path) -> None:
    runtime = runtime_of(app)
    gate = tmp_path / "gate"
    source = template(
        "gated",
        f"  - name: wait\n    container: {{image: alpine, command: 'while [ ! -f {gate} ]; do sleep 0.02; done'}}\n",
    )
    workflows = await service_workflow(runtime, source, tasks=10)
    queued = await runs.queue_runs(runtime.db, [runs.RunRequest(pk) for pk in workflows])
    await eventually(lambda: len(runtime.worker.running) == 8)
    await asyncio.sleep(0.2)
    assert len(runtime.worker.running) == 8
    statuses = [(await get_run(run.pk)).status for run in queued]
    assert statuses.count(RunStatus.QUEUED) == 2
    gate.write_text("go")
    assert all([(await wait_finished(r.pk)).status is RunStatus.SUCCEEDED for r in queued])


async def test_on_run_finished_is_called_after_the_final_record(app: Starlette) -> None:
    runtime = runtime_of(app)
    (workflow,) = await service_workflow(runtime, ONE_STEP)
    seen: list[tuple[FinishedRun, RunStatus]] = []

    async def record(finished: FinishedRun) -> None:
        # Called after the final transaction: the stored run already says so.
        seen.append((finished, (await get_run(finished.pk)).status))

    runtime.worker.on_run_finished(record)
    run = await runs.queue_run(runtime.db, workflow_pk=workflow, trigger="project")
    await wait_finished(run.pk)
    await eventually(lambda: bool(seen), within=5)
    finished, stored = seen[0]
    assert (finished.pk, finished.status, stored) == (
        run.pk,
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED,
    )
    assert finished.task_pk == run.task_pk and finished.workflow_pk == workflow


async def test_a_queued_run_cancelled_is_announced_too(app: Starlette, tmp_path: Path) -> None:
    runtime = runtime_of(app)
    gate = tmp_path / "gate"
    source = template(
        "busy",
        f"  - name: wait\n    container: {{image: alpine, command: 'while [ ! -f {gate} ]; do sleep 0.02; done'}}\n",
    )
    workflows = await service_workflow(runtime, source, tasks=9)
    seen: list[FinishedRun] = []
    runtime.worker.on_run_finished(seen.append)
    busy = await runs.queue_runs(runtime.db, [runs.RunRequest(pk) for pk in workflows[:8]])
    await eventually(lambda: len(runtime.worker.running) == 8)
    waiting = await runs.queue_run(runtime.db, workflow_pk=workflows[8])
    cancelled = await runs.request_cancel(runtime.db, pk=waiting.pk)
    assert cancelled.status is RunStatus.CANCELLED
    await eventually(lambda: bool(seen), within=5)
    assert [(f.pk, f.status) for f in seen] == [(waiting.pk, RunStatus.CANCELLED)]
    gate.write_text("go")
    for run in busy:
        await wait_finished(run.pk)


async def test_shutdown_keeps_the_run_and_the_next_start_resumes_it(
    app: Starlette, tmp_path: Path
) -> None:
    runtime = runtime_of(app)
    gate, first = tmp_path / "gate", tmp_path / "first"
    source = template(
        "resumable",
        f"""  - name: first
    container: {{image: alpine, command: "echo x >> {first}; echo ::set-output name=v::kept"}}
  - name: second
    needs: first
    container: {{image: alpine, command: "while [ ! -f {gate} ]; do sleep 0.02; done; echo ${{steps.first.outputs.v}}"}}
""",
    )
    (workflow,) = await service_workflow(runtime, source)
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    deadline = time.monotonic() + 10
    while True:
        rows = {s.name: s for s in (await step_rows_of_runs([run.pk]))[run.pk]}
        if "second" in rows and rows["second"].status is StepStatus.RUNNING:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await runtime.worker.stop()
    stopped = await get_run(run.pk)
    assert stopped.status is RunStatus.RUNNING  # a restart never cancels anybody's work
    assert stopped.claimed_by is None  # released: resumed at once by the next start
    gate.write_text("go")
    await runtime.worker.start()
    done = await wait_finished(run.pk)
    assert done.status is RunStatus.SUCCEEDED
    assert done.resumed == 1
    assert first.read_text().count("x") == 1
    steps = {s.name: s for s in (await step_rows_of_runs([run.pk]))[run.pk]}
    assert steps["second"].stdout.strip() == "kept"
    types = [r["type"] for r in await Event.select(Event.type).where(Event.run_id == run.pk)]
    assert types.count("run.resumed") == 1


async def test_a_live_lease_is_respected_and_an_expired_one_taken_over(app: Starlette) -> None:
    runtime = runtime_of(app)
    (workflow,) = await service_workflow(runtime, ONE_STEP)
    await runtime.worker.stop()
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    other = "elsewhere:1:abcd"
    fresh = datetime.now(UTC)
    async with runtime.db.write():
        await WorkflowRun.update(
            {
                WorkflowRun.status: "running",
                WorkflowRun.claimed_by: other,
                WorkflowRun.heartbeat_at: fresh,
            }
        ).where(WorkflowRun.id == run.pk)
    worker = Worker(
        db=runtime.db,
        settings=runtime.settings,
        templates=runtime.templates,
        lease_s=1.0,
        poll_s=0.1,
    )
    await worker.start()
    try:
        await asyncio.sleep(0.4)
        assert (await get_run(run.pk)).claimed_by == other  # its owner is alive
        done = await wait_finished(run.pk, within=10)  # the lease expires after 1 s
        assert done.status is RunStatus.SUCCEEDED
        assert done.resumed == 1
    finally:
        await worker.stop()
        await runtime.worker.start()


async def test_only_one_worker_takes_an_orphan_over(app: Starlette) -> None:
    runtime = runtime_of(app)
    (workflow,) = await service_workflow(runtime, ONE_STEP)
    await runtime.worker.stop()
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    async with runtime.db.write():
        await WorkflowRun.update(
            {
                WorkflowRun.status: "running",
                WorkflowRun.claimed_by: "gone:1:x",
                WorkflowRun.heartbeat_at: datetime.now(UTC) - timedelta(hours=1),
            }
        ).where(WorkflowRun.id == run.pk)
    orphan = await get_run(run.pk)
    results = await asyncio.gather(
        *(leases.take_over(runtime.db, orphan, f"worker-{n}") for n in range(5))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].resumed == 1
    await runtime.worker.start()


def test_when_an_owner_counts_as_gone() -> None:
    now = datetime.now(UTC)
    recent, old = now - timedelta(seconds=1), now - timedelta(seconds=60)
    me = leases.new_identity()
    host = me.split(":")[0]
    assert leases.owner_gone(None, None, lease_s=30, now=now)
    assert not leases.owner_gone("other-host:1:a", recent, lease_s=30, now=now)
    assert leases.owner_gone("other-host:1:a", old, lease_s=30, now=now)
    assert leases.owner_gone(f"{host}:999999999:a", recent, lease_s=30, now=now)  # no such pid
    assert not leases.owner_gone(me, recent, lease_s=30, now=now)


async def test_noisy_steps_write_their_log_in_batches(app: Starlette) -> None:
    runtime = runtime_of(app)
    source = template(
        "noisy", "  - name: talk\n    container: {image: alpine, command: 'seq 1 2000'}\n"
    )
    (workflow,) = await service_workflow(runtime, source)
    run = await runs.queue_run(runtime.db, workflow_pk=workflow)
    assert (await wait_finished(run.pk)).status is RunStatus.SUCCEEDED
    lines = (
        await LogLine.select(LogLine.text)
        .where((LogLine.run == run.pk) & (LogLine.step == "talk"))
        .order_by(LogLine.id)
    )
    assert [row["text"] for row in lines] == [str(n) for n in range(1, 2001)]
    events = (
        await Event.select(Event.data)
        .where((Event.run_id == run.pk) & (Event.type == "step.log") & (Event.step == "talk"))
        .order_by(Event.sequence)
        .output(load_json=True)
    )
    assert 1 <= len(events) <= 20
    firsts = [e["data"]["first"] for e in events]
    sizes = [len(e["data"]["lines"]) for e in events]
    assert firsts == [sum(sizes[:i]) for i in range(len(sizes))]
    assert sum(sizes) == 2000


async def test_a_fully_cached_rerun_of_50_steps_is_fast(app: Starlette) -> None:
    runtime = runtime_of(app)
    steps = "".join(
        f"  - name: s{i}\n    needs: [{'s' + str(i - 1) if i else ''}]\n"
        f"    container: {{image: alpine, command: 'echo {i}'}}\n"
        if i
        else "  - name: s0\n    container: {image: alpine, command: 'echo 0'}\n"
        for i in range(50)
    )
    (workflow,) = await service_workflow(runtime, template("chain", steps))
    first = await runs.queue_run(runtime.db, workflow_pk=workflow)
    assert (await wait_finished(first.pk, within=60)).status is RunStatus.SUCCEEDED
    started = time.monotonic()
    second = await runs.queue_run(runtime.db, workflow_pk=workflow)
    done = await wait_finished(second.pk)
    elapsed = time.monotonic() - started
    assert done.status is RunStatus.SUCCEEDED
    rows = (await step_rows_of_runs([second.pk]))[second.pk]
    assert len(rows) == 50 and all(row.cached for row in rows)
    assert elapsed < 1.0, elapsed  # ≈ 0.1-0.2 s here; generous for loaded CI machines
