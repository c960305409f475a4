"""Evaluating a pipeline's execs as local processes, with the engine's caching semantics.

A temporary directory stands in for the container's filesystem: the container path ``/app``
is ``<root>/app``, files are written there and commands run in the mapped workdir. Absolute
paths inside commands are NOT mapped (the host's ``/`` is visible), which is enough for the
executor's contract: commands use paths relative to the workdir.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.dagger_double.pipeline import ExecSpec, Pipeline


@dataclass(frozen=True)
class ExecResult:
    """What one exec produced."""

    exit_code: int
    stdout: str
    stderr: str


@dataclass
class Execution:
    """A process the double started (for tests: was it re-run, is it gone)."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    pid: int | None = None
    exit_code: int | None = None
    cancelled: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class ExecFailedError(Exception):
    """An exec's exit code did not match its ``expect``."""

    def __init__(self, spec: ExecSpec, result: ExecResult) -> None:
        super().__init__(
            f"process {' '.join(spec.args)!r} did not complete successfully: "
            f"exit code: {result.exit_code}"
        )
        self.spec = spec
        self.result = result


def expected(expect: str, exit_code: int) -> bool:
    """Whether ``exit_code`` satisfies a ReturnType, with the engine's ranges."""
    if expect == "SUCCESS":
        return exit_code == 0
    allowed = 0 <= exit_code <= 127 or 192 <= exit_code <= 255
    if expect == "FAILURE":
        return allowed and exit_code != 0
    return allowed


class ExecEngine:
    """Runs and caches execs. Results are cached by pipeline identity; failures are not."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.cache: dict[str, ExecResult] = {}
        self.executions: list[Execution] = []

    async def evaluate(self, pipeline: Pipeline) -> ExecResult | None:
        """The result of the pipeline's last exec (None if it has none), running it if needed."""
        execs = pipeline.execs
        if not execs:
            return None
        key = pipeline.key
        if key in self.cache:
            return self.cache[key]
        self.work_dir.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="ctr-", dir=self.work_dir))
        try:
            for path, contents in pipeline.files.items():
                host = _host_path(root, path)
                host.parent.mkdir(parents=True, exist_ok=True)
                host.write_text(contents, encoding="utf-8")
                host.chmod(pipeline.file_modes[path] & 0o7777)
            cwd = _host_path(root, pipeline.workdir)
            cwd.mkdir(parents=True, exist_ok=True)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root)}
            env.update(pipeline.env)
            result = ExecResult(0, "", "")
            for spec in execs:
                result = await self._run(spec, cwd, env)
                if not expected(spec.expect, result.exit_code):
                    raise ExecFailedError(spec, result)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        self.cache[key] = result
        return result

    async def _run(self, spec: ExecSpec, cwd: Path, env: dict[str, str]) -> ExecResult:
        record = Execution(argv=list(spec.args), cwd=str(cwd), env=dict(env))
        self.executions.append(record)
        try:
            proc = await _spawn(
                spec.args,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.PIPE if spec.stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            # What a container runtime reports for a missing or non-executable binary.
            record.exit_code = 127 if isinstance(exc, FileNotFoundError) else 126
            record.done.set()
            message = f'exec: "{spec.args[0]}": {exc.strerror or exc}\n'
            return ExecResult(record.exit_code, "", message)
        record.pid = proc.pid
        assert proc.stdout is not None
        assert proc.stderr is not None
        readers = asyncio.gather(proc.stdout.read(), proc.stderr.read())
        try:
            if proc.stdin is not None:
                proc.stdin.write(spec.stdin.encode())
                proc.stdin.close()
            # Not proc.wait(): on Python 3.11 it also waits for the pipes, which a background
            # child may hold open.
            while proc.returncode is None:  # noqa: ASYNC110 - no event exists to wait on
                await asyncio.sleep(0.02)
            # A container's processes all end with its main process.
            _kill_group(proc.pid)
            out, err = await readers
        except BaseException:
            # The client went away (or the server is stopping): the container dies with it.
            record.cancelled = True
            _kill_group(proc.pid)
            readers.cancel()
            await asyncio.gather(readers, return_exceptions=True)
            record.done.set()
            raise
        code = proc.returncode
        record.exit_code = 128 - code if code < 0 else code
        record.done.set()
        return ExecResult(
            record.exit_code,
            out.decode("utf-8", errors="replace"),
            err.decode("utf-8", errors="replace"),
        )


async def _spawn(args: tuple[str, ...], **kwargs: Any) -> asyncio.subprocess.Process:
    """Start a process; if cancelled meanwhile, kill its group once it exists, then re-raise.

    Cancelled inside create_subprocess_exec, asyncio kills only the leader and then waits for
    pipes that a child it already forked keeps open.
    """
    creation = asyncio.ensure_future(asyncio.create_subprocess_exec(*args, **kwargs))
    try:
        return await asyncio.shield(creation)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            proc = await creation
            _kill_group(proc.pid)
            while proc.returncode is None:  # noqa: ASYNC110 - no event exists to wait on
                await asyncio.sleep(0.02)
        raise


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _host_path(root: Path, container_path: str) -> Path:
    parts = [p for p in posixpath.normpath("/" + container_path).split("/") if p]
    return root.joinpath(*parts)
