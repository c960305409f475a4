"""Durability: a server killed (SIGKILL) in the middle of a run resumes it when it starts again,
keeping the steps that had succeeded."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine.run_support import CREATE_TEMPLATE, CREATE_WORKFLOW, EXECUTE, RUN, template

POMMEL = Path(sys.executable).with_name("pommel")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``pommel serve`` in a subprocess of its own."""

    def __init__(self, cwd: Path, database_url: str) -> None:
        self.cwd = cwd
        self.database_url = database_url
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    def start(self) -> None:
        self.port = _free_port()
        self.starts += 1
        log = (self.cwd / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [
                str(POMMEL),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--executor",
                "local",
            ],
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{self.output()}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def output(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.cwd.glob("server-*.log"))
        )


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    running = Server(tmp_path, database_url)
    try:
        yield running
    finally:
        running.stop()


async def _gql(server: Server, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def _run(server: Server, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = (await _gql(server, RUN, {"id": run_id}))["workflowRun"]
    return run


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


async def test_a_killed_server_resumes_the_run_without_repeating_finished_steps(
    server: Server, tmp_path: Path
) -> None:
    counts = {name: tmp_path / f"{name}.count" for name in ("one", "two", "three")}
    source = template(
        "durable",
        f"""  - name: one
    container: {{image: alpine:latest, command: "echo run >> {counts["one"]}; echo ::set-output name=v::first"}}
  - name: two
    needs: one
    container: {{image: alpine:latest, command: "echo run >> {counts["two"]}; sleep 1.5; echo ::set-output name=v::second"}}
  - name: three
    needs: two
    container: {{image: alpine:latest, command: "echo run >> {counts["three"]}; echo ${{steps.one.outputs.v}}-${{steps.two.outputs.v}}"}}
""",
        outputs="  result: {value: '${steps.three.output}'}\n",
    )
    server.start()
    template_id = (await _gql(server, CREATE_TEMPLATE, {"s": source}))["createTemplate"]["id"]
    project = (
        await _gql(
            server,
            'mutation { createProject(input: {name: "durable"}) { id } }',
            {},
        )
    )["createProject"]["id"]
    task = (
        await _gql(
            server,
            'mutation($p: ID!) { createTask(input: {projectId: $p, name: "t"}) { id } }',
            {"p": project},
        )
    )["createTask"]["id"]
    await _gql(server, CREATE_WORKFLOW, {"t": task, "tpl": template_id, "p": None})
    run_id = (await _gql(server, EXECUTE, {"t": task, "skip": False, "p": None}))[
        "executeTaskWorkflow"
    ]["id"]

    # Kill the server once step one is recorded as succeeded and step two is executing.
    deadline = time.monotonic() + 20
    while True:
        steps = {s["name"]: s for s in (await _run(server, run_id))["steps"]}
        if steps["one"]["status"] == "SUCCEEDED" and _lines(counts["two"]) == 1:
            break
        assert time.monotonic() < deadline, server.output()
        await asyncio.sleep(0.05)
    server.kill()
    assert _lines(counts["one"]) == 1

    server.start()
    deadline = time.monotonic() + 30
    while True:
        run = await _run(server, run_id)
        if run["status"] in {"SUCCEEDED", "FAILED", "CANCELLED"}:
            break
        assert time.monotonic() < deadline, server.output()
        await asyncio.sleep(0.1)
    assert run["status"] == "SUCCEEDED", (run, server.output())
    assert run["resumed"] == 1
    assert run["outputs"] == {"result": "first-second"}
    assert _lines(counts["one"]) == 1  # not executed again
    assert _lines(counts["two"]) == 2  # interrupted, so executed again
    assert _lines(counts["three"]) == 1
    events = await _gql(
        server,
        "query($r: ID!) { events(after: 0, first: 1000, runId: $r) { type } }",
        {"r": run_id},
    )
    types = [e["type"] for e in events["events"]]
    assert "run.resumed" in types
    assert types[-1] == "run.finished"
