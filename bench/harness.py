"""Shared helpers for the benchmarks: server subprocesses, load generation, tables, results.

Nothing here decides whether a figure is good enough: benchmarks report, they never fail on time.
A ``BenchError`` means something actually went wrong (a server did not start, a request failed,
two implementations disagreed) and makes ``python -m bench`` exit non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_PATH = BENCH_DIR / "results.json"
READY_PREFIX = "BENCH-READY "
COUNTERS_PATH = "/__bench__/counters"


class BenchError(RuntimeError):
    """Something went wrong (not merely slow): the bench run must exit non-zero."""


# --------------------------------------------------------------------------------------------
# Statistics and formatting


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def fmt(value: Any, digits: int = 1) -> str:
    """A table cell: numbers rounded, ``None`` blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.{digits}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The ``"table"`` entry of a benchmark's result, printed by ``python -m bench``."""
    return {"headers": list(headers), "rows": [[fmt(c) for c in row] for row in rows]}


# --------------------------------------------------------------------------------------------
# Results file


def machine_info() -> dict[str, Any]:
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit or None,
    }


def merge_results(path: Path, results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Update ``path`` with ``results`` (one entry per benchmark), keeping other entries."""
    existing: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            loaded = {}
        if isinstance(loaded, dict):
            existing = loaded
    existing.update({name: dict(result) for name, result in results.items()})
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return existing


def stamp(quick: bool) -> dict[str, Any]:
    """What every benchmark result records about its run."""
    return {
        "quick": quick,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }


# --------------------------------------------------------------------------------------------
# Server subprocesses


@dataclass
class ServerProcess:
    """A server started by ``python -m bench.servers …`` in its own process."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def counters(self) -> dict[str, float]:
        """The server's request, SQL and CPU-time counters (see ``bench.servers``)."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            response = await client.get(COUNTERS_PATH)
        if response.status_code != 200:
            raise BenchError(f"{self.name}: counters answered {response.status_code}")
        data: dict[str, float] = response.json()
        return data


@contextlib.asynccontextmanager
async def server_process(
    name: str, args: Sequence[str], *, work_dir: Path, startup_timeout: float = 60.0
) -> AsyncIterator[ServerProcess]:
    """Start ``python -m bench.servers ARGS``, wait until ``/healthz`` answers, stop it after.

    The child binds 127.0.0.1 on a free port itself and prints it, so no port can be taken in
    between; its stderr goes to a log file whose tail is shown if anything fails.
    """
    log_path = work_dir / f"{name}-server.log"
    # An inherited PYTHONPATH comes first, so a server can be run from another checkout.
    paths = [os.environ.get("PYTHONPATH", ""), str(REPO_DIR), str(REPO_DIR / "backend")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    with log_path.open("w", encoding="utf-8") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.servers",
            *args,
            cwd=REPO_DIR,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    server: ServerProcess | None = None
    try:
        deadline = time.monotonic() + startup_timeout
        port = await _ready_port(process, name, startup_timeout)
        server = ServerProcess(name=name, process=process, port=port, log_path=log_path)
        await _wait_healthy(server, deadline)
        yield server
    except BenchError as exc:
        raise BenchError(f"{exc}\n--- {name} server log ---\n{_tail(log_path)}") from None
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _ready_port(process: asyncio.subprocess.Process, name: str, within: float) -> int:
    assert process.stdout is not None
    try:
        async with asyncio.timeout(within):
            while line := (await process.stdout.readline()).decode():
                if line.startswith(READY_PREFIX):
                    return int(line[len(READY_PREFIX) :].strip())
    except TimeoutError:
        pass
    raise BenchError(f"{name} server did not report its port")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def _wait_healthy(server: ServerProcess, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise BenchError(f"{server.name} server exited with {server.process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise BenchError(f"{server.name} server did not become healthy in time")


@contextlib.contextmanager
def work_directory(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)


# --------------------------------------------------------------------------------------------
# Load generation


@dataclass(frozen=True)
class LoadWindow:
    """One measured window of a closed-loop load run: each request's latency, in seconds."""

    latencies: list[float]
    seconds: float
    response_bytes: int


@dataclass(frozen=True)
class LoadResult:
    """Windows pooled: throughput over their total time, latency percentiles in milliseconds."""

    clients: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    response_bytes: int

    @classmethod
    def pool(cls, clients: int, windows: Sequence[LoadWindow]) -> LoadResult:
        latencies = [latency for window in windows for latency in window.latencies]
        seconds = sum(window.seconds for window in windows)
        return cls(
            clients=clients,
            requests=len(latencies),
            seconds=seconds,
            rps=len(latencies) / seconds,
            p50_ms=percentile(latencies, 50) * 1000,
            p99_ms=percentile(latencies, 99) * 1000,
            mean_ms=sum(latencies) / len(latencies) * 1000,
            response_bytes=max(window.response_bytes for window in windows),
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def check_graphql_body(name: str, status: int, body: bytes) -> None:
    """A failed GraphQL response is an error of the bench run, not a slow figure."""
    if status != 200 or not body.startswith(b'{"data":') or b'"errors":' in body:
        raise BenchError(f"{name}: HTTP {status}: {body[:500]!r}")


async def graphql_post(
    client: httpx.AsyncClient, name: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """One GraphQL request; its ``data``, or ``BenchError``."""
    response = await client.post("/graphql", json=payload)
    check_graphql_body(name, response.status_code, response.content)
    data: dict[str, Any] = response.json()["data"]
    return data


async def drive_load(
    base_url: str,
    payload: Mapping[str, Any],
    *,
    name: str,
    clients: int,
    duration: float,
    warmup: float,
    min_requests: int = 0,
    request_timeout: float = 300.0,
) -> LoadWindow:
    """``clients`` closed-loop clients (one keep-alive connection each) POSTing ``payload``.

    Each client sends its next request as soon as the previous answer arrived. Measuring starts
    once ``warmup`` seconds have passed and every client has had an answer (so the pipeline is
    full); the requests that finish within the window are measured. The window lasts
    ``duration`` seconds, or longer until ``min_requests`` have finished (default: one per
    client), so a slow machine gives slow figures rather than none. Throughput is the finished
    requests over the window's length: a steady state, without counting the requests in flight
    at either edge. Only a server that answers nothing for ``request_timeout`` seconds, or
    answers wrongly, is an error.
    """
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    size = 0
    minimum = min_requests or clients
    warm_after = time.perf_counter() + warmup
    answered_clients = 0
    measure_from = measure_until = math.inf
    window_end: float | None = None

    async def client_loop() -> None:
        nonlocal size, window_end, answered_clients, measure_from, measure_until
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        answered = False
        async with httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=request_timeout
        ) as client:
            while window_end is None:
                begin = time.perf_counter()
                response = await client.post("/graphql", content=body, headers=headers)
                end = time.perf_counter()
                check_graphql_body(name, response.status_code, response.content)
                size = len(response.content)
                if not answered:
                    answered = True
                    answered_clients += 1
                if measure_from == math.inf:
                    if answered_clients == clients and end >= warm_after:
                        measure_from, measure_until = end, end + duration
                    continue
                if window_end is not None:
                    continue
                latencies.append(end - begin)
                if end >= measure_until and len(latencies) >= minimum:
                    window_end = end

    await asyncio.gather(*(client_loop() for _ in range(clients)))
    assert window_end is not None
    return LoadWindow(latencies=latencies, seconds=window_end - measure_from, response_bytes=size)
