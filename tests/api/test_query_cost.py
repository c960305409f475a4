"""Nested queries cost a fixed number of SQL statements, whatever the number of tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from piccolo.engine.base import Engine
from starlette.applications import Starlette

from pommel.logconfig import request_id_var
from pommel.services import phases, projects
from pommel.storage.database import Database
from pommel.storage.tables import Task, TaskDependency
from tests.conftest import GraphQLClient

PROJECT_QUERY = """query($id: ID!) { project(id: $id) { id name phases { id name }
  tasks(first: 1000) { totalCount edges { node { id name status
    phase { id name } project { id name }
    dependencies { id name phase { id } } dependents { id } } } } } }"""


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []


@pytest.fixture
def counter(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> StatementCounter:
    engine: Engine[Any] = app.state.runtime.db.engine
    found = StatementCounter()
    engine_class = type(engine)
    original = engine_class.run_querystring

    async def counting(self: Engine[Any], querystring: Any, in_pool: bool = True) -> Any:
        # Only the request's own statements: background workers (webhooks, the engine) query too.
        if request_id_var.get() != "-":
            found.statements.append(str(querystring))
        return await original(self, querystring, in_pool=in_pool)

    # Engines use __slots__, so the counter wraps the method on the class.
    monkeypatch.setattr(engine_class, "run_querystring", counting)
    return found


async def _seed(db: Database, size: int) -> int:
    """A project of ``size`` tasks in three phases, each depending on the two before it."""
    project = await projects.create_project(db, name=f"p{size}")
    phase_pks = [
        (await phases.create_phase(db, project_pk=project.pk, name=f"ph{i}")).pk for i in range(3)
    ]
    async with db.write():
        rows = await Task.insert(
            *(
                Task(project=project.pk, name=f"t{i}", phase=phase_pks[i % 3], metadata="{}")
                for i in range(size)
            )
        ).returning(Task.id)
        pks = [row["id"] for row in rows]
        edges = [
            TaskDependency(task=pk, depends_on=dep)
            for index, pk in enumerate(pks)
            for dep in pks[max(0, index - 2) : index]
        ]
        await TaskDependency.insert(*edges)
    return project.pk


async def _count(gql: GraphQLClient, counter: StatementCounter, project_pk: int) -> int:
    counter.statements.clear()
    data = await gql.data(PROJECT_QUERY, {"id": f"proj-{project_pk}"})
    assert data["project"]["tasks"]["totalCount"] == len(data["project"]["tasks"]["edges"])
    return len(counter.statements)


async def test_statement_count_does_not_grow_with_tasks(
    app: Starlette, gql: GraphQLClient, counter: StatementCounter
) -> None:
    db: Database = app.state.runtime.db
    small = await _seed(db, 5)
    large = await _seed(db, 500)
    small_count = await _count(gql, counter, small)
    large_count = await _count(gql, counter, large)
    assert small_count == large_count, json.dumps(counter.statements, indent=1)
    # project, phases, tasks page, count, phase/project loaders, dependencies (+ their phases),
    # dependents: one statement each.
    assert large_count <= 10, large_count
