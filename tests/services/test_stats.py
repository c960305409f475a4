"""Run statistics match a hand count."""

from __future__ import annotations

import json
import math

from starlette.applications import Starlette

from pommel.services import projects, stats, tasks
from pommel.storage.database import Database
from pommel.storage.tables import StepRun, Workflow, WorkflowRun

# (template, status, duration ms, steps as (cached, status))
RUNS = [
    ("basic_task", "succeeded", 100, [(False, "succeeded"), (True, "succeeded")]),
    ("basic_task", "succeeded", 300, [(True, "succeeded")]),
    ("basic_task", "failed", 200, [(False, "failed")]),
    ("ml-training", "succeeded", 1000, [(False, "succeeded")]),
    ("ml-training", "cancelled", 50, []),
    ("ml-training", "running", None, [(False, "succeeded")]),
    (None, "queued", None, []),
]


async def _seed(
    db: Database,
    project_pk: int,
    runs: list[tuple[str | None, str, int | None, list[tuple[bool, str]]]],
) -> None:
    task = await tasks.create_task(db, project_pk=project_pk, name="t")
    async with db.write():
        workflow_pk = (
            await Workflow.insert(
                Workflow(project=project_pk, task=task.pk, name="w", type="containerized_workflow")
            ).returning(Workflow.id)
        )[0]["id"]
        for template, status, duration, steps in runs:
            run_pk = (
                await WorkflowRun.insert(
                    WorkflowRun(
                        workflow=workflow_pk,
                        task=task.pk,
                        project=project_pk,
                        status=status,
                        template_id=template,
                        duration_ms=duration,
                        definition=json.dumps({}),
                    )
                ).returning(WorkflowRun.id)
            )[0]["id"]
            for index, (cached, step_status) in enumerate(steps):
                await StepRun.insert(
                    StepRun(run=run_pk, name=f"s{index}", status=step_status, cached=cached)
                )


async def test_stats_match_a_hand_count(app: Starlette) -> None:
    db: Database = app.state.runtime.db
    project = await projects.create_project(db, name="p")
    other = await projects.create_project(db, name="other")
    await _seed(db, project.pk, RUNS)
    await _seed(db, other.pk, [("basic_task", "failed", 5000, [(False, "failed")])])

    result = await stats.workflow_stats(project_pk=project.pk)
    assert result.total == 7
    assert result.by_status == {
        "queued": 1,
        "running": 1,
        "succeeded": 3,
        "failed": 1,
        "cancelled": 1,
    }
    assert result.success_rate == 3 / 5  # over finished runs
    assert math.isclose(result.average_duration_ms or 0, (100 + 300 + 200 + 1000 + 50) / 5)
    assert result.p95_duration_ms == 1000  # nearest rank of 5 durations
    assert result.cache_hit_rate == 2 / 5  # succeeded steps that were cached
    by_template = {t.template_id: t for t in result.by_template}
    assert by_template["basic_task"].total == 3
    assert by_template["basic_task"].success_rate == 2 / 3
    assert by_template["ml-training"].success_rate == 1 / 2
    assert by_template[None].success_rate is None

    overall = await stats.workflow_stats()
    assert overall.total == 8
    assert overall.by_status["failed"] == 2
    assert overall.p95_duration_ms == 5000


async def test_stats_of_empty_project(app: Starlette) -> None:
    db: Database = app.state.runtime.db
    project = await projects.create_project(db, name="empty")
    result = await stats.workflow_stats(project_pk=project.pk)
    assert result.total == 0
    assert result.success_rate is None
    assert result.p95_duration_ms is None
    assert result.cache_hit_rate is None


async def test_workflow_stats_over_graphql(app: Starlette) -> None:
    import httpx

    db: Database = app.state.runtime.db
    project = await projects.create_project(db, name="p")
    await _seed(db, project.pk, RUNS)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        body = (
            await http.post(
                "/graphql",
                json={
                    "query": "query($p: ID) { workflowStats(projectId: $p) { total successRate p95DurationMs "
                    "cacheHitRate byStatus { status count } byTemplate { templateId total } } }",
                    "variables": {"p": f"proj-{project.pk}"},
                },
            )
        ).json()
        stats_data = body["data"]["workflowStats"]
        assert stats_data["total"] == 7
        assert stats_data["successRate"] == 0.6
        assert {"status": "SUCCEEDED", "count": 3} in stats_data["byStatus"]
        missing = (
            await http.post(
                "/graphql", json={"query": '{ workflowStats(projectId: "proj-999") { total } }'}
            )
        ).json()
        assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
