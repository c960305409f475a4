"""The dashboard's TypeScript stays strict-clean (`npm run typecheck`), checked with the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
TSC = FRONTEND / "node_modules" / "typescript" / "bin" / "tsc"


@pytest.mark.slow
def test_dashboard_typechecks() -> None:
    node = shutil.which("node")
    if node is None or not TSC.is_file():
        pytest.skip("Node or the frontend's node_modules are missing: run `make frontend`")
    result = subprocess.run(
        [node, str(TSC), "--noEmit", "-p", str(FRONTEND)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
