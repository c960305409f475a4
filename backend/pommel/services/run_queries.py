"""Reading workflow runs, their steps and logs; batched so nested GraphQL fields cost a fixed
number of statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count

from pommel.domain.status import RunStatus
from pommel.errors import NotFound
from pommel.ids import Kind, format_id
from pommel.services.pagination import Page, check_first, fetch_page
from pommel.services.run_records import LogRecord, RunRecord, StepRecord
from pommel.storage.tables import LogLine, StepRun, WorkflowRun


@dataclass(frozen=True)
class RunFilter:
    workflow_pk: int | None = None
    task_pk: int | None = None
    project_pk: int | None = None
    parent_run_pk: int | None = None
    project_run_pk: int | None = None
    status: RunStatus | None = None
    # Child runs of composite steps belong to their parent; lists leave them out by default.
    top_level: bool = True


async def get_run(pk: int) -> RunRecord:
    row = await WorkflowRun.select().where(WorkflowRun.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no workflow run '{format_id(Kind.RUN, pk)}'")
    return RunRecord.from_row(row)


async def get_runs(pks: Sequence[int]) -> dict[int, RunRecord]:
    if not pks:
        return {}
    rows = await WorkflowRun.select().where(WorkflowRun.id.is_in(list(pks))).output(load_json=True)
    return {row["id"]: RunRecord.from_row(row) for row in rows}


async def step_rows_of_runs(run_pks: Sequence[int]) -> dict[int, list[StepRecord]]:
    """The stored step rows of each run (steps that never started have none)."""
    found: dict[int, list[StepRecord]] = {pk: [] for pk in run_pks}
    if not run_pks:
        return found
    rows = (
        await StepRun.select()
        .where(StepRun.run.is_in(list(run_pks)))
        .order_by(StepRun.position)
        .output(load_json=True)
    )
    for row in rows:
        found[row["run"]].append(StepRecord.from_row(row))
    return found


def with_pending_steps(run: RunRecord, rows: Sequence[StepRecord]) -> list[StepRecord]:
    """Every step of the run's definition, in order: its row, or ``pending`` when it has none."""
    by_name = {row.name: row for row in rows}
    steps: list[StepRecord] = []
    for position, step in enumerate(run.step_definitions):
        row = by_name.pop(str(step.get("name")), None)
        steps.append(row if row is not None else StepRecord.pending(run.pk, position, step))
    return steps + sorted(by_name.values(), key=lambda r: r.position)


async def steps_of_run(run: RunRecord) -> list[StepRecord]:
    return with_pending_steps(run, (await step_rows_of_runs([run.pk]))[run.pk])


async def latest_runs_of_workflows(workflow_pks: Sequence[int]) -> dict[int, RunRecord]:
    """Each workflow's newest top-level run, in two statements whatever the number."""
    if not workflow_pks:
        return {}
    placeholders = ", ".join("{}" for _ in workflow_pks)
    newest = await WorkflowRun.raw(
        "SELECT MAX(id) AS id FROM workflow_run "
        f"WHERE workflow IN ({placeholders}) AND parent_run IS NULL GROUP BY workflow",
        *workflow_pks,
    )
    runs = await get_runs([row["id"] for row in newest])
    return {run.workflow_pk: run for run in runs.values()}


async def recent_runs_of_workflows(
    workflow_pks: Sequence[int], limit: int
) -> dict[int, list[RunRecord]]:
    """The ``limit`` newest top-level runs of each workflow, newest first, in two statements."""
    found: dict[int, list[RunRecord]] = {pk: [] for pk in workflow_pks}
    if not workflow_pks or limit <= 0:
        return found
    placeholders = ", ".join("{}" for _ in workflow_pks)
    ranked = await WorkflowRun.raw(
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
        "(PARTITION BY workflow ORDER BY id DESC) AS rank FROM workflow_run "
        f"WHERE workflow IN ({placeholders}) AND parent_run IS NULL) AS ranked "
        "WHERE rank <= {}",
        *workflow_pks,
        limit,
    )
    ids = [row["id"] for row in ranked]
    for run in sorted((await get_runs(ids)).values(), key=lambda r: r.pk, reverse=True):
        found[run.workflow_pk].append(run)
    return found


async def run_counts_of_workflows(workflow_pks: Sequence[int]) -> dict[int, int]:
    """How many top-level runs each workflow has, in one statement."""
    if not workflow_pks:
        return {}
    rows = (
        await WorkflowRun.select(WorkflowRun.workflow, Count(WorkflowRun.id).as_alias("n"))
        .where(WorkflowRun.workflow.is_in(list(workflow_pks)))
        .where(WorkflowRun.parent_run.is_null())
        .group_by(WorkflowRun.workflow)
    )
    return {row["workflow"]: row["n"] for row in rows}


def _run_conditions(run_filter: RunFilter) -> list[Any]:
    conditions: list[Any] = []
    if run_filter.workflow_pk is not None:
        conditions.append(WorkflowRun.workflow == run_filter.workflow_pk)
    if run_filter.task_pk is not None:
        conditions.append(WorkflowRun.task == run_filter.task_pk)
    if run_filter.project_pk is not None:
        conditions.append(WorkflowRun.project == run_filter.project_pk)
    if run_filter.project_run_pk is not None:
        conditions.append(WorkflowRun.project_run == run_filter.project_run_pk)
    if run_filter.parent_run_pk is not None:
        conditions.append(WorkflowRun.parent_run == run_filter.parent_run_pk)
    elif run_filter.top_level:
        conditions.append(WorkflowRun.parent_run.is_null())
    if run_filter.status is not None:
        conditions.append(WorkflowRun.status == run_filter.status.value)
    return conditions


async def list_runs(
    *, run_filter: RunFilter, first: int | None, after: str | None
) -> Page[RunRecord]:
    """Runs matching ``run_filter``, newest first, keyset-paginated."""
    query = WorkflowRun.select()
    count_query = WorkflowRun.count()
    for condition in _run_conditions(run_filter):
        query = query.where(condition)
        count_query = count_query.where(condition)
    return await fetch_page(
        query,
        order=[(WorkflowRun.id, "id")],
        first=first,
        after=after,
        descending=True,
        convert=RunRecord.from_row,
        count=count_query.run,
    )


async def child_runs_of(run_pks: Sequence[int]) -> dict[int, list[RunRecord]]:
    """The child runs (of composite steps) of each run, oldest first."""
    found: dict[int, list[RunRecord]] = {pk: [] for pk in run_pks}
    if not run_pks:
        return found
    rows = (
        await WorkflowRun.select()
        .where(WorkflowRun.parent_run.is_in(list(run_pks)))
        .order_by(WorkflowRun.id)
        .output(load_json=True)
    )
    for row in rows:
        found[row["parent_run"]].append(RunRecord.from_row(row))
    return found


async def logs_page(
    run_pk: int, *, step: str | None, first: int | None, after: str | None
) -> Page[LogRecord]:
    """A run's log lines in order (optionally one step's), keyset-paginated."""
    check_first(first)
    query = LogLine.select().where(LogLine.run == run_pk)
    count_query = LogLine.count().where(LogLine.run == run_pk)
    if step is not None:
        query = query.where(LogLine.step == step)
        count_query = count_query.where(LogLine.step == step)
    return await fetch_page(
        query,
        order=[(LogLine.id, "id")],
        first=first,
        after=after,
        descending=False,
        convert=LogRecord.from_row,
        count=count_query.run,
    )
