"""The engine benchmark's pieces: its DAG, its floor, its checks, a small round end to end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bench.harness import BenchError, format_table
from bench.process_floor import random_dag, run_floor

from bench import engine
from pommel.domain.template import parse_template


@pytest.mark.parametrize("tasks", [1, 7, 9, 100, 500])
def test_dag_has_the_size_asked_for_and_only_wide_layers(tasks: int) -> None:
    dag = random_dag(tasks, seed=engine.DAG_SEED, min_width=8)
    assert dag.tasks == tasks
    assert sorted(t for layer in dag.layers for t in layer) == list(range(tasks))
    if tasks >= 8:
        assert dag.width >= 8
    layer_of = {task: n for n, layer in enumerate(dag.layers) for task in layer}
    for task, deps in enumerate(dag.deps):
        assert all(layer_of[dep] < layer_of[task] for dep in deps)  # acyclic, across layers
        if layer_of[task] > 0:
            assert any(layer_of[dep] == layer_of[task] - 1 for dep in deps)
        else:
            assert deps == ()


def test_dag_is_determined_by_its_seed() -> None:
    assert random_dag(200, seed=1) == random_dag(200, seed=1)
    assert random_dag(200, seed=1) != random_dag(200, seed=2)


async def test_floor_runs_every_task_within_the_limit() -> None:
    dag = random_dag(30, seed=3, min_width=4, max_width=6)
    result = await run_floor(dag, limit=3)
    assert 1 <= result.max_running <= 3
    assert result.seconds > 0


async def test_floor_fails_loudly_when_a_process_fails() -> None:
    with pytest.raises(ExceptionGroup) as raised:
        await run_floor(random_dag(4, seed=3, min_width=2), limit=2, argv=("sh", "-c", "exit 3"))
    assert raised.group_contains(RuntimeError, match="exited with 3")


def test_chain_template_is_a_valid_chain() -> None:
    template = parse_template(engine.chain_template(50))
    assert template.name == engine.CHAIN_TEMPLATE
    steps = template.steps
    assert len(steps) == 50
    assert [s.name for s in steps[:3]] == ["s1", "s2", "s3"]
    assert list(steps[0].needs) == []
    assert all(list(step.needs) == [f"s{n}"] for n, step in enumerate(steps[1:], start=1))


async def test_a_small_round_runs_and_passes_its_checks(tmp_path: Path) -> None:
    dag = random_dag(20, seed=5, min_width=4, max_width=6)
    template = tmp_path / "template.sqlite"
    project_pk = await engine._prepare_project(template, dag, "small")
    result = await engine._engine_round(template, project_pk, tmp_path, "test", True)
    assert result.seconds > 0
    checks = engine._check_round(result.db_path, result.project_run_pk, dag, skip_cache=True)
    assert checks["runs"] == checks["steps"] == 20
    assert checks["cached_steps"] == 0
    assert checks["max_running"] <= engine.MAX_PARALLEL
    assert checks["project_run_events"] == 2
    timeline = engine._timeline(result)
    assert set(timeline) == {
        "queued_to_begin",
        "begin_to_step",
        "step",
        "step_to_end",
        "end_to_commit",
        "slot_idle",
    }
    assert timeline["step"] > 0 and all(value >= 0 for value in timeline.values())

    # The checks read the file itself: a run moved before its dependency's end is caught.
    task, dep = next((t, deps[0]) for t, deps in enumerate(dag.deps) if deps)
    with sqlite3.connect(result.db_path) as conn:
        pks = [row[0] for row in conn.execute("SELECT id FROM task ORDER BY id")]
        (dep_start,) = conn.execute(
            "SELECT started_at FROM workflow_run WHERE task = ?", (pks[dep],)
        ).fetchone()
        conn.execute(
            "UPDATE workflow_run SET started_at = ? WHERE task = ?", (dep_start, pks[task])
        )
    with pytest.raises(BenchError, match="started before dependency"):
        engine._check_round(result.db_path, result.project_run_pk, dag, skip_cache=True)


async def test_cached_rerun_serves_every_step_from_the_cache(tmp_path: Path) -> None:
    dag = random_dag(1, seed=5)
    template = tmp_path / "template.sqlite"
    await engine._prepare_project(template, dag, "cache")
    plan = engine.Plan(
        tasks=1,
        rounds=1,
        cached_variant=False,
        count_sql=False,
        chain_steps=5,
        reruns=2,
        startups=1,
    )
    result = await engine._cached_rerun(plan, template, tmp_path)
    assert result["steps"] == 5
    assert len(result["rerun_ms"]) == 2
    assert result["after_restart_ms"] > 0


def test_table_and_legend_show_every_figure() -> None:
    project = {
        "dag": {**random_dag(500, seed=1).describe(), "seed": 1},
        "rounds": 2,
        "floor_s": [0.5, 0.6],
        "engine_s": [2.0, 2.2],
        "ratio": 3.82,
        "meets_goal": False,
        "overhead_ms_per_task": 3.1,
        "journal_transactions_per_task": 0.4,
        "cached_variant": {"engine_s": [1.0, 1.1], "checks": {"cached_steps": 492}},
        "sql": {"per_task": {"statements": 12.5, "begin": 0.9}},
        "timeline_ms": dict.fromkeys(
            ["queued_to_begin", "begin_to_step", "step", "step_to_end", "end_to_commit"], 1.0
        )
        | {"slot_idle": 2.5},
    }
    result = {
        "project": project,
        "cached_rerun": {
            "steps": 50,
            "rerun_ms": [60.0, 70.0],
            "rerun_median_ms": 65.0,
            "after_restart_ms": 130.0,
        },
        "startup": {
            "fresh_ms": [2900.0],
            "migrated_ms": [2500.0],
            "python_start_ms": 18.0,
            "python_and_imports_ms": 2100.0,
        },
    }
    shown = engine._table(result)
    text = format_table(shown["headers"], shown["rows"])
    assert "engine: 500 tasks, skipCache" in text
    assert "2,100.0" in text and "492 of 500 cached" in text
    legend = "\n".join(engine._legend(result))
    assert "timed:" in legend and "not timed:" in legend
    assert "statements 12.5" in legend
    assert "a slot then stays empty 2.5" in legend
