"""Project execution over GraphQL: execute, cancel, read project runs, plan (thin)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum

import strawberry

from pommel.api.context import Info
from pommel.api.node_lookup import register_node
from pommel.api.nodes.run import WorkflowRunNode
from pommel.api.nodes.task import TaskType
from pommel.api.nodes.workflow import WorkflowNode
from pommel.api.relay import Node
from pommel.domain.status import RunStatus
from pommel.errors import NotFound
from pommel.ids import Kind, format_id, parse_id
from pommel.services import project_runs as project_run_service
from pommel.services.project_runs import ProjectPlan, ProjectRunRecord
from pommel.services.run_queries import RunFilter, list_runs
from pommel.services.tasks import get_tasks


@strawberry.type(description="How a project run's tasks stand.")
class ProjectRunCounts:
    tasks: int
    queued: int
    running: int
    succeeded: int
    failed: int
    cancelled: int
    blocked: int = strawberry.field(
        description="Not started: a dependency failed or was cancelled."
    )
    skipped: int = strawberry.field(description="Not run: already completed or cancelled.")
    waiting: int = strawberry.field(description="Not started yet: dependencies still running.")


@strawberry.type(description="A task the project run did not run, and why.")
class ProjectRunTaskNote:
    task: TaskType
    outcome: str = strawberry.field(description="skipped, blocked or failed")
    reason: str


@strawberry.type(name="ProjectRun", description="One execution of a whole project.")
class ProjectRunNode(Node):
    status: RunStatus
    max_parallel: int
    skip_cache: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    record: strawberry.Private[ProjectRunRecord]

    @classmethod
    def from_record(cls, record: ProjectRunRecord) -> ProjectRunNode:
        return cls(
            id=strawberry.ID(format_id(Kind.PROJECT_RUN, record.pk)),
            status=record.status,
            max_parallel=record.max_parallel,
            skip_cache=record.skip_cache,
            error=record.error,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            record=record,
        )

    @strawberry.field(description="The workflow runs it started, newest first.")
    async def runs(self, first: int | None = 100) -> list[WorkflowRunNode]:
        page = await list_runs(
            run_filter=RunFilter(project_run_pk=self.record.pk), first=first, after=None
        )
        return [WorkflowRunNode.from_record(r) for r in page.items]

    @strawberry.field
    async def counts(self) -> ProjectRunCounts:
        counts = await project_run_service.project_run_counts(self.record)
        return ProjectRunCounts(**dataclasses.asdict(counts))

    @strawberry.field(description="Tasks skipped, blocked or failed without a run, with reasons.")
    async def notes(self) -> list[ProjectRunTaskNote]:
        entries = [
            (outcome, int(task_key), reason)
            for outcome in ("skipped", "blocked", "failed")
            for task_key, reason in self.record.summary.get(outcome, {}).items()
        ]
        found = await get_tasks([pk for _, pk, _ in entries])
        return [
            ProjectRunTaskNote(task=TaskType.from_record(found[pk]), outcome=outcome, reason=reason)
            for outcome, pk, reason in entries
            if pk in found
        ]


@register_node(Kind.PROJECT_RUN)
async def _project_run_node(info: Info, pk: int) -> Node | None:
    try:
        return ProjectRunNode.from_record(await project_run_service.get_project_run(pk))
    except NotFound:
        return None


@strawberry.enum
class PlanAction(Enum):
    RUN = "run"
    SKIP = "skip"
    BLOCKED = "blocked"
    CANNOT_RUN = "cannot_run"


@strawberry.type(description="What executing the project would do with one task.")
class PlannedTask:
    task: TaskType
    action: PlanAction
    reason: str
    wave: int | None = strawberry.field(
        description="0-based start wave if every run succeeded and took as long (null: not run)."
    )
    workflow: WorkflowNode | None = strawberry.field(
        description="The workflow it would run (null: derived from the task at execution)."
    )
    steps: list[str]
    cached_steps: list[str] = strawberry.field(
        description="Steps the step cache would serve (inputs match an earlier success)."
    )
    missing_secrets: list[str]


@strawberry.type(name="ProjectPlan", description="A dry run of executeWorkflowsForProject.")
class ProjectPlanType:
    max_parallel: int
    tasks: list[PlannedTask]
    waves: list[list[strawberry.ID]] = strawberry.field(
        description="Task ids in the order they would start, wave by wave."
    )
    runnable: int
    problems: int = strawberry.field(description="Tasks that cannot run or would be blocked.")

    @classmethod
    def from_plan(cls, plan: ProjectPlan) -> ProjectPlanType:
        return cls(
            max_parallel=plan.max_parallel,
            tasks=[
                PlannedTask(
                    task=TaskType.from_record(t.task),
                    action=PlanAction(t.action),
                    reason=t.reason,
                    wave=t.wave,
                    workflow=WorkflowNode.from_record(t.workflow) if t.workflow else None,
                    steps=t.steps,
                    cached_steps=t.cached_steps,
                    missing_secrets=t.missing_secrets,
                )
                for t in plan.tasks
            ],
            waves=[[strawberry.ID(format_id(Kind.TASK, pk)) for pk in wave] for wave in plan.waves],
            runnable=sum(1 for t in plan.tasks if t.action == "run"),
            problems=sum(1 for t in plan.tasks if t.action in ("blocked", "cannot_run")),
        )


@strawberry.type
class ProjectRunQuery:
    @strawberry.field
    async def project_run(self, id: strawberry.ID) -> ProjectRunNode:
        return ProjectRunNode.from_record(
            await project_run_service.get_project_run(parse_id(id, Kind.PROJECT_RUN))
        )

    @strawberry.field(description="A project's recent runs, newest first.")
    async def project_runs(
        self, project_id: strawberry.ID, first: int = 20
    ) -> list[ProjectRunNode]:
        records = await project_run_service.project_runs_of(
            parse_id(project_id, Kind.PROJECT), limit=min(max(first, 0), 200)
        )
        return [ProjectRunNode.from_record(r) for r in records]

    @strawberry.field(
        description="A dry run: the order tasks would start in, which cannot run and why, "
        "which steps the cache would serve."
    )
    async def plan_project_execution(
        self, info: Info, project_id: strawberry.ID, max_parallel: int = 4
    ) -> ProjectPlanType:
        runtime = info.context.runtime
        plan = await project_run_service.plan_project_execution(
            runtime.templates,
            project_pk=parse_id(project_id, Kind.PROJECT),
            max_parallel=max_parallel,
            executor=runtime.worker.executor.name if runtime.worker.parts else "local",
            secrets=list(runtime.settings.secrets),
        )
        return ProjectPlanType.from_plan(plan)


@strawberry.type
class ProjectRunMutation:
    @strawberry.mutation(
        description="Run every task's workflow in dependency order, at most `maxParallel` at "
        "once; completed and cancelled tasks are skipped, dependents of a failure blocked."
    )
    async def execute_workflows_for_project(
        self,
        info: Info,
        project_id: strawberry.ID,
        max_parallel: int = 4,
        skip_cache: bool = False,
    ) -> ProjectRunNode:
        record = await info.context.runtime.projects.launch(
            project_pk=parse_id(project_id, Kind.PROJECT),
            max_parallel=max_parallel,
            skip_cache=skip_cache,
        )
        return ProjectRunNode.from_record(record)

    @strawberry.mutation(description="Cancel everything a project run still runs or waits for.")
    async def cancel_project_run(self, info: Info, id: strawberry.ID) -> ProjectRunNode:
        record = await info.context.runtime.projects.cancel(parse_id(id, Kind.PROJECT_RUN))
        return ProjectRunNode.from_record(record)
