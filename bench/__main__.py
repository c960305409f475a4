"""``python -m bench [--quick] [--output FILE] [NAME …]``: run benchmarks, print, record."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import bench
from bench.harness import RESULTS_PATH, format_table, merge_results

Benchmark = Callable[[bool], dict[str, Any]]


def discover() -> dict[str, ModuleType]:
    """Every module of the package that defines ``run``, by name."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = module
    return found


def print_result(name: str, module: ModuleType, result: dict[str, Any], seconds: float) -> None:
    title = getattr(module, "TITLE", "")
    mode = "quick" if result.get("quick") else "full"
    print(f"\n== {name} ({mode}, {seconds:.1f} s){': ' + title if title else ''}")
    shown = result.get("table")
    if isinstance(shown, dict) and shown.get("headers"):
        print(format_table(shown["headers"], shown["rows"]))
    else:
        for key, value in result.items():
            if not isinstance(value, dict | list):
                print(f"  {key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short pass (CI): figures only")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="results JSON file")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(argv)

    available = discover()
    unknown = [name for name in args.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; have {', '.join(available)}")
    names = args.names or list(available)

    results: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for name in names:
        module = available[name]
        run: Benchmark = module.run
        print(f"running {name}{' (quick)' if args.quick else ''} …", flush=True)
        started = time.perf_counter()
        try:
            result = run(args.quick)
        except Exception:
            traceback.print_exc()
            print(f"== {name}: FAILED", file=sys.stderr)
            failed.append(name)
            continue
        results[name] = result
        print_result(name, module, result, time.perf_counter() - started)

    if results:
        merge_results(args.output, results)
        print(f"\nresults written to {args.output}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
