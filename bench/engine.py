"""Engine benchmark: a 500-task project against a bare asyncio floor; a cached re-run; start-up.

1. **Project execution.** A project of 500 tasks in a random DAG (``bench.process_floor``:
   layers of 8-24 tasks, 1-3 dependencies each), every task one ``sh -c true`` step (a task with
   ``metadata.command = "true"`` gets the ``basic_task`` workflow), run by the local executor
   with ``maxParallel: 8`` and ``worker_concurrency: 8``, every run, step, log line and event
   persisted in SQLite. Beside it, the **floor** measured in the same run: ``run_floor``
   spawning ``sh -c true`` for the same DAG, in the same dependency order, at most 8 at once.
   Goal: engine <= 1.5x the floor.

   *Timed* (engine): from calling ``ProjectScheduler.launch`` (reading the tasks, the project
   run row, the first batch of runs) until the last run's ``on_run_finished`` has been handled,
   by which point the scheduler has committed the project run as finished. *Not timed*:
   creating the database, project, tasks, dependencies and the 500 workflows (done once into a
   template file that each round copies, so every round starts from the same state), starting
   the runtime (migrations check, worker, executor) and stopping it. The runtime runs in this
   process with the heap frozen after start-up, as ``pommel serve``'s lifespan does.
   *Timed* (floor): from the first spawn to the last process reaped.

   The main figure runs with ``skip_cache``: identical ``sh -c true`` steps would otherwise be
   served from the step cache after the first few, and the figure is about 500 real processes.
   The variant with the cache on is reported too: it runs ~8 processes and serves the rest from
   the cache, so it is close to the engine's own bookkeeping alone. Floor and engine rounds
   alternate (floor, engine, cached, floor, …), after an untimed warm-up of both on a 16-task
   project; medians are reported. After timing, every round is checked from the database file
   with plain ``sqlite3``: each task ran exactly once and succeeded, after all its dependencies
   finished, never more than 8 at once, with its step and events stored. The same rows give
   where a run's time goes (``_timeline``). One more, untimed round counts the SQL it executes
   (statements, transactions, connections).

2. **Cached re-run.** A custom template of a 50-step chain (step *n* ``sh -c "echo n"``, needing
   step *n-1*), run once to fill the step cache, then run again: *timed* from ``queue_run`` to
   the run's ``on_run_finished`` (final state committed), every step checked ``cached``. Once
   with the cache in memory (same process), once after a restart of the runtime (the cache
   then answers from the database). Goal: <= 200 ms.

3. **Start-up.** ``python -m pommel serve`` on a free port with the repository's ``config/``
   and the local executor, *timed* from spawning the process until ``/healthz`` answers 200:
   on a fresh database file (migrations run) and on an already migrated one, alternated,
   medians. Python's own start and importing the app are reported for scale. Goal: < 1 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import REPO_DIR, BenchError, median, stamp, table, work_directory
from bench.process_floor import Dag, random_dag, run_floor
from pommel.config import Settings
from pommel.engine.worker import FinishedRun
from pommel.runtime import Runtime
from pommel.services import projects, runs, tasks, templates, workflows
from pommel.services.project_runs import get_project_run
from pommel.services.records import TaskRecord
from pommel.services.run_queries import step_rows_of_runs
from pommel.services.templates import TemplateRegistry
from pommel.services.workflows import derive_workflow
from pommel.storage.database import Database
from pommel.storage.tables import Task

TITLE = "Engine: 500-task DAG vs a bare asyncio floor; cached 50-step re-run; serve start-up"

DAG_SEED = 20261122
MAX_PARALLEL = 8
FLOOR_GOAL = 1.5  # engine seconds / floor seconds, at most
RERUN_GOAL_MS = 200.0
STARTUP_GOAL_MS = 1000.0
CHAIN_TEMPLATE = "bench-chain"
RUN_TIMEOUT_S = 600.0
#: Run once, untimed, before the rounds: the first spawns and the first run's code paths
#: (lazy imports, caches) are not what the figures are about.
WARM_UP_DAG = random_dag(16, seed=DAG_SEED + 1, min_width=MAX_PARALLEL)


@dataclass(frozen=True)
class Plan:
    tasks: int
    rounds: int  # floor / engine / engine-with-cache rounds, alternated
    cached_variant: bool
    count_sql: bool
    chain_steps: int
    reruns: int  # timed cached re-runs in memory (one more after a restart)
    startups: int  # per kind (fresh file, migrated file)


FULL = Plan(
    tasks=500,
    rounds=5,
    cached_variant=True,
    count_sql=True,
    chain_steps=50,
    reruns=5,
    startups=5,
)
QUICK = Plan(
    tasks=100,
    rounds=1,
    cached_variant=False,
    count_sql=False,
    chain_steps=50,
    reruns=2,
    startups=1,
)


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    result = asyncio.run(_run(plan))
    result = {**stamp(quick), **result}
    result["table"] = _table(result)
    for line in _legend(result):
        print(line)
    return result


async def _run(plan: Plan) -> dict[str, Any]:
    with work_directory("pommel-bench-engine-") as work:
        dag = random_dag(plan.tasks, seed=DAG_SEED, min_width=MAX_PARALLEL)
        template_db = work / "template.sqlite"
        started = time.perf_counter()
        project_pk = await _prepare_project(template_db, dag, "Engine benchmark")
        warm_up = Workload(WARM_UP_DAG, await _prepare_project(template_db, WARM_UP_DAG, "Warm-up"))
        prepare_s = time.perf_counter() - started
        project = await _project_rounds(plan, Workload(dag, project_pk), warm_up, template_db, work)
        project["prepare_s"] = round(prepare_s, 2)
        rerun = await _cached_rerun(plan, template_db, work)
    startup = await asyncio.to_thread(_startup, plan)
    return {"project": project, "cached_rerun": rerun, "startup": startup}


# --------------------------------------------------------------------------------------------
# Project execution: preparation (not timed)


async def _prepare_project(path: Path, dag: Dag, name: str) -> int:
    """A project with its tasks, dependencies and one workflow per task, in a migrated
    database file (created if missing).

    Rows are bulk-inserted as in ``bench.seed``; the workflows are derived by Pommel's own
    ``derive_workflow`` (``basic_task`` rendered per task) and bulk-inserted too.
    """
    registry = TemplateRegistry()
    registry.load_files()
    db = Database(f"sqlite:///{path}")
    await db.connect()
    try:
        at = str(datetime.now(UTC))
        async with db.write() as transaction:
            conn = transaction.connection
            cursor = await conn.execute(
                "INSERT INTO project (name, description, metadata, created_at, updated_at)"
                " VALUES (?, '', '{}', ?, ?) RETURNING id",
                (name, at, at),
            )
            project_pk = int((await cursor.fetchone())["id"])
            await cursor.close()
            await conn.executemany(
                "INSERT INTO task (project, name, description, status, priority, priority_rank,"
                " metadata, created_at, updated_at)"
                " VALUES (?, ?, '', 'planned', 'medium', 1, ?, ?, ?)",
                [
                    (project_pk, f"t{n}", json.dumps({"command": "true"}), at, at)
                    for n in range(dag.tasks)
                ],
            )
            cursor = await conn.execute(
                "SELECT id FROM task WHERE project = ? ORDER BY id", (project_pk,)
            )
            pks = [int(row["id"]) for row in await cursor.fetchall()]
            await cursor.close()
            await conn.executemany(
                "INSERT INTO task_dependency (task, depends_on) VALUES (?, ?)",
                [(pks[task], pks[dep]) for task, deps in enumerate(dag.deps) for dep in deps],
            )
        records = [
            TaskRecord.from_row(row)
            for row in await _select_tasks(project_pk)  # as the services read them
        ]
        rows = []
        for task in records:
            derived = await derive_workflow(registry, task=task)
            rows.append(
                (
                    project_pk,
                    task.pk,
                    task.name,
                    derived.workflow_type,
                    derived.template_id,
                    json.dumps(derived.parameters, default=str),
                    json.dumps(derived.definition, default=str),
                    at,
                    at,
                )
            )
        async with db.write() as transaction:
            await transaction.connection.executemany(
                "INSERT INTO workflow (project, task, name, type, template_id, parameters,"
                " definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        async with db.write() as transaction:
            await transaction.connection.execute("ANALYZE")
    finally:
        await db.close()
    _checkpoint(path)
    return project_pk


async def _select_tasks(project_pk: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Task.select()
        .where(Task.project == project_pk)
        .order_by(Task.id)
        .output(load_json=True)
    )
    return rows


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so copying the file copies the whole database."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _copy_database(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# --------------------------------------------------------------------------------------------
# Project execution: the timed rounds


@dataclass(frozen=True)
class Workload:
    """A DAG and the project that holds it in the template database."""

    dag: Dag
    project_pk: int


@dataclass
class EngineRound:
    seconds: float
    project_run_pk: int
    journal_transactions: int
    journal_changes: int
    db_path: Path


async def _project_rounds(
    plan: Plan, workload: Workload, warm_up: Workload, template_db: Path, work: Path
) -> dict[str, Any]:
    dag, project_pk = workload.dag, workload.project_pk
    await run_floor(warm_up.dag, limit=MAX_PARALLEL)
    warm = await _engine_round(template_db, warm_up.project_pk, work, "warm-up", True)
    _check_round(warm.db_path, warm.project_run_pk, warm_up.dag, skip_cache=True)
    floor_s: list[float] = []
    engine_s: list[float] = []
    cached_s: list[float] = []
    floor_peak = 0
    rounds: list[EngineRound] = []
    cached_rounds: list[EngineRound] = []
    for index in range(plan.rounds):
        floor = await run_floor(dag, limit=MAX_PARALLEL)
        floor_s.append(floor.seconds)
        floor_peak = max(floor_peak, floor.max_running)
        engine = await _engine_round(template_db, project_pk, work, f"skip-{index}", True)
        engine_s.append(engine.seconds)
        rounds.append(engine)
        if plan.cached_variant:
            cached = await _engine_round(template_db, project_pk, work, f"cache-{index}", False)
            cached_s.append(cached.seconds)
            cached_rounds.append(cached)
    checks = [_check_round(r.db_path, r.project_run_pk, dag, skip_cache=True) for r in rounds]
    cached_checks = [
        _check_round(r.db_path, r.project_run_pk, dag, skip_cache=False) for r in cached_rounds
    ]
    timelines = [_timeline(r) for r in rounds]
    sql: dict[str, Any] | None = None
    if plan.count_sql:
        with _sql_counter() as counted:
            counted_round = await _engine_round(template_db, project_pk, work, "counted", True)
        _check_round(counted_round.db_path, counted_round.project_run_pk, dag, skip_cache=True)
        sql = {
            "seconds": round(counted_round.seconds, 3),
            "per_task": {k: round(v / dag.tasks, 2) for k, v in sorted(counted.items())},
            "journal_transactions_per_task": round(
                counted_round.journal_transactions / dag.tasks, 2
            ),
            "journal_changes_per_task": round(counted_round.journal_changes / dag.tasks, 2),
        }
    floor_median, engine_median = median(floor_s), median(engine_s)
    ratio = engine_median / floor_median
    result: dict[str, Any] = {
        "dag": {**dag.describe(), "seed": DAG_SEED},
        "max_parallel": MAX_PARALLEL,
        "rounds": plan.rounds,
        "floor_s": [round(s, 3) for s in floor_s],
        "engine_s": [round(s, 3) for s in engine_s],
        "floor_median_s": round(floor_median, 3),
        "engine_median_s": round(engine_median, 3),
        "floor_max_running": floor_peak,
        "ratio": round(ratio, 3),
        "round_ratios": [round(e / f, 3) for e, f in zip(engine_s, floor_s, strict=True)],
        "goal": FLOOR_GOAL,
        "meets_goal": ratio <= FLOOR_GOAL,
        "engine_ms_per_task": round(engine_median / dag.tasks * 1000, 2),
        "overhead_ms_per_task": round((engine_median - floor_median) / dag.tasks * 1000, 2),
        "journal_transactions_per_task": round(
            median([r.journal_transactions for r in rounds]) / dag.tasks, 2
        ),
        "checks": checks[-1],
        "timeline_ms": {key: round(median([t[key] for t in timelines]), 2) for key in timelines[0]},
    }
    if plan.cached_variant:
        result["cached_variant"] = {
            "engine_s": [round(s, 3) for s in cached_s],
            "engine_median_s": round(median(cached_s), 3),
            "ms_per_task": round(median(cached_s) / dag.tasks * 1000, 2),
            "checks": cached_checks[-1],
        }
    if sql is not None:
        result["sql"] = sql
    return result


async def _engine_round(
    template_db: Path, project_pk: int, work: Path, name: str, skip_cache: bool
) -> EngineRound:
    db_path = work / f"engine-{name}.sqlite"
    url = _copy_database(template_db, db_path)
    settings = Settings(
        database_url=url,
        executor="local",
        work_dir=work / "runs",
        worker_concurrency=MAX_PARALLEL,
    )
    runtime = Runtime(settings=settings, db=Database(url))
    expected = len(_task_pks_of(db_path, project_pk))
    async with runtime.running():
        loop = asyncio.get_running_loop()
        finished_at: asyncio.Future[float] = loop.create_future()
        finished = 0

        def on_finished(run: FinishedRun) -> None:
            # Called after the scheduler's own callback (it subscribed first, at start-up), so
            # for the last run the project run is already recorded as finished.
            nonlocal finished
            if run.project_run_pk is None:
                return
            finished += 1
            if finished == expected and not finished_at.done():
                finished_at.set_result(time.perf_counter())

        unsubscribe = runtime.worker.on_run_finished(on_finished)
        parts = runtime.worker.parts
        assert parts is not None
        journal = parts.journal
        transactions, changes = journal.transactions, journal.changes
        gc.collect()
        gc.freeze()  # as the app's lifespan does after start-up
        try:
            begin = time.perf_counter()
            launched = await runtime.projects.launch(
                project_pk=project_pk, max_parallel=MAX_PARALLEL, skip_cache=skip_cache
            )
            try:
                end = await asyncio.wait_for(finished_at, RUN_TIMEOUT_S)
            except TimeoutError:
                raise BenchError(
                    f"engine round {name}: {finished}/{expected} runs finished "
                    f"after {RUN_TIMEOUT_S:g} s"
                ) from None
            record = await get_project_run(launched.pk)
            while not record.status.finished:  # not expected: the callback order says so
                await asyncio.sleep(0.005)
                record = await get_project_run(launched.pk)
                end = time.perf_counter()
        finally:
            gc.unfreeze()
            unsubscribe()
        if record.status.value != "succeeded":
            raise BenchError(f"engine round {name}: project run {record.status.value}")
        return EngineRound(
            seconds=end - begin,
            project_run_pk=launched.pk,
            journal_transactions=journal.transactions - transactions,
            journal_changes=journal.changes - changes,
            db_path=db_path,
        )


def _task_pks_of(path: Path, project_pk: int) -> list[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT id FROM task WHERE project = ? ORDER BY id", (project_pk,)
        ).fetchall()
    return [int(row[0]) for row in rows]


def _timestamp(value: str | None) -> datetime:
    if value is None:
        raise BenchError("a finished run has no start or finish time")
    return datetime.fromisoformat(value)


def _check_round(path: Path, project_run_pk: int, dag: Dag, *, skip_cache: bool) -> dict[str, Any]:
    """Check a round from its database file with plain ``sqlite3`` (not through Pommel)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        run_rows = conn.execute(
            "SELECT id, task, status, started_at, finished_at FROM workflow_run"
            " WHERE project_run = ? AND parent_run IS NULL",
            (project_run_pk,),
        ).fetchall()
        steps = conn.execute(
            "SELECT s.run, s.status, s.cached FROM step_run s JOIN workflow_run r ON r.id = s.run"
            " WHERE r.project_run = ?",
            (project_run_pk,),
        ).fetchall()
        run_ids = [row["id"] for row in run_rows]
        events = Counter(
            row["type"]
            for row in conn.execute(
                f"SELECT type FROM event WHERE run_id IN ({','.join('?' * len(run_ids))})",
                run_ids,
            )
        )
        (project_pk,) = conn.execute(
            "SELECT project FROM project_run WHERE id = ?", (project_run_pk,)
        ).fetchone()
        task_events = conn.execute(
            "SELECT COUNT(*) FROM event WHERE type = 'task.status_changed' AND project_id = ?",
            (project_pk,),
        ).fetchone()[0]
        project_events = conn.execute(
            "SELECT COUNT(*) FROM event WHERE type LIKE 'project_run.%' AND project_id = ?",
            (project_pk,),
        ).fetchone()[0]
        task_rows = conn.execute(
            "SELECT id, status FROM task WHERE project = ? ORDER BY id", (project_pk,)
        ).fetchall()
    task_pks = [row["id"] for row in task_rows]
    index_of = {pk: i for i, pk in enumerate(task_pks)}
    if len(task_pks) != dag.tasks:
        raise BenchError(f"round check: {len(task_pks)} tasks, expected {dag.tasks}")
    by_task: dict[int, sqlite3.Row] = {}
    for row in run_rows:
        if row["task"] in by_task:
            raise BenchError(f"round check: task {row['task']} ran more than once")
        by_task[row["task"]] = row
    failed = [row["id"] for row in run_rows if row["status"] != "succeeded"]
    if len(by_task) != dag.tasks or failed:
        raise BenchError(f"round check: {len(by_task)} runs, {len(failed)} not succeeded")
    if any(row["status"] != "completed" for row in task_rows):
        raise BenchError("round check: a task is not completed")
    if len(steps) != dag.tasks or any(s["status"] != "succeeded" for s in steps):
        raise BenchError(f"round check: {len(steps)} step rows, not all succeeded")
    cached = sum(1 for s in steps if s["cached"])
    if skip_cache and cached:
        raise BenchError(f"round check: {cached} steps cached despite skip_cache")
    windows = {
        index_of[pk]: (_timestamp(row["started_at"]), _timestamp(row["finished_at"]))
        for pk, row in by_task.items()
    }
    for task, deps in enumerate(dag.deps):
        for dep in deps:
            if windows[task][0] < windows[dep][1]:
                raise BenchError(f"round check: task {task} started before dependency {dep} ended")
    edges = sorted(
        [(start, 1) for start, _ in windows.values()] + [(end, -1) for _, end in windows.values()],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same instant
    )
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    if peak > MAX_PARALLEL:
        raise BenchError(f"round check: {peak} runs at once, limit {MAX_PARALLEL}")
    for kind in ("run.queued", "run.started", "step.started", "step.finished", "run.finished"):
        wanted = dag.tasks if kind != "step.started" or skip_cache else dag.tasks - cached
        if events[kind] != wanted:
            raise BenchError(f"round check: {events[kind]} {kind} events, expected {wanted}")
    if task_events < dag.tasks or project_events != 2:
        raise BenchError(
            f"round check: {task_events} task status events, {project_events} project run events"
        )
    return {
        "runs": len(run_rows),
        "steps": len(steps),
        "cached_steps": cached,
        "max_running": peak,
        "run_events": sum(events.values()),
        "task_status_events": task_events,
        "project_run_events": project_events,
    }


