"""The GraphQL schema: every area's queries, mutations and subscriptions in one place.

``build_schema`` applies the configured query limits; ``schema`` (default limits) is what the
SDL in ``schema/schema.graphql`` is exported from.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from pommel.api.admin import AdminMutation, AdminQuery
from pommel.api.authorization import Authorization
from pommel.api.context import Info
from pommel.api.errors import ErrorShaping
from pommel.api.node_lookup import resolve_node
from pommel.api.planning import PlanningMutation, PlanningQuery
from pommel.api.project_runs import ProjectRunMutation, ProjectRunQuery
from pommel.api.relay import Node
from pommel.api.runs import RunMutation, RunQuery
from pommel.api.stats import StatsQuery
from pommel.api.subscriptions import EventLogQuery, StreamedErrorShaping, Subscription
from pommel.api.workflows import WorkflowMutation, WorkflowQuery
from pommel.config import Settings


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its id (`proj-3`, `task-12`, `run-41`, …).")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)


@strawberry.type
class Query(
    NodeQuery,
    PlanningQuery,
    WorkflowQuery,
    RunQuery,
    ProjectRunQuery,
    StatsQuery,
    EventLogQuery,
    AdminQuery,
):
    pass


@strawberry.type
class Mutation(PlanningMutation, WorkflowMutation, RunMutation, ProjectRunMutation, AdminMutation):
    pass


class PommelSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorShaping logs what is unexpected, with the request id; expected errors
        # (validation, not found, …) are answers, not server faults, so they are not logged.
        return None


def build_schema(settings: Settings | None = None) -> PommelSchema:
    settings = settings or Settings()
    extensions: list[Any] = [
        ErrorShaping,
        StreamedErrorShaping,
        Authorization,  # authentication, rate limit and scopes: before validation
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_query_aliases),
    ]
    return PommelSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )


schema = build_schema()
