"""Names on the MCP side (snake_case) and on the GraphQL side (camelCase), and back."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``taskId`` → ``task_id``; ``CreateWorkflowFromTask`` → ``create_workflow_from_task``."""
    return _BOUNDARY.sub("_", name).lower()


def enum_value(graphql_name: str) -> str:
    """The contract's value of a GraphQL enum name: ``CONTAINERIZED_WORKFLOW`` → lower case.

    Every enum of the API follows this rule (``PLANNED`` ↔ ``planned``), so agents read and
    write the domain's own spelling.
    """
    return graphql_name.lower()