def _timeline(round_: EngineRound) -> dict[str, float]:
    """Where a run's time goes, from the round's rows and events: the mean of each stretch
    over the round's runs, in milliseconds. An event's ``at`` is when it was appended, in the
    transaction that committed it.

    - ``queued_to_begin``: the run's queued commit until its runner began (worker wake-up,
      claim, reading the run);
    - ``begin_to_step``: until its step started;
    - ``step``: the step itself (spawn, the process, output, exit);
    - ``step_to_end``: until the runner finished the run;
    - ``end_to_commit``: until the journal committed the final state;
    - ``slot_idle``: how long, per run, one of the ``max_parallel`` slots held no run (from one
      run's final commit until the scheduler's next queued commit fills the slot).
    """
    with contextlib.closing(sqlite3.connect(round_.db_path)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT r.id, r.started_at, r.finished_at, s.started_at AS step_started,"
            " s.finished_at AS step_finished FROM workflow_run r JOIN step_run s ON s.run = r.id"
            " WHERE r.project_run = ?",
            (round_.project_run_pk,),
        ).fetchall()
        at: dict[tuple[int, str], datetime] = {
            (row["run_id"], row["type"]): _timestamp(row["at"])
            for row in conn.execute(
                "SELECT e.run_id, e.type, e.at FROM event e JOIN workflow_run r ON r.id = e.run_id"
                " WHERE r.project_run = ? AND e.type IN ('run.queued', 'run.finished')",
                (round_.project_run_pk,),
            )
        }

    def ms(start: datetime, end: datetime) -> float:
        return (end - start).total_seconds() * 1000

    stretches: dict[str, list[float]] = {
        "queued_to_begin": [],
        "begin_to_step": [],
        "step": [],
        "step_to_end": [],
        "end_to_commit": [],
    }
    held = 0.0
    for row in rows:
        queued, committed = at[(row["id"], "run.queued")], at[(row["id"], "run.finished")]
        begin, end = _timestamp(row["started_at"]), _timestamp(row["finished_at"])
        step_begin, step_end = _timestamp(row["step_started"]), _timestamp(row["step_finished"])
        stretches["queued_to_begin"].append(ms(queued, begin))
        stretches["begin_to_step"].append(ms(begin, step_begin))
        stretches["step"].append(ms(step_begin, step_end))
        stretches["step_to_end"].append(ms(step_end, end))
        stretches["end_to_commit"].append(ms(end, committed))
        held += ms(queued, committed)
    timeline = {key: sum(values) / len(values) for key, values in stretches.items()}
    available = MAX_PARALLEL * round_.seconds * 1000
    timeline["slot_idle"] = max(0.0, available - held) / len(rows)
    return timeline


