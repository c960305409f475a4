"""Project runs: records, queries, and the dry-run plan of a project's execution.

Starting and steering a project run is the engine's job (``engine.project_scheduler``); this
module reads and describes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pommel.domain.graph import topological_order
from pommel.domain.project_schedule import ProjectSchedule, TaskNode, plan_order
from pommel.domain.status import RunStatus, TaskStatus
from pommel.domain.template import (
    StepOutcome,
    TemplateError,
    render_step,
    secret_names,
)
from pommel.engine.cache import CACHEABLE_KINDS, StepCache, cache_key, secret_placeholders
from pommel.errors import NotFound, PommelError, ValidationFailed
from pommel.ids import Kind, format_id
from pommel.services import workflows
from pommel.services.projects import get_project
from pommel.services.records import TaskRecord, WorkflowRecord, load_json_object
from pommel.services.tasks import dependency_edges
from pommel.services.templates import TemplateRegistry
from pommel.storage.tables import ProjectRun, Task, WorkflowRun

MAX_PARALLEL = 64


def check_max_parallel(value: int) -> int:
    if not 1 <= value <= MAX_PARALLEL:
        raise ValidationFailed(
            {"maxParallel": f"must be between 1 and {MAX_PARALLEL} (got {value})"}
        )
    return value


@dataclass(frozen=True)
class ProjectRunRecord:
    pk: int
    project_pk: int
    status: RunStatus
    max_parallel: int
    skip_cache: bool
    error: str | None
    summary: dict[str, dict[str, str]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProjectRunRecord:
        summary = load_json_object(row["summary"])
        return cls(
            pk=row["id"],
            project_pk=row["project"],
            status=RunStatus(row["status"]),
            max_parallel=row["max_parallel"],
            skip_cache=bool(row["skip_cache"]),
            error=row["error"],
            summary={k: dict(v) for k, v in summary.items() if isinstance(v, dict)},
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
        )


async def get_project_run(pk: int) -> ProjectRunRecord:
    row = await ProjectRun.select().where(ProjectRun.id == pk).first().output(load_json=True)
    if row is None:
        raise NotFound(f"no project run '{format_id(Kind.PROJECT_RUN, pk)}'")
    return ProjectRunRecord.from_row(row)


async def project_runs_of(project_pk: int, *, limit: int = 20) -> list[ProjectRunRecord]:
    rows = (
        await ProjectRun.select()
        .where(ProjectRun.project == project_pk)
        .order_by(ProjectRun.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    return [ProjectRunRecord.from_row(row) for row in rows]


async def run_statuses(project_run_pk: int) -> dict[str, int]:
    """How many of the project run's workflow runs are in each status (one query)."""
    rows = await WorkflowRun.raw(
        "SELECT status, COUNT(*) AS n FROM workflow_run WHERE project_run = {} "
        "AND parent_run IS NULL GROUP BY status",
        project_run_pk,
    )
    return {row["status"]: int(row["n"]) for row in rows}


@dataclass(frozen=True)
class ProjectRunCounts:
    tasks: int
    queued: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    blocked: int
    skipped: int
    waiting: int


async def project_run_counts(record: ProjectRunRecord) -> ProjectRunCounts:
    """How the project run's tasks stand: its runs by status, plus tasks without a run."""
    statuses = await run_statuses(record.pk)
    tasks = await Task.count().where(Task.project == record.project_pk)
    blocked = len(record.summary.get("blocked", {}))
    skipped = len(record.summary.get("skipped", {}))
    unfinished = not record.status.finished
    started = sum(statuses.values())
    return ProjectRunCounts(
        tasks=tasks,
        queued=statuses.get("queued", 0),
        running=statuses.get("running", 0),
        succeeded=statuses.get("succeeded", 0),
        failed=statuses.get("failed", 0),
        cancelled=statuses.get("cancelled", 0),
        blocked=blocked,
        skipped=skipped,
        waiting=max(0, tasks - started - blocked - skipped) if unfinished else 0,
    )


