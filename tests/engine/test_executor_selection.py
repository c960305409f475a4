"""Choosing the executor from the ``executor`` setting and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pommel.engine.executors import (
    DaggerExecutor,
    LocalExecutor,
    build_executor,
    choose_executor,
)

SESSION = {"DAGGER_SESSION_PORT": "41234", "DAGGER_SESSION_TOKEN": "tok"}


def no_cli(_name: str) -> str | None:
    return None


def cli_on_path(name: str) -> str | None:
    return f"/usr/local/bin/{name}" if name == "dagger" else None


@pytest.mark.parametrize(
    ("setting", "environ", "which", "expected", "reason_has"),
    [
        ("auto", SESSION, no_cli, "dagger", "session"),
        ("auto", {"DAGGER_SESSION_PORT": "41234"}, no_cli, "local", "no Dagger"),
        ("auto", {"DAGGER_SESSION_TOKEN": "tok"}, no_cli, "local", "no Dagger"),
        ("auto", {"_EXPERIMENTAL_DAGGER_CLI_BIN": "/opt/dagger"}, no_cli, "dagger", "/opt/dagger"),
        ("auto", {}, cli_on_path, "dagger", "/usr/local/bin/dagger"),
        ("auto", {}, no_cli, "local", "no isolation"),
        ("dagger", {}, no_cli, "dagger", "'dagger'"),
        ("local", SESSION, cli_on_path, "local", "no container isolation"),
        (" Auto ", SESSION, no_cli, "dagger", "session"),
    ],
)
def test_choose_executor(
    setting: str,
    environ: dict[str, str],
    which: object,
    expected: str,
    reason_has: str,
) -> None:
    name, reason = choose_executor(setting, environ=environ, which=which)  # type: ignore[arg-type]

    assert name == expected
    assert reason_has in reason


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ValueError, match="'podman'"):
        choose_executor("podman", environ={}, which=no_cli)


def test_build_executor(tmp_path: Path) -> None:
    local = build_executor("local", work_dir=tmp_path)
    dagger = build_executor("dagger", work_dir=tmp_path)

    assert isinstance(local, LocalExecutor)
    assert local.base_dir == tmp_path
    assert isinstance(dagger, DaggerExecutor)
    with pytest.raises(ValueError, match="'auto'"):
        build_executor("auto", work_dir=tmp_path)
