"""GraphQL enums: the domain's own enums, registered with Strawberry under these names.

``strawberry.enum`` attaches its definition to the class and returns it, so the domain enums
are used directly in annotations and the domain layer stays free of framework imports.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from pommel.domain.status import Priority, RunStatus, StepStatus, TaskStatus, WorkflowType
from pommel.services.tasks import TaskOrderField

strawberry.enum(TaskStatus, name="TaskStatus", description="Where a task stands.")
strawberry.enum(Priority, name="Priority")
strawberry.enum(WorkflowType, name="WorkflowType")
strawberry.enum(RunStatus, name="RunStatus")
strawberry.enum(StepStatus, name="StepStatus")
strawberry.enum(TaskOrderField, name="TaskOrderField")


@strawberry.enum
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


__all__ = [
    "OrderDirection",
    "Priority",
    "RunStatus",
    "StepStatus",
    "TaskOrderField",
    "TaskStatus",
    "WorkflowType",
]
