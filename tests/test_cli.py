"""The ``pommel`` command line, run as a user would run it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pommel.cli import main

REPO = Path(__file__).parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_starts_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    port = _free_port()
    database = tmp_path / "fresh.sqlite"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pommel",
            "--config-dir",
            str(REPO / "config"),
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{database}",
            "--executor",
            "local",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.1)
        assert response.json()["status"] == "ok"
        created = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": 'mutation { createProject(input: {name: "cli"}) { id } }'},
        ).json()
        assert created["data"]["createProject"]["id"] == "proj-1"
        page = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"})
        assert "graphiql" in page.text.lower()
        assert "unpkg.com" not in page.text  # assets are served locally
        assert database.exists()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_bad_setting_stops_start_up_naming_key_and_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "default.yaml").write_text("port: lots\n")
    result = subprocess.run(
        [sys.executable, "-m", "pommel", "--config-dir", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid setting 'port'" in result.stderr
    assert "default.yaml" in result.stderr


def test_broken_template_dir_stops_start_up(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "dup.yaml").write_text((REPO / "templates" / "basic_task.yaml").read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pommel", "--config-dir", str(tmp_path), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"POMMEL_TEMPLATES_DIR": str(extra), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "defined twice" in result.stderr
    assert "dup.yaml" in result.stderr


def test_templates_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "validate", str(REPO / "templates")]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "metadata:\n  name: x\nsteps:\n  - name: a\n    container: {image: alpine, command: 'echo ${nope}'}\n"
    )
    assert main(["templates", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:5: steps[0].container.command:" in out
    assert "nope" in out


def test_migrate_and_export_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    assert main(["--config-dir", str(tmp_path), "migrate", "--database-url", url]) == 0
    assert "up to date" in capsys.readouterr().out
    out_file = tmp_path / "schema.graphql"
    assert main(["export-schema", "-o", str(out_file)]) == 0
    assert "type Query" in out_file.read_text()