@contextlib.contextmanager
def _sql_counter() -> Iterator[Counter[str]]:
    """Count SQLite statements (by first keyword) and connections opened in this process.

    Wraps ``sqlite3.connect`` (aiosqlite and the inline reader connect through it) and sets a
    trace callback on each connection; restored on exit. The counting itself costs time, so
    the round run under it is not one of the timed ones.
    """
    counted: Counter[str] = Counter()
    lock = threading.Lock()
    connect = sqlite3.connect

    def trace(statement: str) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        with lock:
            counted[word.lower()] += 1
            counted["statements"] += 1

    def counting_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(trace)
        with lock:
            counted["connections"] += 1
        return connection

    sqlite3.connect = counting_connect  # type: ignore[assignment]
    try:
        yield counted
    finally:
        sqlite3.connect = connect


# --------------------------------------------------------------------------------------------
# Cached re-run of a 50-step workflow


def chain_template(steps: int) -> str:
    """A template of ``steps`` steps, each ``sh -c "echo N"`` after the one before."""
    lines = [
        "metadata:",
        f"  name: {CHAIN_TEMPLATE}",
        f"  description: A chain of {steps} trivial steps (engine benchmark)",
        "  version: 1.0.0",
        "  category: bench",
        "steps:",
    ]
    for n in range(1, steps + 1):
        lines.append(f"  - name: s{n}")
        if n > 1:
            lines.append(f"    needs: [s{n - 1}]")
        lines.append(f'    container: {{image: "alpine:latest", command: "echo {n}"}}')
    return "\n".join(lines) + "\n"