async def task_nodes(project_pk: int) -> list[TaskNode]:
    """The project's tasks as the schedule sees them (two queries)."""
    rows = (
        await Task.select()
        .where(Task.project == project_pk)
        .order_by(Task.id)
        .output(load_json=True)
    )
    edges = await dependency_edges(project_pk)
    return [
        TaskNode(
            pk=row["id"],
            label=format_id(Kind.TASK, row["id"]),
            status=TaskStatus(row["status"]),
            depends_on=tuple(sorted(edges.get(row["id"], ()))),
            priority_rank=row["priority_rank"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PlannedTask:
    """What project execution would do with one task."""

    task: TaskRecord
    action: str  # run | skip | blocked | cannot_run
    reason: str
    wave: int | None
    workflow: WorkflowRecord | None
    steps: list[str]
    cached_steps: list[str]
    missing_secrets: list[str]


@dataclass(frozen=True)
class ProjectPlan:
    project_pk: int
    max_parallel: int
    tasks: list[PlannedTask]
    waves: list[list[int]]


def _steps_in_order(definition: dict[str, Any]) -> list[dict[str, Any]]:
    steps = {step["name"]: step for step in definition.get("steps", [])}
    order = topological_order(
        steps, {name: step.get("needs") or [] for name, step in steps.items()}
    )
    return [steps[name] for name in order]


async def _predict_cache(
    definition: dict[str, Any], *, executor: str, cache: StepCache
) -> list[str]:
    """Steps that would be served from the step cache, assuming upstream hits reproduce."""
    outcomes: dict[str, StepOutcome] = {}
    hits: list[str] = []
    placeholders = secret_placeholders(secret_names(definition))
    for step in _steps_in_order(definition):
        name = step["name"]
        if step.get("kind") not in CACHEABLE_KINDS or any(
            n not in outcomes for n in step.get("needs") or ()
        ):
            continue
        try:
            for_key = render_step(step, steps=outcomes, secrets=placeholders)
        except TemplateError:
            continue
        needs = {n: outcomes[n] for n in step.get("needs") or ()}
        hit = await cache.lookup(cache_key(executor=executor, step=for_key, needs=needs))
        if hit is None:
            continue
        hits.append(name)
        outcomes[name] = StepOutcome("succeeded", hit.exit_code, hit.stdout, hit.outputs)
    return hits


async def plan_project_execution(
    registry: TemplateRegistry,
    *,
    project_pk: int,
    max_parallel: int = 4,
    executor: str = "local",
    secrets: Sequence[str] = (),
) -> ProjectPlan:
    """A dry run: the order tasks would start in, what cannot run and why, cache hits."""
    check_max_parallel(max_parallel)
    await get_project(project_pk)
    nodes = await task_nodes(project_pk)
    rows = await Task.select().where(Task.project == project_pk).output(load_json=True)
    records = {row["id"]: TaskRecord.from_row(row) for row in rows}
    latest = await workflows.latest_workflows_of_tasks(list(records))
    cache = StepCache()
    known_secrets = set(secrets)

    verdicts: dict[int, tuple[str, str, WorkflowRecord | None, dict[str, Any] | None]] = {}
    for pk, task in records.items():
        workflow = latest.get(pk)
        if workflow is not None:
            verdicts[pk] = (
                "run",
                f"runs workflow {format_id(Kind.WORKFLOW, workflow.pk)}",
                workflow,
                workflow.definition,
            )
            continue
        try:
            derived = await workflows.derive_workflow(registry, task=task)
        except PommelError as error:
            verdicts[pk] = (
                "cannot_run",
                f"no workflow, and none can be derived: {error.message}",
                None,
                None,
            )
            continue
        verdicts[pk] = (
            "run",
            f"a workflow will be derived from its metadata ({derived.template_id})",
            None,
            derived.definition,
        )

    # A task that cannot run fails at once in execution, blocking its dependents.
    schedule = ProjectSchedule.start(nodes)
    for pk, (action, reason, _, _) in verdicts.items():
        if action == "cannot_run":
            schedule.fail_waiting(pk, reason)
    skipped, blocked = dict(schedule.skipped), dict(schedule.blocked)
    waves = plan_order(schedule, max_parallel=max_parallel)
    wave_of = {pk: index for index, wave in enumerate(waves) for pk in wave}

    planned: list[PlannedTask] = []
    for node in nodes:
        task = records[node.pk]
        action, reason, workflow, definition = verdicts[node.pk]
        if node.pk in skipped:
            action, reason = "skip", skipped[node.pk]
        elif node.pk in blocked:
            action, reason = "blocked", blocked[node.pk]
        steps = [s["name"] for s in (definition or {}).get("steps", [])]
        cached = (
            await _predict_cache(definition, executor=executor, cache=cache)
            if definition is not None and action == "run"
            else []
        )
        missing = sorted(secret_names(definition) - known_secrets) if definition else []
        if missing and action == "run":
            action, reason = "cannot_run", "secrets not configured: " + ", ".join(missing)
        planned.append(
            PlannedTask(
                task=task,
                action=action,
                reason=reason,
                wave=wave_of.get(node.pk) if action == "run" else None,
                workflow=workflow,
                steps=steps,
                cached_steps=cached,
                missing_secrets=missing,
            )
        )
    return ProjectPlan(project_pk=project_pk, max_parallel=max_parallel, tasks=planned, waves=waves)


def summary_json(summary: dict[str, dict[int, str]]) -> str:
    return json.dumps(
        {kind: {str(k): v for k, v in items.items()} for kind, items in summary.items()}
    )
