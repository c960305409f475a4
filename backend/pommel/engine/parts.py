"""What every runner of a worker shares: the journal, executors, cache and secrets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pommel.engine.cache import StepCache
from pommel.engine.executors import Executor, HttpCaller
from pommel.engine.journal import Journal
from pommel.services.run_records import RunRecord
from pommel.storage.database import Database

if TYPE_CHECKING:
    from pommel.engine.composite import ChildRuns
    from pommel.engine.runner import Runner


@dataclass
class EngineParts:
    db: Database
    owner: str
    journal: Journal
    executor: Executor
    http: HttpCaller
    cache: StepCache
    #: Every configured secret; a run only ever sees those its definition names.
    secrets: Mapping[str, str]
    children: ChildRuns
    #: Take a run over from a worker that is gone (returns it, or None if another was faster).
    take_over: Callable[[RunRecord], Awaitable[RunRecord | None]]
    #: Runners executing now, by run pk (children included), so a cancel can find them.
    runners: dict[int, Runner] = field(default_factory=dict)
