"""Executing one step of a run: render it, reuse a cached outcome or run it (with retries and
the step's timeout), then record the outcome.

Process steps (``container``, ``script``) go to the executor, ``http`` steps to the HTTP caller
and ``workflow`` steps start a child run (``composite``). Everything recorded is masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pommel.domain.status import RunStatus, StepStatus
from pommel.domain.template import TemplateError, render_step, step_outputs
from pommel.engine.cache import (
    CACHEABLE_KINDS,
    CachedStep,
    cache_key,
    secret_placeholders,
)
from pommel.engine.executors import (
    EngineError,
    HttpRequest,
    HttpStepError,
    ProcessStep,
    StepTimeout,
)
from pommel.engine.executors.base import bounded
from pommel.engine.state import StepState

if TYPE_CHECKING:
    from pommel.engine.runner import Runner

#: How much of each output stream a step record keeps (the log keeps everything).
RECORD_LIMIT = 64 * 1024


@dataclass
class Attempt:
    """What one attempt produced."""

    ok: bool
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    http_status: int | None = None


class StepDriver:
    def __init__(self, runner: Runner, step: StepState, definition: dict[str, Any]) -> None:
        self.runner = runner
        self.step = step
        self.definition = definition

    async def execute(self) -> None:
        runner, step = self.runner, self.step
        kind = self.definition.get("kind")
        try:
            ready = render_step(self.definition, steps=runner.outcomes(), secrets=runner.secrets)
        except TemplateError as exc:
            self._fail(f"cannot render the step: {exc}")
            return
        if kind == "workflow":
            from pommel.engine.composite import run_child

            await run_child(runner, step, self.definition)
            return
        if kind == "http":
            await self._attempts(lambda n: self._call(ready, n))
            return
        if kind not in CACHEABLE_KINDS:
            self._fail(f"unknown step kind '{kind}'")
            return
        if await self._reuse_cached(ready):
            return
        await self._attempts(lambda n: self._process(ready, n))

    # -- cache --------------------------------------------------------------------------

    async def _reuse_cached(self, ready: dict[str, Any]) -> bool:
        runner, step = self.runner, self.step
        try:
            for_key = render_step(
                self.definition,
                steps=runner.outcomes(),
                secrets=secret_placeholders(runner.secret_names),
            )
        except TemplateError:
            return False
        needs = {
            name: runner.steps[name].outcome()
            for name in self.definition.get("needs") or ()
            if name in runner.steps
        }
        step.cache_key = cache_key(executor=runner.parts.executor.name, step=for_key, needs=needs)
        if runner.state.skip_cache:
            return False
        hit = await runner.parts.cache.lookup(step.cache_key)
        if hit is None:
            return False
        step.cached = True
        step.exit_code = hit.exit_code
        step.stdout, step.stderr = hit.stdout, hit.stderr
        step.outputs = dict(hit.outputs)
        step.status = StepStatus.SUCCEEDED
        step.started_at = None
        runner.logs.note(
            step.name, f"cache hit: reusing the outcome of step '{hit.step}' of run-{hit.run_pk}"
        )
        runner.step_finished(step)
        return True

    # -- attempts -----------------------------------------------------------------------

    async def _attempts(self, attempt: Callable[[int], Awaitable[Attempt]]) -> None:
        """Run up to 1 + retries.count attempts, backing off exponentially between them."""
        runner, step = self.runner, self.step
        retries = self.definition.get("retries") or {}
        count = int(retries.get("count") or 0)
        backoff = float(retries.get("backoff") or 0.0)
        result = Attempt(ok=False)
        for number in range(1, count + 2):
            step.attempts = number
            runner.step_started(
                step, note=None if number == 1 else f"attempt {number} of {count + 1}"
            )
            result = await attempt(number)
            if result.ok or number > count:
                break
            delay = backoff * 2 ** (number - 1)
            why = result.error or f"exit code {result.exit_code}"
            runner.logs.note(step.name, f"attempt {number} failed ({why}); retrying in {delay:g}s")
            await asyncio.sleep(delay)
        self._record(result)

    async def _process(self, ready: dict[str, Any], number: int) -> Attempt:
        runner, step = self.runner, self.step
        state = runner.state
        process = ProcessStep(
            run_id=state.label,
            step=step.name,
            attempt=number,
            image=str(ready.get("image") or "alpine:latest"),
            argv=tuple(str(arg) for arg in ready.get("argv") or ()),
            workdir=ready.get("workdir"),
            env={str(k): str(v) for k, v in (ready.get("env") or {}).items()},
            files={str(k): str(v) for k, v in (ready.get("files") or {}).items()},
            timeout=_seconds(self.definition.get("timeout")),
            # A value no earlier run used, so the executor's own cache cannot answer: asked
            # for by skipCache, and needed by a retry (Dagger caches a failed exec's result).
            cache_buster=(
                f"{state.label}/{step.name}/{number}" if state.skip_cache or number > 1 else None
            ),
        )
        try:
            result = await runner.parts.executor.run(process, log=runner.logs.sink(step.name))
        except (StepTimeout, EngineError, ValueError) as exc:
            return Attempt(ok=False, error=str(exc))
        return Attempt(
            ok=result.exit_code == 0,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
        )

    async def _call(self, ready: dict[str, Any], _number: int) -> Attempt:
        runner, step = self.runner, self.step
        spec = ready.get("http") or {}
        request = HttpRequest(
            method=str(spec.get("method", "GET")),
            url=str(spec.get("url", "")),
            headers={str(k): str(v) for k, v in (spec.get("headers") or {}).items()},
            body=spec.get("body"),
            expect_status=tuple(int(s) for s in spec.get("expect_status") or (200,)),
            timeout=_seconds(self.definition.get("timeout")),
        )
        try:
            response = await runner.parts.http.call(request, log=runner.logs.sink(step.name))
        except (StepTimeout, HttpStepError) as exc:
            return Attempt(ok=False, error=str(exc))
        error = None
        if not response.ok:
            expected = ", ".join(map(str, request.expect_status))
            error = f"HTTP {response.status} (expected {expected})"
        return Attempt(
            ok=response.ok, stdout=response.text, error=error, http_status=response.status
        )

    # -- recording ----------------------------------------------------------------------

    def _record(self, result: Attempt) -> None:
        runner, step, mask = self.runner, self.step, self.runner.mask
        step.exit_code = result.exit_code
        step.stdout = mask(bounded(result.stdout, RECORD_LIMIT))
        step.stderr = mask(bounded(result.stderr, RECORD_LIMIT))
        step.error = mask(result.error) if result.error else None
        try:
            outputs = step_outputs(
                self.definition.get("outputs") or {},
                stdout=result.stdout,
                exit_code=result.exit_code,
                http_status=result.http_status,
            )
            step.outputs = {k: mask(v) for k, v in outputs.items()}
        except TemplateError as exc:
            result.ok = False
            step.error = mask(f"outputs: {exc}")
        step.status = StepStatus.SUCCEEDED if result.ok else StepStatus.FAILED
        if result.ok and step.cache_key is not None:
            runner.parts.cache.remember(
                step.cache_key,
                CachedStep(
                    run_pk=runner.state.pk,
                    step=step.name,
                    exit_code=step.exit_code,
                    stdout=step.stdout,
                    stderr=step.stderr,
                    outputs=dict(step.outputs),
                ),
            )
        runner.step_finished(step)

    def _fail(self, error: str) -> None:
        self.step.status = StepStatus.FAILED
        self.step.error = self.runner.mask(error)
        self.runner.step_finished(self.step)


def child_outcome(
    step: StepState, status: RunStatus, outputs: dict[str, Any], error: str | None
) -> None:
    """A workflow step's outcome is its child run's: status, outputs and error."""
    step.status = StepStatus.SUCCEEDED if status is RunStatus.SUCCEEDED else StepStatus.FAILED
    step.outputs = {k: str(v) for k, v in outputs.items()}
    step.error = None if status is RunStatus.SUCCEEDED else (error or f"child run {status.value}")


def _seconds(value: object) -> float | None:
    if value is None or value == "":
        return None
    number = float(str(value))
    return number if number > 0 else None
