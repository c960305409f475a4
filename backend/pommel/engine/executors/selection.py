"""Choosing and building the executor from the ``executor`` setting (auto | dagger | local)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from pommel.engine.executors.base import Executor
from pommel.engine.executors.local import LocalExecutor

SETTINGS = ("auto", "dagger", "local")


def choose_executor(
    setting: str,
    *,
    environ: Mapping[str, str],
    which: Callable[[str], str | None] = shutil.which,
) -> tuple[str, str]:
    """Resolve the setting to ("dagger" | "local", a human-readable reason).

    ``auto`` picks dagger when an engine session was handed to us (DAGGER_SESSION_PORT and
    DAGGER_SESSION_TOKEN, as ``dagger run`` does) or a Dagger CLI can start one
    (_EXPERIMENTAL_DAGGER_CLI_BIN, or ``dagger`` on PATH); otherwise local.
    Raises ValueError for an unknown setting.
    """
    normalized = setting.strip().lower()
    if normalized == "dagger":
        return "dagger", "executor setting is 'dagger'"
    if normalized == "local":
        return "local", "executor setting is 'local' (no container isolation)"
    if normalized != "auto":
        raise ValueError(
            f"unknown executor setting {setting!r}: expected one of {', '.join(SETTINGS)}"
        )
    if environ.get("DAGGER_SESSION_PORT") and environ.get("DAGGER_SESSION_TOKEN"):
        return "dagger", "auto: a Dagger engine session is available (DAGGER_SESSION_PORT)"
    if cli := environ.get("_EXPERIMENTAL_DAGGER_CLI_BIN"):
        return "dagger", f"auto: Dagger CLI from _EXPERIMENTAL_DAGGER_CLI_BIN ({cli})"
    if cli := which("dagger"):
        return "dagger", f"auto: Dagger CLI found on PATH ({cli})"
    return (
        "local",
        "auto: no Dagger engine session or CLI found; local host processes, no isolation",
    )


def build_executor(name: str, *, work_dir: Path) -> Executor:
    """An unstarted executor by name ("dagger" | "local"); local runs live under ``work_dir``."""
    if name == "dagger":
        # Imported here: the Dagger SDK is slow to import and unused by local runs.
        from pommel.engine.executors.dagger import DaggerExecutor

        return DaggerExecutor()
    if name == "local":
        return LocalExecutor(work_dir)
    raise ValueError(f"unknown executor {name!r}: expected 'dagger' or 'local'")
