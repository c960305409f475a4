"""Local-executor-only behaviour: the run directory, the clean environment, live streaming."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pommel.engine.executors import LocalExecutor, ProcessStep
from pommel.engine.executors.local import MAX_LINE
from tests.dagger_double.helpers import LogCollector, process_alive, wait_for_file, wait_gone

pytestmark = pytest.mark.anyio


def make_step(command: str, **overrides: object) -> ProcessStep:
    fields: dict[str, object] = {
        "run_id": "run-7",
        "step": "s",
        "attempt": 1,
        "image": "ignored:latest",
        "argv": ("sh", "-c", command),
        "workdir": "/app",
        "env": {},
        "files": {},
        "timeout": 20,
        "cache_buster": None,
    }
    fields.update(overrides)
    return ProcessStep(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalExecutor]:
    executor = LocalExecutor(tmp_path / "runs")
    await executor.start()
    yield executor
    await executor.close()


async def test_workdir_maps_into_the_run_directory(local: LocalExecutor, tmp_path: Path) -> None:
    result = await local.run(make_step("pwd"), log=LogCollector())
    no_workdir = await local.run(make_step("pwd", workdir=None), log=LogCollector())

    run_dir = tmp_path / "runs" / "run-7"
    assert result.stdout == f"{run_dir / 'app'}\n"
    assert no_workdir.stdout == f"{run_dir}\n"


async def test_environment_is_clean(
    local: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POMMEL_SERVER_SECRET", "s3cret")
    result = await local.run(make_step("env", env={"STEP_VAR": "v"}), log=LogCollector())

    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert "POMMEL_SERVER_SECRET" not in env
    assert "s3cret" not in result.stdout
    run_dir = tmp_path / "runs" / "run-7"
    assert env["HOME"] == str(run_dir)
    assert env["TMPDIR"] == str(run_dir / ".tmp")
    assert env["STEP_VAR"] == "v"
    assert {"PATH", "LANG"} <= env.keys()
    assert set(env) - {"PATH", "HOME", "LANG", "TMPDIR", "STEP_VAR", "PWD", "SHLVL", "_"} == set()


async def test_steps_of_a_run_share_its_directory(local: LocalExecutor, tmp_path: Path) -> None:
    await local.run(make_step("echo built > artefact"), log=LogCollector())
    same_run = await local.run(make_step("cat artefact"), log=LogCollector())
    other_run = await local.run(make_step("cat artefact", run_id="run-8"), log=LogCollector())

    assert same_run.stdout == "built\n"
    assert other_run.exit_code != 0

    local.cleanup("run-7")
    assert not (tmp_path / "runs" / "run-7").exists()
    assert (tmp_path / "runs" / "run-8").exists()


async def test_lines_stream_while_the_process_runs(local: LocalExecutor) -> None:
    log = LogCollector()

    await local.run(make_step("echo first; sleep 1; echo second"), log=log)

    assert log.stream("stdout") == ["first", "second"]
    # Delivered as printed, not all at the end: a second apart, like the prints.
    assert log.times[1] - log.times[0] >= 0.9


async def test_background_children_do_not_outlive_the_step(
    local: LocalExecutor, tmp_path: Path
) -> None:
    childfile = tmp_path / "child"
    started = time.monotonic()

    result = await local.run(
        make_step(f"sleep 30 & echo $! > {shlex.quote(str(childfile))}; echo done"),
        log=LogCollector(),
    )

    assert result.stdout == "done\n"
    assert time.monotonic() - started < 10, "a child holding the pipes must not hang the step"
    assert await wait_gone([int(childfile.read_text())], within=2) == []


async def test_a_huge_line_is_delivered_in_pieces(local: LocalExecutor) -> None:
    size = MAX_LINE * 3 + 5
    log = LogCollector()

    result = await local.run(
        make_step(f"python3 -c \"import sys; sys.stdout.write('y' * {size})\""), log=log
    )

    assert result.stdout == "y" * size
    pieces = log.stream("stdout")
    assert "".join(pieces) == "y" * size
    assert max(map(len, pieces)) <= MAX_LINE


async def test_failing_log_sink_stops_the_process(local: LocalExecutor, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    async def broken(stream: str, line: str) -> None:
        if line == "go":
            raise RuntimeError("log store is down")

    with pytest.raises(RuntimeError, match="log store is down"):
        await local.run(
            make_step(f"echo $$ > {shlex.quote(str(pidfile))}; echo go; sleep 30"), log=broken
        )

    assert await wait_gone([int(pidfile.read_text())]) == []


async def test_close_kills_what_is_still_running(local: LocalExecutor, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    task = asyncio.create_task(
        local.run(
            make_step(f"echo $$ > {shlex.quote(str(pidfile))}; exec sleep 30", timeout=None),
            log=LogCollector(),
        )
    )
    pid = int(await wait_for_file(pidfile))
    assert process_alive(pid)

    await local.close()

    result = await asyncio.wait_for(task, timeout=5)
    assert result.exit_code == 137
    assert not process_alive(pid)


@pytest.mark.parametrize(
    "overrides",
    [
        {"run_id": "../escape"},
        {"run_id": ""},
        {"files": {"../outside.py": "x"}},
        {"workdir": "/a/../.."},
    ],
)
async def test_paths_cannot_escape_the_run_directory(
    local: LocalExecutor, overrides: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=r"\.\.|directory"):
        await local.run(make_step("true", **overrides), log=LogCollector())


def test_description_says_there_is_no_isolation(tmp_path: Path) -> None:
    executor = LocalExecutor(tmp_path)
    assert (executor.name, executor.isolated) == ("local", False)
    assert "no container isolation" in executor.description
    assert "image is ignored" in executor.description
