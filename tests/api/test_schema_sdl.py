"""The committed SDL matches the code, and the contract's operations exist."""

from __future__ import annotations

from pathlib import Path

from pommel.api.schema import schema

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    assert SDL.read_text(encoding="utf-8") == str(schema) + "\n", (
        "schema/schema.graphql is out of date: run `make schema` and commit it"
    )


def test_contract_operations_exist() -> None:
    query = schema._schema.query_type
    mutation = schema._schema.mutation_type
    assert query is not None and mutation is not None
    for name in ("node", "projects", "project", "tasks", "task"):
        assert name in query.fields, name
    for name in (
        "createProject",
        "updateProject",
        "deleteProject",
        "createPhase",
        "updatePhase",
        "deletePhase",
        "createTask",
        "updateTask",
        "deleteTask",
        "addTaskDependency",
        "removeTaskDependency",
    ):
        assert name in mutation.fields, name
    tasks_args = query.fields["tasks"].args
    assert set(tasks_args) >= {"first", "after", "filter", "orderBy"}
