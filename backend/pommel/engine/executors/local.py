"""The local executor: each step is a host process, with no container isolation.

It is the embedded default on a machine without a container engine. It keeps the same contract
as the Dagger executor (env, workdir, files, timeout, output, exit code) but the image is
ignored and the command sees the host's filesystem and tools.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pommel.engine.executors.base import (
    LogSink,
    ProcessResult,
    ProcessStep,
    StepTimeout,
    TailBuffer,
    exit_status,
)

#: How long a process group gets between SIGTERM and SIGKILL.
KILL_GRACE = 1.0
#: Read size for the output pipes.
_CHUNK = 64 * 1024
#: A "line" longer than this is cut and delivered in pieces, so one giant line cannot exhaust
#: memory before it ever reaches the log.
MAX_LINE = 64 * 1024
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
#: How often to look for the exit code once the process has exited (see _exited).
_POLL = 0.002


class LocalExecutor:
    """Runs steps as host processes in ``base_dir/<run_id>/``, shared by a run's steps."""

    name: str = "local"
    isolated: bool = False
    description: str = (
        "local executor: host processes, no container isolation (the step's image is ignored)"
    )

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = Path(base_dir)
        # Live processes, so close() can stop whatever a crashed runner left behind.
        self._running: set[asyncio.subprocess.Process] = set()

    async def start(self) -> None:
        """Create the base directory."""
        self.base_dir.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        """Kill any process group still running."""
        for proc in list(self._running):
            await _stop_group(proc, grace=0)

    def run_dir(self, run_id: str) -> Path:
        """The directory shared by the steps of one run."""
        if not run_id or run_id in {".", ".."} or "/" in run_id or "\\" in run_id:
            raise ValueError(f"run id {run_id!r} cannot name a directory")
        return self.base_dir / run_id

    def cleanup(self, run_id: str) -> None:
        """Remove a run's directory and everything its steps left in it."""
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    async def run(self, step: ProcessStep, *, log: LogSink) -> ProcessResult:
        """Run the step's argv as a host process (see Executor.run)."""
        if not step.argv:
            raise ValueError(f"step {step.step!r} has an empty command")
        run_dir = self.run_dir(step.run_id)
        cwd = _inside(run_dir, step.workdir or ".")
        cwd.mkdir(parents=True, exist_ok=True)
        tmp = run_dir / ".tmp"
        tmp.mkdir(exist_ok=True)
        for rel, content in step.files.items():
            target = _inside(cwd, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            # Same mode as the Dagger executor gives script files: runnable as ./script.
            target.chmod(0o755)
        env = _clean_env(run_dir, tmp, step.env)

        try:
            proc = await _spawn(
                step.argv,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Own process group: a timeout or cancel kills the command and its children.
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            # What a shell (and a container runtime) reports: 127 not found, 126 not runnable.
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            message = f"pommel: cannot run {step.argv[0]!r}: {exc.strerror or exc}"
            await log("stderr", message)
            return ProcessResult(exit_code=code, stdout="", stderr=message + "\n")

        self._running.add(proc)
        try:
            return await _supervise(proc, step, log)
        finally:
            self._running.discard(proc)


async def _spawn(argv: tuple[str, ...], **kwargs: Any) -> asyncio.subprocess.Process:
    """Start a process; if cancelled meanwhile, kill its group before re-raising.

    The command can already be running (and forking) before create_subprocess_exec returns.
    Cancelled at that point, asyncio would kill only the leader and then wait for the pipes,
    which a surviving child keeps open: the cancel would hang until that child exits.
    """
    creation = asyncio.ensure_future(asyncio.create_subprocess_exec(*argv, **kwargs))
    try:
        return await asyncio.shield(creation)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await _stop_group(await creation, grace=0)
        raise


async def _supervise(
    proc: asyncio.subprocess.Process, step: ProcessStep, log: LogSink
) -> ProcessResult:
    """Stream the output, enforce the timeout, and always leave no process behind."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    out, err = TailBuffer(), TailBuffer()

    async def reap() -> None:
        await _exited(proc)
        # A container ends when its main process does: kill anything the command left in the
        # background, which would otherwise hold the pipes open and hang the readers.
        _signal_group(proc.pid, signal.SIGKILL)

    # Plain tasks rather than gather(): cancelling run() must not cancel the readers before the
    # group is dead, so the last output still reaches the log.
    tasks = [
        asyncio.create_task(reap()),
        asyncio.create_task(_pump(proc.stdout, "stdout", out, log)),
        asyncio.create_task(_pump(proc.stderr, "stderr", err, log)),
    ]
    try:
        async with asyncio.timeout(step.timeout) as deadline:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # re-raise a failing log sink
    except TimeoutError:
        await _stop_group(proc, grace=KILL_GRACE)
        await _drain(tasks)
        if deadline.expired():
            raise StepTimeout(
                f"step {step.step!r} exceeded its timeout of {step.timeout:g}s"
            ) from None
        raise
    except BaseException:
        # Cancellation (or a failing log sink): stop the whole group, then re-raise.
        await _stop_group(proc, grace=KILL_GRACE)
        await _drain(tasks)
        raise
    return ProcessResult(
        exit_code=exit_status(proc.returncode or 0), stdout=out.text(), stderr=err.text()
    )


async def _pump(reader: asyncio.StreamReader, stream: str, keep: TailBuffer, log: LogSink) -> None:
    """Copy a pipe into ``keep`` and deliver it to ``log`` line by line as it arrives."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    while True:
        chunk = await reader.read(_CHUNK)
        text = decoder.decode(chunk, final=not chunk)
        keep.append(text)
        pending += text
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            await log(stream, line)
        while len(pending) > MAX_LINE:
            await log(stream, pending[:MAX_LINE])
            pending = pending[MAX_LINE:]
        if not chunk:
            break
    if pending:
        await log(stream, pending)


async def _drain(tasks: list[asyncio.Task[None]]) -> None:
    """Let the readers finish once the group is dead (the pipes then close); ignore their errors.

    The wait is bounded: a process that escaped the group (setsid) could keep a pipe open.
    """
    _, pending = await asyncio.wait(tasks, timeout=KILL_GRACE)
    for task in pending:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task


async def _stop_group(proc: asyncio.subprocess.Process, *, grace: float) -> None:
    """SIGTERM the process group, then SIGKILL it after ``grace`` seconds, and reap the leader."""
    if proc.returncode is None and grace > 0:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_exited(proc), timeout=grace)
    # Always SIGKILL the group: children may outlive a leader that obeyed SIGTERM.
    _signal_group(proc.pid, signal.SIGKILL)
    await asyncio.shield(_exited(proc))


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Wait for the process itself to exit.

    Not ``proc.wait()``: on Python 3.11 that returns only once the output pipes are closed too,
    which a background child holding them can delay forever. A pidfd (Linux) becomes readable
    the moment the process exits; asyncio's child watcher records the exit code a moment later,
    so a very short poll covers that gap (and platforms without pidfds).
    """
    if proc.returncode is not None:
        return
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfds here, or the process is already reaped
        fd = None
    if fd is not None:
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def on_exit() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(fd, on_exit)
        try:
            await exited
        finally:
            loop.remove_reader(fd)
            os.close(fd)
    while proc.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(_POLL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _inside(root: Path, container_path: str) -> Path:
    """Map a container path (absolute, or relative to ``root``) to a host path under ``root``."""
    relative = PurePosixPath(container_path.lstrip("/") or ".")
    if ".." in relative.parts:
        raise ValueError(f"path {container_path!r} must not contain '..'")
    return root.joinpath(*relative.parts)


def _clean_env(run_dir: Path, tmp: Path, step_env: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: never the server's own, which may hold secrets."""
    env = {
        "PATH": os.environ.get("PATH", _DEFAULT_PATH),
        "HOME": str(run_dir),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TMPDIR": str(tmp),
    }
    env.update(step_env)
    return env
