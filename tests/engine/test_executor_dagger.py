"""Dagger-only behaviour: what the SDK sends, engine failures, reconnection, the double itself.

Everything goes through the unmodified dagger-io SDK to the engine double over HTTP.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import dagger
import httpx
import pytest

from pommel.engine.executors import DaggerExecutor, EngineError, ProcessStep
from pommel.engine.executors.dagger import ensure_gql_uses_httpx
from tests.dagger_double import DaggerDouble
from tests.dagger_double.fixtures import use_session
from tests.dagger_double.helpers import LogCollector

pytestmark = pytest.mark.anyio


def make_step(**overrides: object) -> ProcessStep:
    fields: dict[str, object] = {
        "run_id": "run-41",
        "step": "test",
        "attempt": 1,
        "image": "python:3.12-slim",
        "argv": ("python3", "main.py", "--fast"),
        "workdir": "/src",
        "env": {"MODE": "ci", "GREETING": "two words"},
        "files": {"main.py": "print('ok')\n", "conf/settings.ini": "[x]\n"},
        "timeout": 20,
        "cache_buster": None,
    }
    fields.update(overrides)
    return ProcessStep(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def dagger_executor(dagger_engine: DaggerDouble) -> AsyncIterator[DaggerExecutor]:
    executor = DaggerExecutor()
    await executor.start()
    yield executor
    await executor.close()


async def test_query_carries_the_step_exactly(
    dagger_executor: DaggerExecutor, dagger_engine: DaggerDouble
) -> None:
    result = await dagger_executor.run(make_step(), log=LogCollector())

    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert dagger_engine.received[0].introspection, "the SDK starts with introspection"
    # stdout, stderr, exitCode: three queries on the same chain...
    assert len(dagger_engine.queries) >= 3
    pipelines = dagger_engine.pipelines[-3:]
    assert len({p.key for p in pipelines}) == 1
    pipeline = pipelines[-1]
    assert pipeline.image == "python:3.12-slim"
    assert pipeline.workdir == "/src"
    assert pipeline.env == {"MODE": "ci", "GREETING": "two words"}
    assert pipeline.argv == ["python3", "main.py", "--fast"]
    assert pipeline.expect == "ANY"
    assert pipeline.files == {"/src/main.py": "print('ok')\n", "/src/conf/settings.ini": "[x]\n"}
    assert [name for name, _ in pipeline.calls] == [
        "container",
        "from",
        "withWorkdir",
        "withEnvVariable",
        "withEnvVariable",
        "withNewFile",
        "withNewFile",
        "withExec",
    ]
    # ...and one process: the engine caches the exec by the chain's identity.
    assert len(dagger_engine.executions) == 1


async def test_no_workdir_and_cache_buster_shape_the_chain(
    dagger_executor: DaggerExecutor, dagger_engine: DaggerDouble
) -> None:
    step = make_step(workdir=None, env={}, files={"a.txt": "A"}, argv=("cat", "a.txt"))
    result = await dagger_executor.run(step, log=LogCollector())
    busted = await dagger_executor.run(
        make_step(workdir=None, env={}, files={}, argv=("true",), cache_buster="17"),
        log=LogCollector(),
    )

    assert (result.exit_code, result.stdout, busted.exit_code) == (0, "A", 0)
    plain = dagger_engine.pipelines[-4]
    assert [name for name, _ in plain.calls] == ["container", "from", "withNewFile", "withExec"]
    assert plain.files == {"/a.txt": "A"}
    assert "CACHEBUSTER" not in plain.env
    assert dagger_engine.pipelines[-1].env == {"CACHEBUSTER": "17"}
    # The buster comes last before the exec, after the step's own variables.
    assert [name for name, _ in dagger_engine.pipelines[-1].calls][-2:] == [
        "withEnvVariable",
        "withExec",
    ]


async def test_unknown_image_is_an_engine_error(
    dagger_executor: DaggerExecutor, dagger_engine: DaggerDouble
) -> None:
    dagger_engine.missing_images.add("ghcr.io/nope/missing:1")

    with pytest.raises(EngineError, match=r"ghcr\.io/nope/missing:1.*not found"):
        await dagger_executor.run(make_step(image="ghcr.io/nope/missing:1"), log=LogCollector())

    assert dagger_engine.executions == []
    # The connection is still good for the next step.
    result = await dagger_executor.run(make_step(), log=LogCollector())
    assert result.exit_code == 0


async def test_start_fails_clearly_when_no_engine_listens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    double = DaggerDouble(tmp_path / "engine").start()
    use_session(monkeypatch, double)
    double.stop()  # the port is now closed
    executor = DaggerExecutor()
    started = time.monotonic()

    with pytest.raises(EngineError, match="cannot connect to the Dagger engine"):
        await executor.start()

    assert time.monotonic() - started < 5
    await executor.close()


async def test_wrong_token_is_rejected(
    monkeypatch: pytest.MonkeyPatch, dagger_engine: DaggerDouble
) -> None:
    async with httpx.AsyncClient() as http:
        url = f"http://127.0.0.1:{dagger_engine.port}/query"
        body = {"query": "{ version }"}
        wrong = await http.post(url, json=body, auth=("not-the-token", ""))
        right = await http.post(url, json=body, auth=(dagger_engine.token, ""))
    assert wrong.status_code == 401
    assert right.json() == {"data": {"version": "v0.21.11"}}

    monkeypatch.setenv("DAGGER_SESSION_TOKEN", "not-the-token")
    executor = DaggerExecutor()
    with pytest.raises(EngineError, match="401"):
        await executor.start()
    await executor.close()


async def test_reconnects_after_the_engine_restarts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = DaggerDouble(tmp_path / "first").start()
    use_session(monkeypatch, first)
    executor = DaggerExecutor()
    await executor.start()
    try:
        assert (await executor.run(make_step(), log=LogCollector())).exit_code == 0

        first.stop()
        with pytest.raises(EngineError, match="Dagger engine"):
            await executor.run(make_step(argv=("echo", "down")), log=LogCollector())

        # A new engine session (new port and token), as a restarted `dagger run` hands over.
        second = DaggerDouble(tmp_path / "second").start()
        use_session(monkeypatch, second)
        try:
            result = await executor.run(make_step(argv=("echo", "back")), log=LogCollector())
            assert (result.exit_code, result.stdout) == (0, "back\n")
            assert second.received[0].introspection, "a fresh connection was opened"
        finally:
            second.stop()
    finally:
        await executor.close()


async def test_reconnects_when_the_engine_comes_back_on_the_same_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = DaggerDouble(tmp_path / "first").start()
    use_session(monkeypatch, first)
    executor = DaggerExecutor()
    await executor.start()
    try:
        first.stop()
        with pytest.raises(EngineError):
            await executor.run(make_step(), log=LogCollector())
        again = DaggerDouble(tmp_path / "again", token=first.token, port=first.port).start()
        try:
            result = await executor.run(make_step(argv=("echo", "again")), log=LogCollector())
            assert result.stdout == "again\n"
        finally:
            again.stop()
    finally:
        await executor.close()


async def test_no_session_and_broken_cli_is_an_engine_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DAGGER_SESSION_PORT", raising=False)
    monkeypatch.delenv("DAGGER_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("_EXPERIMENTAL_DAGGER_CLI_BIN", str(tmp_path / "no-such-dagger"))
    executor = DaggerExecutor()

    with pytest.raises(EngineError, match="cannot connect to the Dagger engine"):
        await executor.start()
    await executor.close()


async def test_double_returns_exec_error_with_the_default_expect(
    dagger_engine: DaggerDouble,
) -> None:
    # The SDK used directly, as any Dagger program would: ExecError built from extensions.
    ensure_gql_uses_httpx()
    async with dagger.Connection(dagger.Config(retry=None)) as client:
        ctr = (
            client.container().from_("alpine").with_exec(["sh", "-c", "echo o; echo e >&2; exit 4"])
        )
        with pytest.raises(dagger.ExecError) as caught:
            await ctr.stdout()

    assert caught.value.exit_code == 4
    assert (caught.value.stdout, caught.value.stderr) == ("o\n", "e\n")
    assert caught.value.command == ["sh", "-c", "echo o; echo e >&2; exit 4"]
    assert dagger_engine.pipelines[-1].expect == "SUCCESS"


async def test_double_reloads_a_synced_container_by_id(dagger_engine: DaggerDouble) -> None:
    ensure_gql_uses_httpx()
    async with dagger.Connection(dagger.Config(retry=None)) as client:
        synced = await client.container().from_("alpine").with_exec(["echo", "hi"]).sync()
        out = await synced.stdout()

    assert out == "hi\n"
    assert "node" in dagger_engine.queries[-1].query
    assert dagger_engine.pipelines[-1].argv == ["echo", "hi"]
    assert len(dagger_engine.executions) == 1


def test_double_requires_basic_auth_with_the_token_as_user(dagger_engine: DaggerDouble) -> None:
    url = f"http://127.0.0.1:{dagger_engine.port}/query"
    token = base64.b64encode(f"{dagger_engine.token}:".encode()).decode()
    ok = httpx.post(url, json={"query": "{ version }"}, headers={"Authorization": f"Basic {token}"})
    missing = httpx.post(url, json={"query": "{ version }"})
    assert (ok.status_code, missing.status_code) == (200, 401)