async def _timed_run(runtime: Runtime, workflow_pk: int, steps: int) -> tuple[float, int]:
    """Queue a run of the workflow and wait until it is recorded; its seconds (timed from
    ``queue_run`` to the run's ``on_run_finished``) and how many of its steps were cached."""

    loop = asyncio.get_running_loop()
    done: dict[int, asyncio.Future[float]] = {}
    early: dict[int, float] = {}

    def on_finished(run: FinishedRun) -> None:
        now = time.perf_counter()
        future = done.get(run.pk)
        if future is None:
            early[run.pk] = now  # finished before queue_run returned (unlikely)
        elif not future.done():
            future.set_result(now)

    unsubscribe = runtime.worker.on_run_finished(on_finished)
    try:
        begin = time.perf_counter()
        queued = await runs.queue_run(runtime.db, workflow_pk=workflow_pk, trigger="bench")
        future = done[queued.pk] = loop.create_future()
        if queued.pk in early:
            future.set_result(early[queued.pk])
        try:
            end = await asyncio.wait_for(future, RUN_TIMEOUT_S)
        except TimeoutError:
            raise BenchError(f"run {queued.pk} did not finish in {RUN_TIMEOUT_S:g} s") from None
    finally:
        unsubscribe()
    rows = (await step_rows_of_runs([queued.pk]))[queued.pk]
    if len(rows) != steps or any(row.status.value != "succeeded" for row in rows):
        raise BenchError(f"cached re-run: run {queued.pk} did not succeed in every step")
    return end - begin, sum(1 for row in rows if row.cached)


