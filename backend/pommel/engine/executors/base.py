"""The one interface every executor implements, and the value types it speaks.

The runner renders a step completely (no ``${...}`` left) into a :class:`ProcessStep`, hands it to
an :class:`Executor` and gets back a :class:`ProcessResult`. A command that fails is a normal
result with a non-zero exit code; only a timeout (:class:`StepTimeout`) or a broken engine
(:class:`EngineError`) raises. Cancelling the task awaiting :meth:`Executor.run` stops the work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: How much of each output stream a result keeps. The full text still reaches the log sink; the
#: cap only protects the server's memory from a step that prints gigabytes.
OUTPUT_LIMIT = 1024 * 1024

#: (stream, line): stream is "stdout" or "stderr", the line has no trailing newline.
LogSink = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True)
class ProcessStep:
    """A container or script step, fully rendered."""

    run_id: str
    step: str
    attempt: int
    image: str
    #: A string command arrives already as ("sh", "-c", cmd).
    argv: tuple[str, ...]
    #: Path inside the container, e.g. "/app"; None means the image's default.
    workdir: str | None
    env: Mapping[str, str] = field(default_factory=dict)
    #: Path relative to ``workdir`` -> content (script sources), written before the command runs.
    files: Mapping[str, str] = field(default_factory=dict)
    #: Seconds; None means no limit.
    timeout: float | None = None
    #: Non-None when the user asked for skipCache: defeats the executor's own cache.
    cache_buster: str | None = None


@dataclass(frozen=True)
class ProcessResult:
    """What a finished command produced. Each stream keeps at most its last OUTPUT_LIMIT chars."""

    exit_code: int
    stdout: str
    stderr: str


class StepTimeout(Exception):
    """The step exceeded its timeout; its processes have already been told to stop."""


class EngineError(Exception):
    """The engine or infrastructure failed (not the command); the message says what."""


@runtime_checkable
class Executor(Protocol):
    """Runs rendered process steps somewhere: host processes or containers."""

    #: "local" | "dagger"
    name: str
    #: False when steps run without container isolation.
    isolated: bool
    #: One line for run records and logs.
    description: str

    async def start(self) -> None:
        """Prepare the executor (connect to an engine, create directories)."""
        ...

    async def close(self) -> None:
        """Release connections and stop anything still running."""
        ...

    async def run(self, step: ProcessStep, *, log: LogSink) -> ProcessResult:
        """Run one step, streaming its output lines to ``log``.

        Raises StepTimeout when ``step.timeout`` elapses, EngineError when the infrastructure
        fails; re-raises CancelledError after stopping the work when the awaiting task is
        cancelled.
        """
        ...


class TailBuffer:
    """Keeps the last ``limit`` characters of a text stream, in constant memory."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self._limit = limit
        self._chunks: deque[str] = deque()
        self._size = 0
        self._dropped = 0

    def append(self, text: str) -> None:
        """Add text at the end, forgetting the oldest text beyond the limit."""
        if not text:
            return
        self._chunks.append(text)
        self._size += len(text)
        # Drop whole chunks while the rest still covers the limit; trim the last one in text().
        while self._chunks and self._size - len(self._chunks[0]) >= self._limit:
            first = self._chunks.popleft()
            self._size -= len(first)
            self._dropped += len(first)

    def text(self) -> str:
        """The kept text, prefixed with a marker when anything was dropped."""
        joined = "".join(self._chunks)
        dropped = self._dropped
        if len(joined) > self._limit:
            dropped += len(joined) - self._limit
            joined = joined[-self._limit :]
        if dropped:
            return f"[pommel: output truncated, first {dropped} characters dropped]\n{joined}"
        return joined


def bounded(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """The last ``limit`` characters of ``text``, with the same marker as TailBuffer."""
    buffer = TailBuffer(limit)
    buffer.append(text)
    return buffer.text()


async def log_text(log: LogSink, stream: str, text: str) -> None:
    """Send a whole captured output to ``log`` line by line (no trailing empty line)."""
    if not text:
        return
    for line in text.removesuffix("\n").split("\n"):
        await log(stream, line)


def exit_status(returncode: int) -> int:
    """A shell-style exit code: a process killed by signal N reports 128 + N, as containers do."""
    return 128 - returncode if returncode < 0 else returncode
