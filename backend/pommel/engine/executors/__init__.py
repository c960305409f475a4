"""Executors: where a rendered step actually runs (Dagger containers or local processes).

Everything the runner needs is re-exported here. The Dagger SDK takes about a second to
import, so DaggerExecutor is imported on first use.
"""

from typing import TYPE_CHECKING, Any

from pommel.engine.executors.base import (
    OUTPUT_LIMIT,
    EngineError,
    Executor,
    LogSink,
    ProcessResult,
    ProcessStep,
    StepTimeout,
)
from pommel.engine.executors.http import HttpCaller, HttpRequest, HttpResponse, HttpStepError
from pommel.engine.executors.local import LocalExecutor
from pommel.engine.executors.selection import build_executor, choose_executor

__all__ = [
    "OUTPUT_LIMIT",
    "DaggerExecutor",
    "EngineError",
    "Executor",
    "HttpCaller",
    "HttpRequest",
    "HttpResponse",
    "HttpStepError",
    "LocalExecutor",
    "LogSink",
    "ProcessResult",
    "ProcessStep",
    "StepTimeout",
    "build_executor",
    "choose_executor",
]

if TYPE_CHECKING:
    from pommel.engine.executors.dagger import DaggerExecutor


def __getattr__(name: str) -> Any:
    if name == "DaggerExecutor":
        from pommel.engine.executors.dagger import DaggerExecutor

        return DaggerExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
