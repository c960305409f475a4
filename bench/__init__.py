"""Pommel's benchmarks: ``python -m bench [--quick] [NAME …]`` (``make bench``, ``make bench-quick``).

Each benchmark is a module of this package that defines ``run(quick: bool) -> dict`` (and
optionally ``TITLE``, a one-line description). ``python -m bench`` finds them by that function,
runs the ones named (all by default), prints each result's ``"table"`` (see
``bench.harness.table``) and merges the results into ``bench/results.json`` under the module's
name, keeping the entries of benchmarks that did not run.

Benchmarks report figures; they never fail because a machine is slow. A benchmark that raises
(``bench.harness.BenchError`` for a failed request, a server that did not start, answers that
disagree, …) makes the run exit non-zero. Helper modules simply define no ``run``.
"""
