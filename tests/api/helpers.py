"""GraphQL documents and small builders shared by the API tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

CREATE_PROJECT = (
    "mutation($input: CreateProjectInput!) { createProject(input: $input) { id name } }"
)
CREATE_PHASE = (
    "mutation($input: CreatePhaseInput!) { createPhase(input: $input) { id name position } }"
)
CREATE_TASK = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { id name status priority assignee metadata phase { id } }
}
"""
UPDATE_TASK = """
mutation($id: ID!, $input: UpdateTaskInput!) {
  updateTask(id: $id, input: $input) { id name status statusReason priority assignee metadata phase { id } }
}
"""
ADD_DEPENDENCY = """
mutation($t: ID!, $d: ID!) { addTaskDependency(taskId: $t, dependsOnId: $d) { id dependencies { id } } }
"""


async def make_project(gql: GraphQLClient, name: str = "Apollo") -> str:
    data = await gql.data(CREATE_PROJECT, {"input": {"name": name}})
    project_id: str = data["createProject"]["id"]
    return project_id


async def make_task(gql: GraphQLClient, project_id: str, name: str = "task", **fields: Any) -> str:
    data = await gql.data(CREATE_TASK, {"input": {"projectId": project_id, "name": name, **fields}})
    task_id: str = data["createTask"]["id"]
    return task_id


async def make_phase(gql: GraphQLClient, project_id: str, name: str, **fields: Any) -> str:
    data = await gql.data(
        CREATE_PHASE, {"input": {"projectId": project_id, "name": name, **fields}}
    )
    phase_id: str = data["createPhase"]["id"]
    return phase_id
