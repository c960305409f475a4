"""Concurrent writers on SQLite all succeed (immediate transactions, busy timeout)."""

from __future__ import annotations

import asyncio

from tests.api.helpers import ADD_DEPENDENCY, make_project, make_task
from tests.conftest import GraphQLClient


async def test_fifty_concurrent_writers_all_succeed(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    anchor = await make_task(gql, project_id, "anchor")

    async def writer(index: int) -> None:
        # read-then-write transactions: create a task that depends on the anchor, then rename it
        task_id = await make_task(gql, project_id, f"w{index}", dependsOn=[anchor])
        await gql.data(
            'mutation($id: ID!) { updateTask(id: $id, input: {description: "x"}) { id } }',
            {"id": task_id},
        )

    await asyncio.gather(*(writer(i) for i in range(50)))
    data = await gql.data("query($id: ID!) { task(id: $id) { dependents { id } } }", {"id": anchor})
    assert len(data["task"]["dependents"]) == 50


async def test_concurrent_opposite_edges_cannot_both_succeed(gql: GraphQLClient) -> None:
    project_id = await make_project(gql)
    a = await make_task(gql, project_id, "a")
    b = await make_task(gql, project_id, "b")
    results = await asyncio.gather(
        gql.execute(ADD_DEPENDENCY, {"t": a, "d": b}), gql.execute(ADD_DEPENDENCY, {"t": b, "d": a})
    )
    codes = sorted(
        result["errors"][0]["extensions"]["code"] if result.get("errors") else "OK"
        for result in results
    )
    assert codes == ["DEPENDENCY_CYCLE", "OK"]