async def _cached_rerun(plan: Plan, template_db: Path, work: Path) -> dict[str, Any]:
    url = _copy_database(template_db, work / "rerun.sqlite")
    settings = Settings(
        database_url=url, executor="local", work_dir=work / "runs", worker_concurrency=4
    )
    steps = plan.chain_steps

    async def all_cached(runtime: Runtime, workflow_pk: int) -> float:
        gc.collect()
        gc.freeze()  # as the app's lifespan does after start-up
        try:
            seconds, cached = await _timed_run(runtime, workflow_pk, steps)
        finally:
            gc.unfreeze()
        if cached != steps:
            raise BenchError(f"cached re-run: only {cached} of {steps} steps were cached")
        return seconds

    runtime = Runtime(settings=settings, db=Database(url))
    async with runtime.running():
        await templates.create_template(runtime.db, runtime.templates, source=chain_template(steps))
        project = await projects.create_project(runtime.db, name="Cached re-run")
        task = await tasks.create_task(runtime.db, project_pk=project.pk, name="chain")
        workflow = await workflows.create_workflow_from_template(
            runtime.db, runtime.templates, task_pk=task.pk, template_id=CHAIN_TEMPLATE
        )
        first_s, first_cached = await _timed_run(runtime, workflow.pk, steps)
        if first_cached:
            raise BenchError(f"cached re-run: the first run had {first_cached} cached steps")
        memory = [await all_cached(runtime, workflow.pk) for _ in range(plan.reruns)]
    # A restart: the in-memory cache is empty, every step is looked up in the database.
    runtime = Runtime(settings=settings, db=Database(url))
    async with runtime.running():
        restarted_s = await all_cached(runtime, workflow.pk)
    memory_ms = median(memory) * 1000
    return {
        "steps": steps,
        "shape": "chain",
        "first_run_ms": round(first_s * 1000, 1),
        "rerun_ms": [round(s * 1000, 1) for s in memory],
        "rerun_median_ms": round(memory_ms, 1),
        "after_restart_ms": round(restarted_s * 1000, 1),
        "goal_ms": RERUN_GOAL_MS,
        "meets_goal": max(memory_ms, restarted_s * 1000) <= RERUN_GOAL_MS,
    }


