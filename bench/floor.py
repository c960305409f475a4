"""The floor: plain graphql-core executing the same document over the same data held in memory.

The schema is built by graphql-core from Pommel's own SDL (so every type, field, argument and enum
is exactly the shape the API has), with no Strawberry in the execution path; resolvers are plain
synchronous functions over dicts, and every other field uses graphql-core's default resolver.
What is left is the cost graphql-core itself charges for parsing, validating, executing and
completing the same response: the best any GraphQL server in Python could do with this document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema, build_schema

Row = dict[str, Any]


class FloorData:
    """Projects, phases and tasks keyed by their public ids, in GraphQL field names.

    ``data`` is the JSON-able dump made by ``bench.seed.floor_data``: ``projects``, ``phases``
    and ``tasks`` lists. Tasks carry ``_phase`` (a phase id or null), ``_deps`` (task ids, in
    the API's order), ``_project`` and ``_cursor`` (the API's cursor for the task).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.projects: dict[str, Row] = {p["id"]: dict(p) for p in data["projects"]}
        self.phases: dict[str, Row] = {p["id"]: dict(p) for p in data["phases"]}
        self.tasks: dict[str, Row] = {t["id"]: dict(t) for t in data["tasks"]}
        self.tasks_of: dict[str, list[Row]] = {pk: [] for pk in self.projects}
        for task in data["tasks"]:
            self.tasks_of[task["_project"]].append(self.tasks[task["id"]])
        self.cursor_index: dict[str, dict[str, int]] = {
            project: {task["_cursor"]: i for i, task in enumerate(tasks)}
            for project, tasks in self.tasks_of.items()
        }
        for project in self.projects.values():
            project["phases"] = sorted(
                (p for p in self.phases.values() if p["_project"] == project["id"]),
                key=lambda p: (p["position"], p["_pk"]),
            )

    def connection(self, project_id: str, first: int | None, after: str | None) -> Row:
        tasks = self.tasks_of.get(project_id, [])
        start = 0
        if after is not None:
            if after not in self.cursor_index.get(project_id, {}):
                raise GraphQLError("unknown cursor")
            start = self.cursor_index[project_id][after] + 1
        limit = 50 if first is None else first
        page = tasks[start : start + limit]
        return {
            "edges": [{"cursor": task["_cursor"], "node": task} for task in page],
            "pageInfo": {
                "hasNextPage": start + limit < len(tasks),
                "hasPreviousPage": after is not None,
                "startCursor": page[0]["_cursor"] if page else None,
                "endCursor": page[-1]["_cursor"] if page else None,
            },
            "totalCount": len(tasks),
        }


def build_floor_schema(sdl: str, data: FloorData) -> GraphQLSchema:
    """graphql-core's schema from ``sdl``, resolving the fields the benchmarks ask for."""
    schema = build_schema(sdl)

    def query_project(_root: Any, _info: Any, id: str) -> Row:
        project = data.projects.get(id)
        if project is None:
            raise GraphQLError(f"no project '{id}'")
        return project

    def query_tasks(
        _root: Any,
        _info: Any,
        first: int | None = 50,
        after: str | None = None,
        filter: Row | None = None,
        **_: Any,
    ) -> Row:
        project_id = (filter or {}).get("projectId")
        if project_id is None:
            raise GraphQLError("the floor serves tasks of one project only")
        return data.connection(project_id, first, after)

    def project_tasks(
        project: Row, _info: Any, first: int | None = 50, after: str | None = None, **_: Any
    ) -> Row:
        return data.connection(project["id"], first, after)

    def task_phase(task: Row, _info: Any) -> Row | None:
        phase_id = task["_phase"]
        return None if phase_id is None else data.phases[phase_id]

    def task_dependencies(task: Row, _info: Any) -> list[Row]:
        return [data.tasks[dep] for dep in task["_deps"]]

    def object_type(name: str) -> GraphQLObjectType:
        found = schema.type_map[name]
        assert isinstance(found, GraphQLObjectType), name
        return found

    query = object_type("Query")
    query.fields["project"].resolve = query_project
    query.fields["tasks"].resolve = query_tasks
    object_type("Project").fields["tasks"].resolve = project_tasks
    task_type = object_type("Task")
    task_type.fields["phase"].resolve = task_phase
    task_type.fields["dependencies"].resolve = task_dependencies
    return schema
