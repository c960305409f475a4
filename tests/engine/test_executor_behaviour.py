"""One behaviour suite, run on both executors: local host processes and Dagger (engine double).

The ``executor`` fixture (tests/dagger_double/fixtures.py) yields a started LocalExecutor and
a started DaggerExecutor talking through the unmodified SDK to the engine double.
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
import time
from pathlib import Path

import pytest

from pommel.engine.executors import (
    OUTPUT_LIMIT,
    Executor,
    ProcessResult,
    ProcessStep,
    StepTimeout,
)
from tests.dagger_double import DaggerDouble
from tests.dagger_double.helpers import (
    LogCollector,
    wait_for_file,
    wait_gone,
    wait_no_process_with_arg,
)

pytestmark = pytest.mark.anyio


def make_step(
    argv: tuple[str, ...] | str,
    *,
    workdir: str | None = None,
    env: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    timeout: float | None = 20,
    cache_buster: str | None = None,
    run_id: str = "run-1",
) -> ProcessStep:
    """A step; a string command becomes ("sh", "-c", cmd) as the runner renders it."""
    return ProcessStep(
        run_id=run_id,
        step="build",
        attempt=1,
        image="alpine:latest",
        argv=("sh", "-c", argv) if isinstance(argv, str) else argv,
        workdir=workdir,
        env=env or {},
        files=files or {},
        timeout=timeout,
        cache_buster=cache_buster,
    )


async def run(executor: Executor, step: ProcessStep) -> tuple[ProcessResult, LogCollector]:
    log = LogCollector()
    return await executor.run(step, log=log), log


async def test_stdout_stderr_and_exit_code(executor: Executor) -> None:
    result, log = await run(executor, make_step("echo out; echo err >&2; exit 3"))

    assert result == ProcessResult(exit_code=3, stdout="out\n", stderr="err\n")
    assert log.stream("stdout") == ["out"]
    assert log.stream("stderr") == ["err"]


async def test_success_is_exit_code_zero(executor: Executor) -> None:
    result, _ = await run(executor, make_step(("echo", "hello", "world")))

    assert result == ProcessResult(exit_code=0, stdout="hello world\n", stderr="")


async def test_env_and_workdir_are_honoured(executor: Executor) -> None:
    step = make_step(
        'echo "$GREETING"; echo "$SPACED"; pwd',
        workdir="/app",
        env={"GREETING": "hello", "SPACED": "two words"},
    )
    result, _ = await run(executor, step)

    greeting, spaced, cwd = result.stdout.splitlines()
    assert (greeting, spaced) == ("hello", "two words")
    assert cwd.endswith("/app")
    assert result.exit_code == 0


@pytest.mark.parametrize("workdir", ["/app", None])
async def test_files_are_written_and_runnable(executor: Executor, workdir: str | None) -> None:
    files = {
        "main.py": "import sys\nprint('script got', sys.argv[1])\n",
        "data/input.txt": "from a nested file\n",
    }
    step = make_step("python3 main.py arg && cat data/input.txt", workdir=workdir, files=files)
    result, _ = await run(executor, step)

    assert result.stderr == ""
    assert result.stdout == "script got arg\nfrom a nested file\n"
    assert result.exit_code == 0


async def test_script_file_is_executable(executor: Executor) -> None:
    step = make_step(("./run.sh",), workdir="/w", files={"run.sh": "#!/bin/sh\necho ran\n"})
    result, _ = await run(executor, step)

    assert (result.exit_code, result.stdout) == (0, "ran\n")


async def test_failing_command_returns_its_exit_code_and_stderr(executor: Executor) -> None:
    step = make_step(("python3", "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(7)"))
    result, log = await run(executor, step)

    assert result.exit_code == 7
    assert result.stderr == "boom\n"
    assert log.stream("stderr") == ["boom"]


async def test_missing_binary_reports_127(executor: Executor) -> None:
    result, _ = await run(executor, make_step(("no-such-binary-pommel",)))

    assert result.exit_code == 127
    assert "no-such-binary-pommel" in result.stderr


async def test_killed_by_signal_reports_128_plus_signal(executor: Executor) -> None:
    result, _ = await run(executor, make_step("echo before; kill -9 $$"))

    assert result.exit_code == 137
    assert result.stdout == "before\n"


async def test_timeout_raises_and_kills_the_process(executor: Executor, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    step = make_step(f"echo $$ > {shlex.quote(str(pidfile))}; exec sleep 30", timeout=1)
    started = time.monotonic()

    with pytest.raises(StepTimeout, match="timeout of 1s"):
        await run(executor, step)

    assert time.monotonic() - started < 5
    pid = int(pidfile.read_text())
    assert await wait_gone([pid]) == []


async def test_cancelling_stops_the_process_and_its_children(
    executor: Executor, tmp_path: Path
) -> None:
    pidfile, childfile = tmp_path / "pid", tmp_path / "child"
    command = (
        f"echo $$ > {shlex.quote(str(pidfile))}; sleep 60 & "
        f"echo $! > {shlex.quote(str(childfile))}; wait"
    )
    task = asyncio.create_task(run(executor, make_step(command, timeout=None)))
    pid = int(await wait_for_file(pidfile))
    child = int(await wait_for_file(childfile))
    started = time.monotonic()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await wait_gone([pid, child], within=5) == []
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("delay", [0, 0.005, 0.01, 0.02])
async def test_cancelling_right_after_start_leaves_nothing_running(
    executor: Executor, delay: float
) -> None:
    # Cancelled while the process may still be being spawned (and may already have forked).
    marker = f"59.{secrets.randbelow(10**9):09d}"
    task = asyncio.create_task(run(executor, make_step(f"sleep {marker} & wait", timeout=None)))
    await asyncio.sleep(delay)
    started = time.monotonic()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert time.monotonic() - started < 5
    assert await wait_no_process_with_arg(marker) == []


async def test_cache_buster_makes_the_command_run_again(
    executor: Executor, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    counter = shlex.quote(str(tmp_path / "runs"))
    command = f"echo run >> {counter}; wc -l < {counter}"

    first, _ = await run(executor, make_step(command, cache_buster="1"))
    second, _ = await run(executor, make_step(command, cache_buster="2"))

    assert (first.stdout.strip(), second.stdout.strip()) == ("1", "2")
    if executor.name == "dagger":
        engine: DaggerDouble = request.getfixturevalue("dagger_engine")
        assert engine.pipelines[-1].env["CACHEBUSTER"] == "2"
        # Same buster again: the engine serves its cached result without running anything.
        executions = len(engine.executions)
        third, _ = await run(executor, make_step(command, cache_buster="2"))
        assert third.stdout.strip() == "2"
        assert len(engine.executions) == executions
    else:
        # The local executor has no cache of its own: every run executes.
        third, _ = await run(executor, make_step(command, cache_buster="2"))
        assert third.stdout.strip() == "3"


async def test_large_output_is_bounded_but_fully_logged(executor: Executor) -> None:
    lines = 30_000  # about 3.3 MB, over the 1 MiB kept per stream
    program = f"for i in range({lines}): print('line %06d ' % i + 'x' * 100)"
    result, log = await run(executor, make_step(("python3", "-c", program)))

    assert result.exit_code == 0
    assert len(result.stdout) <= OUTPUT_LIMIT + 100
    assert result.stdout.startswith("[pommel: output truncated")
    assert result.stdout.endswith(f"line {lines - 1:06d} {'x' * 100}\n")
    logged = log.stream("stdout")
    assert len(logged) == lines
    assert logged[0].startswith("line 000000 ")


async def test_log_lines_arrive_in_order(executor: Executor) -> None:
    command = 'for i in $(seq 1 300); do echo "out $i"; echo "err $i" >&2; done'
    _, log = await run(executor, make_step(command))

    assert log.stream("stdout") == [f"out {i}" for i in range(1, 301)]
    assert log.stream("stderr") == [f"err {i}" for i in range(1, 301)]


async def test_output_without_trailing_newline_is_kept_exactly(executor: Executor) -> None:
    result, log = await run(executor, make_step("printf 'a\\nb'"))

    assert result.stdout == "a\nb"
    assert log.stream("stdout") == ["a", "b"]


async def test_steps_can_run_concurrently(executor: Executor, tmp_path: Path) -> None:
    # A barrier: each step checks in, then waits until all four have. Run one after another,
    # the first would give up after 10 s and exit 1.
    barrier = shlex.quote(str(tmp_path / "barrier"))
    command = (
        f"mkdir -p {barrier}; touch {barrier}/$ID; "
        f"for _ in $(seq 200); do [ $(ls {barrier} | wc -l) -ge 4 ] && exit 0; sleep 0.05; done; "
        "exit 1"
    )
    steps = [make_step(command, env={"ID": str(i)}, run_id=f"run-{i}") for i in range(4)]

    results = await asyncio.gather(*(run(executor, s) for s in steps))

    assert [r.exit_code for r, _ in results] == [0, 0, 0, 0]


async def test_executor_describes_itself(executor: Executor) -> None:
    assert isinstance(executor, Executor)
    assert executor.name in {"local", "dagger"}
    assert executor.isolated is (executor.name == "dagger")
    if not executor.isolated:
        assert "no container isolation" in executor.description
