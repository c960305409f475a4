"""``workflowStats``: run figures for a project or the whole installation."""

from __future__ import annotations

import strawberry

from pommel.domain.status import RunStatus
from pommel.ids import Kind, parse_id
from pommel.services import projects
from pommel.services import stats as stats_service


@strawberry.type
class StatusCount:
    status: RunStatus
    count: int


@strawberry.type
class TemplateStats:
    template_id: str | None
    total: int
    succeeded: int
    failed: int
    success_rate: float | None
    average_duration_ms: float | None


@strawberry.type
class WorkflowStats:
    total: int = strawberry.field(description="Runs, whatever their status.")
    by_status: list[StatusCount]
    success_rate: float | None = strawberry.field(
        description="Succeeded ÷ finished runs (0..1); null before any run finished."
    )
    average_duration_ms: float | None
    p95_duration_ms: float | None
    cache_hit_rate: float | None = strawberry.field(
        description="Share of succeeded steps served from the step cache (0..1)."
    )
    by_template: list[TemplateStats]


@strawberry.type
class StatsQuery:
    @strawberry.field(description="Run statistics of a project, or of everything without one.")
    async def workflow_stats(self, project_id: strawberry.ID | None = None) -> WorkflowStats:
        project_pk = None
        if project_id is not None:
            project_pk = parse_id(project_id, Kind.PROJECT)
            await projects.get_project(project_pk)
        result = await stats_service.workflow_stats(project_pk=project_pk)
        return WorkflowStats(
            total=result.total,
            by_status=[
                StatusCount(status=RunStatus(status), count=count)
                for status, count in result.by_status.items()
            ],
            success_rate=result.success_rate,
            average_duration_ms=result.average_duration_ms,
            p95_duration_ms=result.p95_duration_ms,
            cache_hit_rate=result.cache_hit_rate,
            by_template=[
                TemplateStats(
                    template_id=t.template_id,
                    total=t.total,
                    succeeded=t.succeeded,
                    failed=t.failed,
                    success_rate=t.success_rate,
                    average_duration_ms=t.average_duration_ms,
                )
                for t in result.by_template
            ],
        )