# --------------------------------------------------------------------------------------------
# Start-up of ``pommel serve``


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    paths = [os.environ.get("PYTHONPATH", ""), str(REPO_DIR / "backend")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POMMEL_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _serve_once(db_path: Path, cwd: Path, timeout: float = 60.0) -> float:
    """Seconds from spawning ``pommel serve`` until ``/healthz`` answers 200."""
    port = _free_port()
    argv = [
        sys.executable,
        "-m",
        "pommel",
        "--config-dir",
        str(REPO_DIR / "config"),
        "serve",
        "--port",
        str(port),
        "--database-url",
        f"sqlite:///{db_path}",
        "--executor",
        "local",
    ]
    log_path = cwd / "serve.log"
    with log_path.open("w", encoding="utf-8") as log_file, httpx.Client(timeout=1.0) as client:
        begin = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=cwd, env=_child_env(), stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        return time.perf_counter() - begin
                if process.poll() is not None:
                    tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise BenchError(f"pommel serve exited with {process.returncode}:\n{tail}")
                if time.perf_counter() - begin > timeout:
                    raise BenchError(f"pommel serve did not answer /healthz in {timeout:g} s")
                time.sleep(0.005)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _python_seconds(code: str) -> float:
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_child_env(), check=True)
    return time.perf_counter() - begin


