"""Pommel's step cache: a process step whose inputs match an earlier successful step reuses its
outcome instead of running.

The key covers what decides a step's result: the executor, image, command, working directory,
environment, files and declared outputs (all rendered, secrets by *name* only, never by value)
and what its upstream steps produced (status, outputs and a digest of their output). Only
container and script steps are cached: an HTTP call observes something outside the workflow,
and a composite step's own steps are cached one by one.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pommel.domain.status import StepStatus
from pommel.domain.template import StepOutcome
from pommel.services.records import load_json_object
from pommel.storage.tables import StepRun

CACHEABLE_KINDS = frozenset({"container", "script"})
_VERSION = 1


def secret_placeholders(names: set[str]) -> dict[str, str]:
    """Stand-ins rendered instead of secret values when computing a key."""
    return {name: f"${{secrets.{name}}}" for name in names}


def cache_key(*, executor: str, step: Mapping[str, Any], needs: Mapping[str, StepOutcome]) -> str:
    """The key of a step rendered with ``secret_placeholders`` (64 hex characters)."""
    material = {
        "v": _VERSION,
        "executor": executor,
        "kind": step.get("kind"),
        "image": step.get("image"),
        "argv": step.get("argv"),
        "workdir": step.get("workdir"),
        "env": step.get("env"),
        "files": step.get("files"),
        "outputs": step.get("outputs"),
        "needs": {
            name: {
                "status": outcome.status,
                "outputs": dict(outcome.outputs),
                "output": hashlib.sha256(outcome.output.encode()).hexdigest(),
            }
            for name, outcome in sorted(needs.items())
        },
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CachedStep:
    """The outcome of a successful step, reusable by a step with the same key."""

    run_pk: int
    step: str
    exit_code: int | None
    stdout: str
    stderr: str
    outputs: dict[str, str]


class StepCache:
    """Looks keys up in memory first (recent steps of this process), then in the database."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._recent: OrderedDict[str, CachedStep] = OrderedDict()

    def remember(self, key: str, entry: CachedStep) -> None:
        self._recent[key] = entry
        self._recent.move_to_end(key)
        while len(self._recent) > self._size:
            self._recent.popitem(last=False)

    async def lookup(self, key: str) -> CachedStep | None:
        entry = self._recent.get(key)
        if entry is not None:
            self._recent.move_to_end(key)
            return entry
        row = (
            await StepRun.select(
                StepRun.run,
                StepRun.name,
                StepRun.exit_code,
                StepRun.stdout,
                StepRun.stderr,
                StepRun.outputs,
            )
            .where(StepRun.cache_key == key)
            .where(StepRun.status == StepStatus.SUCCEEDED.value)
            .order_by(StepRun.id, ascending=False)
            .first()
        )
        if row is None:
            return None
        entry = CachedStep(
            run_pk=row["run"],
            step=row["name"],
            exit_code=row["exit_code"],
            stdout=row["stdout"] or "",
            stderr=row["stderr"] or "",
            outputs={k: str(v) for k, v in load_json_object(row["outputs"]).items()},
        )
        self.remember(key, entry)
        return entry

    def forget(self) -> None:
        self._recent.clear()
