"""A run's log: lines collected from its steps and written in batches.

Lines are masked as they arrive, then written every ``FLUSH_DELAY`` seconds or every
``FLUSH_LINES`` lines, whichever comes first: one journal change per flush holding the
``LogLine`` rows and one ``step.log`` event per step (``data: {"lines": [...], "first": N}``,
N being the index of the first line within that step's output). A step that prints faster
than the database can take it is slowed down once ``MAX_BACKLOG`` lines wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pommel.domain.status import StepStatus
from pommel.engine.executors import LogSink
from pommel.engine.journal import Change
from pommel.engine.masking import Masker
from pommel.engine.state import RunState, now
from pommel.events.model import EventType, NewEvent
from pommel.services.run_events import run_event

FLUSH_DELAY = 0.1
FLUSH_LINES = 200
MAX_BACKLOG = 10_000
#: Streams: the step's own, and Pommel's notes about the step (executor, cache, retries).
SYSTEM = "system"

Submit = Callable[[Change], "asyncio.Future[None]"]


class LogBuffer:
    def __init__(self, run: RunState, submit: Submit, mask: Masker) -> None:
        self._run = run
        self._submit = submit
        self._mask = mask
        self._lines: list[tuple[str, str, str, datetime]] = []
        self._counts: dict[str, int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._last: asyncio.Future[None] | None = None

    def sink(self, step: str) -> LogSink:
        """The ``LogSink`` an executor streams ``step``'s output to."""

        async def write(stream: str, line: str) -> None:
            self.add(step, stream, line)
            if len(self._lines) >= MAX_BACKLOG and self._last is not None:
                await asyncio.shield(self._last)

        return write

    def add(self, step: str, stream: str, text: str) -> None:
        self._lines.append((step, stream, self._mask(text), now()))
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)

    def note(self, step: str, text: str) -> None:
        """A line from Pommel itself about ``step``."""
        self.add(step, SYSTEM, text)

    def take(self, step: str | None = None) -> tuple[list[dict[str, Any]], list[NewEvent]]:
        """Remove the waiting lines (of one step, or all) as rows and ``step.log`` events, to
        write them with another change (a step's last lines go with its ``step.finished``)."""
        if step is None:
            taken, self._lines = self._lines, []
        else:
            taken = [line for line in self._lines if line[0] == step]
            self._lines = [line for line in self._lines if line[0] != step]
        if not self._lines and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows: list[dict[str, Any]] = []
        by_step: dict[str, list[dict[str, Any]]] = {}
        for name, stream, text, at in taken:
            row = {"run": self._run.pk, "step": name, "stream": stream, "text": text, "at": at}
            rows.append(row)
            by_step.setdefault(name, []).append(
                {"stream": stream, "text": text, "at": at.isoformat()}
            )
        events = []
        for name, lines in by_step.items():
            first = self._counts.get(name, 0)
            self._counts[name] = first + len(lines)
            events.append(
                run_event(
                    EventType.STEP_LOG,
                    self._run.ids,
                    step=name,
                    status=StepStatus.RUNNING.value,
                    message=f"{len(lines)} line(s) from step '{name}'",
                    lines=lines,
                    first=first,
                )
            )
        return rows, events

    def flush(self) -> None:
        """Write every waiting line now (in the background)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, events = self.take()
        if rows:
            self._last = self._submit(Change(self._run.pk, logs=rows, events=events))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