def _startup(plan: Plan) -> dict[str, Any]:
    fresh: list[float] = []
    migrated: list[float] = []
    with work_directory("pommel-bench-serve-") as work:
        for index in range(plan.startups):
            db_path = work / f"serve-{index}.sqlite"
            fresh.append(_serve_once(db_path, work))  # creates and migrates the file
            migrated.append(_serve_once(db_path, work))  # the same file, nothing to migrate
        repeats = max(1, min(3, plan.startups))
        python_s = median([_python_seconds("pass") for _ in range(repeats)])
        imports_s = median(
            [_python_seconds("import uvicorn, pommel.app, pommel.cli") for _ in range(repeats)]
        )
    fresh_ms, migrated_ms = median(fresh) * 1000, median(migrated) * 1000
    return {
        "fresh_ms": [round(s * 1000, 1) for s in fresh],
        "migrated_ms": [round(s * 1000, 1) for s in migrated],
        "fresh_median_ms": round(fresh_ms, 1),
        "migrated_median_ms": round(migrated_ms, 1),
        "python_start_ms": round(python_s * 1000, 1),
        "python_and_imports_ms": round(imports_s * 1000, 1),
        "goal_ms": STARTUP_GOAL_MS,
        "meets_goal": max(fresh_ms, migrated_ms) < STARTUP_GOAL_MS,
    }


