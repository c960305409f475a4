"""The benchmark harness's arithmetic, tables and results file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bench.__main__ import discover
from bench.harness import LoadResult, LoadWindow, format_table, merge_results, percentile


def test_percentile_interpolates() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert math.isnan(percentile([], 50))


def test_pooled_windows() -> None:
    windows = [
        LoadWindow(latencies=[0.1, 0.1], seconds=1.0, response_bytes=10),
        LoadWindow(latencies=[0.3, 0.3, 0.3, 0.3], seconds=3.0, response_bytes=12),
    ]
    pooled = LoadResult.pool(2, windows)
    assert pooled.requests == 6
    assert pooled.rps == pytest.approx(1.5)
    assert pooled.p50_ms == pytest.approx(300.0)
    assert pooled.response_bytes == 12


def test_table_aligns_columns() -> None:
    text = format_table(["", "a", "b"], [["first", 1.25, 10], ["second row", None, 2_000]])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b"]
    assert lines[2].startswith("first ") and lines[2].endswith("10")
    assert lines[3].endswith("2,000")
    assert len({len(line) for line in lines[1:]}) == 1  # right-aligned to the same width


def test_results_merge_keeps_other_benchmarks(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    merge_results(path, {"engine": {"x": 1}})
    merge_results(path, {"api_read": {"y": 2}})
    merge_results(path, {"api_read": {"y": 3}})
    assert json.loads(path.read_text()) == {"api_read": {"y": 3}, "engine": {"x": 1}}


def test_benchmarks_are_found_by_their_run_function() -> None:
    found = discover()
    assert "api_read" in found
    assert "harness" not in found and "servers" not in found
