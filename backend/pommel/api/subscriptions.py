"""Live events over WebSocket (``graphql-transport-ws``) and the polling ``events`` query.

Every subscription is fed by the app's ``EventBroker``: a replay of the stored events after
``after``, then live ones, with no gap and no duplicate.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult, StreamExecutionResult

from pommel.api.context import Info
from pommel.api.errors import shape_error
from pommel.api.nodes.event import EventNode, check_after, check_types
from pommel.domain.status import RunStatus
from pommel.errors import NotFound, ValidationFailed
from pommel.events.log import read_after
from pommel.events.model import EventType, StoredEvent
from pommel.ids import Kind, format_id, parse_id
from pommel.services.pagination import MAX_PAGE
from pommel.services.projects import get_project
from pommel.storage.tables import WorkflowRun

DEFAULT_EVENT_PAGE = 100


class StreamedErrorShaping(SchemaExtension):
    """``ErrorShaping`` for each streamed result.

    Over WebSocket every result (each subscription event, or a query's single result) is sent
    before the operation ends, so the operation-level shaping would come too late.
    """

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = [shape_error(error) for error in result.errors]
        yield


async def _run_finished(pk: int) -> bool:
    """Whether run ``pk`` has finished; ``NOT_FOUND`` when there is no such run.

    Reads the status alone: every subscription starts with it, and a whole run row carries
    its definition and outputs.
    """
    row = await WorkflowRun.select(WorkflowRun.status).where(WorkflowRun.id == pk).first()
    if row is None:
        raise NotFound(f"no workflow run '{format_id(Kind.RUN, pk)}'")
    return RunStatus(row["status"]).finished


async def _stream(
    source: AsyncGenerator[StoredEvent, None], *, last_type: EventType | None = None
) -> AsyncGenerator[EventNode, None]:
    """``source`` as GraphQL events, ending after an event of ``last_type``."""
    async with contextlib.aclosing(source):  # unsubscribes as soon as the client leaves
        async for event in source:
            yield EventNode.from_stored(event)
            if event.type == last_type:
                return


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "A workflow run's events: those after `after` (default: from the run's start), then "
            "live ones. Completes after the run's `run.finished` event; for a finished run, "
            "after replaying its events."
        )
    )
    async def workflow_run_events(
        self, info: Info, run_id: strawberry.ID, after: int | None = None
    ) -> AsyncIterator[EventNode]:
        check_after(after)
        pk = parse_id(run_id, Kind.RUN)
        broker = info.context.runtime.broker
        if await _run_finished(pk):
            # Nothing more will happen to it: the stored events are all there is.
            return _stream(broker.replay(after=after or 0, run_id=pk))
        return _stream(
            broker.subscribe(after=after or 0, run_id=pk), last_type=EventType.RUN_FINISHED
        )

    @strawberry.subscription(
        description=(
            "A project's events: those after `after` if given, then live ones. Completes after "
            "the project's `project.deleted` event."
        )
    )
    async def project_events(
        self, info: Info, project_id: strawberry.ID, after: int | None = None
    ) -> AsyncIterator[EventNode]:
        check_after(after)
        pk = parse_id(project_id, Kind.PROJECT)
        await get_project(pk)  # NOT_FOUND for an unknown project
        source = info.context.runtime.broker.subscribe(after=after, project_id=pk)
        return _stream(source, last_type=EventType.PROJECT_DELETED)

    @strawberry.subscription(
        description=(
            'Every event (or those of `types`, e.g. `["run.finished"]`): those after `after` '
            "if given, then live ones."
        )
    )
    async def events(
        self, info: Info, after: int | None = None, types: list[str] | None = None
    ) -> AsyncIterator[EventNode]:
        check_after(after)
        wanted = check_types(types)
        return _stream(info.context.runtime.broker.subscribe(after=after, types=wanted))


@strawberry.type
class EventLogQuery:
    @strawberry.field(
        description=(
            "The event log, oldest first, for clients that poll: pass the last `sequence` seen "
            "as `after` to get what came since."
        )
    )
    async def events(
        self,
        after: int | None = 0,
        first: int | None = DEFAULT_EVENT_PAGE,
        types: list[str] | None = None,
        project_id: strawberry.ID | None = None,
        run_id: strawberry.ID | None = None,
    ) -> list[EventNode]:
        check_after(after)
        if first is not None and not 0 <= first <= MAX_PAGE:
            raise ValidationFailed({"first": f"must be between 0 and {MAX_PAGE} (got {first})"})
        wanted = check_types(types)
        # Events outlive what they describe: a deleted project's or run's events stay readable.
        stored = await read_after(
            after=after or 0,
            limit=DEFAULT_EVENT_PAGE if first is None else first,
            project_id=parse_id(project_id, Kind.PROJECT) if project_id else None,
            run_id=parse_id(run_id, Kind.RUN) if run_id else None,
            types=wanted,
        )
        return [EventNode.from_stored(event) for event in stored]