# --------------------------------------------------------------------------------------------
# Output


def _spread(values: Sequence[float], scale: float = 1000.0) -> tuple[float, float, float]:
    return median(values) * scale, min(values) * scale, max(values) * scale


def _table(result: dict[str, Any]) -> dict[str, Any]:
    project, rerun, startup = result["project"], result["cached_rerun"], result["startup"]
    tasks = project["dag"]["tasks"]
    headers = ["", "median ms", "min ms", "max ms", "ms/task", "x floor", "goal", "met"]
    floor = _spread(project["floor_s"])
    engine = _spread(project["engine_s"])
    rows: list[list[Any]] = [
        [f"floor: asyncio, {tasks} x sh -c true", *floor, floor[0] / tasks, 1.0, None, None],
        [
            f"engine: {tasks} tasks, skipCache",
            *engine,
            engine[0] / tasks,
            project["ratio"],
            f"<= {FLOOR_GOAL:g}x",
            project["meets_goal"],
        ],
    ]
    if "cached_variant" in project:
        cached = _spread(project["cached_variant"]["engine_s"])
        cached_steps = project["cached_variant"]["checks"]["cached_steps"]
        rows.append(
            [
                f"engine: cache on ({cached_steps} of {tasks} cached)",
                *cached,
                cached[0] / tasks,
                cached[0] / floor[0],
                None,
                None,
            ]
        )
    memory = [ms / 1000 for ms in rerun["rerun_ms"]]
    rows.append(
        [
            f"re-run {rerun['steps']}-step chain, all cached",
            *_spread(memory),
            None,
            None,
            f"<= {RERUN_GOAL_MS:g} ms",
            rerun["rerun_median_ms"] <= RERUN_GOAL_MS,
        ]
    )
    restart = rerun["after_restart_ms"]
    rows.append(
        [
            "  same, after a restart (cache in DB)",
            restart,
            restart,
            restart,
            None,
            None,
            f"<= {RERUN_GOAL_MS:g} ms",
            restart <= RERUN_GOAL_MS,
        ]
    )
    for label, key in (("fresh file", "fresh_ms"), ("migrated file", "migrated_ms")):
        values = [ms / 1000 for ms in startup[key]]
        spread = _spread(values)
        rows.append(
            [
                f"pommel serve -> /healthz, {label}",
                *spread,
                None,
                None,
                f"< {STARTUP_GOAL_MS:g} ms",
                spread[0] < STARTUP_GOAL_MS,
            ]
        )
    for label, key in (
        ("  python -c pass", "python_start_ms"),
        ("  python -c 'import pommel.app, uvicorn'", "python_and_imports_ms"),
    ):
        rows.append([label, startup[key], None, None, None, None, None, None])
    return table(headers, rows)


def _legend(result: dict[str, Any]) -> list[str]:
    project = result["project"]
    dag = project["dag"]
    lines = [
        f"DAG: {dag['tasks']} tasks, {dag['edges']} dependencies, {dag['layers']} layers of "
        f"{dag['min_layer_width']}-{dag['max_layer_width']} (seed {dag['seed']}); limit "
        f"{MAX_PARALLEL}; {project['rounds']} round(s) alternating floor / engine",
        "timed: floor = first spawn -> last process reaped (pipes read); engine = "
        "ProjectScheduler.launch() -> last run's on_run_finished handled (project run "
        "committed as finished)",
        "not timed: database, project, tasks, dependencies and workflows (prepared once, copied "
        "per round), runtime start and stop",
        f"engine overhead over the floor: {project['overhead_ms_per_task']} ms per task; "
        f"journal transactions per task: {project['journal_transactions_per_task']}",
    ]
    timeline = project.get("timeline_ms")
    if timeline:
        lines.append(
            "per run, mean ms: queued->runner began {queued_to_begin}, ->step started "
            "{begin_to_step}, step {step}, ->run ended {step_to_end}, ->final state committed "
            "{end_to_commit}; a slot then stays empty {slot_idle}".format(**timeline)
        )
    sql = project.get("sql")
    if sql:
        per_task = sql["per_task"]
        shown = ", ".join(
            f"{key} {per_task[key]}"
            for key in ("statements", "begin", "select", "insert", "update", "connections")
            if key in per_task
        )
        lines.append(f"SQL per task (one extra, untimed round): {shown}")
    return lines
