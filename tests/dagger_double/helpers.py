"""Small helpers for executor tests: collecting log lines, watching processes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LogCollector:
    """A LogSink that records (stream, line) pairs and when each arrived."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    async def __call__(self, stream: str, line: str) -> None:
        self.lines.append((stream, line))
        self.times.append(time.monotonic())

    def stream(self, name: str) -> list[str]:
        """The lines of one stream, in arrival order."""
        return [line for stream, line in self.lines if stream == name]


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie awaiting its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in {"Z", "X"}


def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


async def wait_for_file(path: Path, within: float = 10.0) -> str:
    """The content of ``path`` once it exists and is non-empty."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text := _read(path):
            return text
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} did not appear within {within}s")


async def wait_gone(pids: list[int], within: float = 5.0) -> list[int]:
    """Wait until none of ``pids`` runs; returns those still alive at the deadline."""
    deadline = time.monotonic() + within
    while True:
        alive = [pid for pid in pids if process_alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        await asyncio.sleep(0.05)


def processes_with_arg(arg: str) -> list[int]:
    """Pids of running processes with ``arg`` among their command-line arguments."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if arg.encode() in argv and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


async def wait_no_process_with_arg(arg: str, within: float = 5.0) -> list[int]:
    """Wait until no process has ``arg``; returns those still running at the deadline."""
    deadline = time.monotonic() + within
    while True:
        found = processes_with_arg(arg)
        if not found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)
