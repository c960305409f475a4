"""The runner: executes one run's steps as a DAG.

A step starts as soon as every step it ``needs`` has finished and its ``if`` holds (by default:
they all succeeded); independent steps run in parallel. A failed step fails the run, and the
steps that need it are skipped unless their ``if`` says otherwise (``failure()``,
``always()``). The run's ``timeout`` bounds the whole run.

The worker claims a run before handing it to a runner. Every state change then goes to the
journal as it happens without waiting for the commit (the journal keeps them in order), so a
step never waits on the database to start; the runner waits only for its final record.

A run stops early when asked: ``cancel`` (recorded as ``cancelled``), ``timeout`` (recorded as
``failed``), ``shutdown`` (nothing recorded: the run stays ``running`` and is resumed at the
next start) or ``lease_lost`` (nothing recorded: another worker owns it now).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

from pommel.domain.status import RunStatus, StepStatus
from pommel.domain.template import StepOutcome, TemplateError, evaluate_condition, render_runtime
from pommel.domain.template import secret_names as definition_secrets
from pommel.engine.journal import Change, LeaseLost, TaskIntent
from pommel.engine.logs import LogBuffer
from pommel.engine.masking import Masker
from pommel.engine.parts import EngineParts
from pommel.engine.state import RunState, StepState, millis, now
from pommel.engine.steps import StepDriver
from pommel.events.model import EventType, NewEvent
from pommel.services.run_events import run_event
from pommel.services.run_records import RunRecord, StepRecord

log = logging.getLogger(__name__)

StopReason = Literal["cancel", "timeout", "shutdown", "lease_lost"]
#: The ``step`` of log lines about the run as a whole.
RUN_LOG = ""


class Runner:
    def __init__(
        self,
        parts: EngineParts,
        run: RunRecord,
        steps: Sequence[StepRecord] = (),
        *,
        parent: Runner | None = None,
    ) -> None:
        self.parts = parts
        self.state = RunState.from_record(run)
        self.parent = parent
        self.cancel_requested = run.cancel_requested
        self.defs: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, StepState] = {}
        kept = {s.name: s for s in steps if s.status is StepStatus.SUCCEEDED}
        for position, step in enumerate(run.step_definitions):
            name = str(step.get("name"))
            self.defs[name] = step
            # Steps that succeeded before (a resumed run, or a retry) keep their outcome;
            # every other step runs (again).
            previous = kept.get(name)
            self.steps[name] = (
                StepState.from_record(previous)
                if previous is not None
                else StepState(name=name, position=position, kind=str(step.get("kind")))
            )
            if previous is None:
                old = next((s for s in steps if s.name == name), None)
                if old is not None and old.child_run_pk is not None:
                    self.steps[name].child_run = old.child_run_pk
        names = definition_secrets(run.definition)
        self.secrets = {n: parts.secrets[n] for n in names if n in parts.secrets}
        self.secret_names = names
        self.mask = Masker(self.secrets)
        self.logs = LogBuffer(self.state, self.submit, self.mask)
        self.stop_reason: StopReason | None = None
        #: True once the final state is committed (only then is the run finished for others).
        self.recorded = False
        self._stopped = asyncio.Event()
        self._futures: list[asyncio.Future[None]] = []
        # Findable for a cancel from the moment it exists, before it starts executing.
        parts.runners[self.state.pk] = self

    # -- control ------------------------------------------------------------------------

    def stop(self, reason: StopReason) -> None:
        """Stop the run's steps; the first reason given wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stopped.set()

    def submit(self, change: Change) -> asyncio.Future[None]:
        """Hand a change to the journal; a lost lease stops the run."""
        future = self.parts.journal.submit(change)
        if len(self._futures) > 100:
            self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(future)
        future.add_done_callback(self._settled)
        return future

    def _settled(self, future: asyncio.Future[None]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, LeaseLost):
            self.stop("lease_lost")
        elif error is not None:
            log.error("run %s: a change could not be written: %s", self.state.label, error)

    # -- the run ------------------------------------------------------------------------

    async def execute(self) -> RunState:
        """Execute the run to the end (or until stopped); returns its final state."""
        try:
            self._begin()
            if self.cancel_requested:
                self.stop("cancel")
            await self._schedule()
            await self._finish()
        finally:
            self.logs.close()
            if self.parts.runners.get(self.state.pk) is self:
                del self.parts.runners[self.state.pk]
        return self.state

    def _begin(self) -> None:
        """Record the run as started (or resumed)."""
        state = self.state
        fresh = state.status is RunStatus.QUEUED
        executor = self.parts.executor
        state.status = RunStatus.RUNNING
        state.started_at = state.started_at or now()
        state.executor = executor.name
        state.executor_note = executor.description
        events: list[NewEvent] = []
        if fresh:
            events.append(
                run_event(
                    EventType.RUN_STARTED,
                    state.ids,
                    status=state.status.value,
                    message=f"run {state.label} started on the {executor.name} executor",
                    executor=executor.name,
                    executorNote=executor.description,
                )
            )
        self.logs.note(RUN_LOG, f"executor: {executor.description}")
        kept = [s.name for s in self.steps.values() if s.status is StepStatus.SUCCEEDED]
        if kept:
            self.logs.note(RUN_LOG, f"keeping the outcome of succeeded steps: {', '.join(kept)}")
        rows, log_events = self.logs.take()
        self.submit(
            Change(
                state.pk,
                run=state.row(),
                logs=rows,
                events=log_events + events,
                task=TaskIntent(state.task_pk, RunStatus.RUNNING) if self.parent is None else None,
            )
        )

    def outcomes(self) -> dict[str, StepOutcome]:
        return {name: s.outcome() for name, s in self.steps.items() if s.finished}

    async def _schedule(self) -> None:
        running: dict[asyncio.Task[None], str] = {}
        stopped: asyncio.Task[Any] = asyncio.create_task(self._stopped.wait())
        try:
            while True:
                if not self._stopped.is_set():
                    self._start_ready(running)
                if not running:
                    return
                done, _ = await asyncio.wait(
                    [*running, stopped],
                    timeout=self._remaining(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    self.stop("timeout")
                for task in done:
                    if task in running:
                        self._collect(running.pop(task), task)
                if self._stopped.is_set():
                    await self._halt(running)
                    return
        finally:
            stopped.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    def _start_ready(self, running: dict[asyncio.Task[None], str]) -> None:
        progress = True
        while progress:
            progress = False
            for name, step in self.steps.items():
                if step.status is not StepStatus.PENDING:
                    continue
                needs = [n for n in self.defs[name].get("needs") or () if n in self.steps]
                if not all(self.steps[n].finished for n in needs):
                    continue
                progress = True
                try:
                    go = evaluate_condition(
                        self.defs[name].get("if"),
                        steps=self.outcomes(),
                        needs=needs,
                        secrets=self.secrets,
                    )
                except TemplateError as exc:
                    step.status = StepStatus.FAILED
                    step.error = self.mask(f"condition: {exc}")
                    self.step_finished(step)
                    continue
                if not go:
                    step.status = StepStatus.SKIPPED
                    self.step_finished(step)
                    continue
                step.status = StepStatus.RUNNING
                driver = StepDriver(self, step, self.defs[name])
                running[asyncio.create_task(driver.execute(), name=f"step {name}")] = name

    def _collect(self, name: str, task: asyncio.Task[None]) -> None:
        """A step task ended; it records its own outcome unless something unexpected broke."""
        error = task.exception() if not task.cancelled() else None
        step = self.steps[name]
        if error is not None and not step.finished:
            log.error("run %s step %s: %r", self.state.label, name, error, exc_info=error)
            step.status = StepStatus.FAILED
            step.error = self.mask(f"internal error: {type(error).__name__}: {error}")
            self.step_finished(step)

    def _remaining(self) -> float | None:
        timeout = self.state.definition.get("timeout")
        if not timeout or self.state.started_at is None:
            return None
        deadline = self.state.started_at + timedelta(seconds=float(timeout))
        return max(0.0, (deadline - now()).total_seconds())

    async def _halt(self, running: dict[asyncio.Task[None], str]) -> None:
        """Stop every running step (their processes are killed) and record why."""
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.stop_reason in ("shutdown", "lease_lost"):
            running.clear()
            return
        reason = self._stop_message()
        for name in running.values():
            step = self.steps[name]
            if not step.finished:
                step.status = (
                    StepStatus.CANCELLED if self.stop_reason == "cancel" else StepStatus.FAILED
                )
                step.error = reason
                self.step_finished(step)
        running.clear()

    def _stop_message(self) -> str:
        if self.stop_reason == "cancel":
            return "cancelled by request"
        timeout = self.state.definition.get("timeout")
        return f"the run exceeded its timeout of {float(timeout or 0):g}s"

    # -- steps --------------------------------------------------------------------------

    def step_started(self, step: StepState, *, note: str | None = None) -> None:
        step.status = StepStatus.RUNNING
        step.started_at = step.started_at or now()
        event = run_event(
            EventType.STEP_STARTED,
            self.state.ids,
            step=step.name,
            status=step.status.value,
            message=f"step '{step.name}' started (attempt {step.attempts})",
            attempt=step.attempts,
            kind=step.kind,
        )
        if note:
            self.logs.note(step.name, note)
        self.submit(Change(self.state.pk, steps=[step.row(self.state.pk)], events=[event]))

    def step_finished(self, step: StepState) -> None:
        """Record a finished step with its last log lines, in one change."""
        step.finished_at = now()
        rows, events = self.logs.take(step.name)
        detail = f" ({step.error})" if step.error else ""
        events.append(
            run_event(
                EventType.STEP_FINISHED,
                self.state.ids,
                step=step.name,
                status=step.status.value,
                message=f"step '{step.name}' {step.status.value}{detail}",
                exitCode=step.exit_code,
                attempts=step.attempts,
                cached=step.cached,
                durationMs=millis(step.started_at, step.finished_at),
                outputs=step.outputs,
                error=step.error,
            )
        )
        self.submit(
            Change(self.state.pk, steps=[step.row(self.state.pk)], logs=rows, events=events)
        )

    # -- the end ------------------------------------------------------------------------

    async def _finish(self) -> None:
        state = self.state
        if self.stop_reason in ("shutdown", "lease_lost"):
            if self.stop_reason == "shutdown":
                self.logs.flush()
            await self._settle_all()
            return
        for step in self.steps.values():
            if not step.finished:  # never became ready
                step.status = (
                    StepStatus.CANCELLED if self.stop_reason == "cancel" else StepStatus.SKIPPED
                )
                self.step_finished(step)
        failed = [s for s in self.steps.values() if s.status is StepStatus.FAILED]
        if self.stop_reason == "cancel":
            state.status, state.error = RunStatus.CANCELLED, self._stop_message()
        elif self.stop_reason == "timeout":
            state.status, state.error = RunStatus.FAILED, self._stop_message()
        elif failed:
            state.status = RunStatus.FAILED
            state.error = "; ".join(f"step '{s.name}' failed: {_why(s)}" for s in failed)
        else:
            state.status = RunStatus.SUCCEEDED
        try:
            outputs = render_runtime(
                state.definition.get("outputs") or {}, steps=self.outcomes(), secrets={}
            )
            state.outputs = self.mask.deep(outputs)
        except TemplateError as exc:
            if state.status is RunStatus.SUCCEEDED:
                state.status = RunStatus.FAILED
                state.error = self.mask(f"outputs: {exc}")
        state.finished_at = now()
        rows, events = self.logs.take()
        events.append(
            run_event(
                EventType.RUN_FINISHED,
                state.ids,
                status=state.status.value,
                message=f"run {state.label} {state.status.value}"
                + (f": {state.error}" if state.error else ""),
                durationMs=state.duration_ms,
                error=state.error,
                outputs=state.outputs,
            )
        )
        reason = f"{state.label} failed: {state.error}" if state.error else None
        task = TaskIntent(state.task_pk, state.status, reason) if self.parent is None else None
        final = self.submit(Change(state.pk, run=state.row(), logs=rows, events=events, task=task))
        await self._settle_all()
        error = final.exception()
        if isinstance(error, LeaseLost):
            return  # another worker owns the run now and will record it
        if error is not None:
            raise RuntimeError(f"the final state of {state.label} was not recorded: {error}")
        self.recorded = True
        cleanup = getattr(self.parts.executor, "cleanup", None)
        if callable(cleanup):
            with contextlib.suppress(Exception):
                # Removing a run's files can take milliseconds: not on the event loop.
                await asyncio.to_thread(cleanup, state.label)

    async def _settle_all(self) -> None:
        """Wait until everything submitted is written (or has failed)."""
        await asyncio.gather(*self._futures, return_exceptions=True)
        self._futures.clear()


def _why(step: StepState) -> str:
    if step.error:
        return step.error
    if step.exit_code is not None:
        return f"exit code {step.exit_code}"
    return "failed"
