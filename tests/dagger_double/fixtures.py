"""Pytest fixtures for the Dagger engine double and for running a suite on both executors.

Registered through ``pytest_plugins`` in tests/conftest.py. Async fixtures need the anyio
plugin: tests using them are marked ``@pytest.mark.anyio`` (asyncio backend only: the
executors use asyncio subprocesses).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pommel.engine.executors import Executor, LocalExecutor
from tests.dagger_double.server import DaggerDouble


def use_session(monkeypatch: pytest.MonkeyPatch, double: DaggerDouble) -> None:
    """Point the SDK at ``double`` the way ``dagger run`` hands over a session."""
    monkeypatch.setenv("DAGGER_SESSION_PORT", str(double.port))
    monkeypatch.setenv("DAGGER_SESSION_TOKEN", double.token)
    # Never let a test fall back to starting (or downloading) a real CLI.
    monkeypatch.delenv("_EXPERIMENTAL_DAGGER_CLI_BIN", raising=False)


@pytest.fixture
def dagger_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DaggerDouble]:
    """A started engine double with the session env vars set; stopped afterwards."""
    double = DaggerDouble(tmp_path / "dagger-double").start()
    use_session(monkeypatch, double)
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture(params=["local", "dagger"])
async def executor(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Executor]:
    """A started LocalExecutor, then a started DaggerExecutor against the engine double."""
    ex: Executor
    if request.param == "local":
        ex = LocalExecutor(tmp_path / "local-runs")
    else:
        from pommel.engine.executors import DaggerExecutor

        request.getfixturevalue("dagger_engine")
        ex = DaggerExecutor()
    await ex.start()
    try:
        yield ex
    finally:
        await ex.close()
