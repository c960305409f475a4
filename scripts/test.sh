#!/usr/bin/env bash
# The whole test suite: lint, types, tests on SQLite, the same tests on PostgreSQL when a
# server answers at 127.0.0.1:5432, and a quick benchmark pass so the benchmarks never rot.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== ruff"
$BIN/ruff check backend tests bench
$BIN/ruff format --check backend tests bench

echo "== mypy --strict"
$BIN/mypy

echo "== browser for the dashboard tests"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
    || echo "chromium could not be installed: browser tests will be skipped"
fi

echo "== pytest (SQLite)"
$BIN/pytest -q -p no:cacheprovider

PG_URL=${POMMEL_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}
if $BIN/python -c "import sys; from tests.postgres import server_available; sys.exit(1 if server_available('$PG_URL') else 0)"; then
  # The suites that talk to the database; executor, template-language and browser tests do
  # not, so running them again would only cost time.
  echo "== pytest (PostgreSQL at $PG_URL)"
  POMMEL_TEST_DATABASE_URL=$PG_URL $BIN/pytest -q -p no:cacheprovider -m "not browser" \
    tests/api tests/storage tests/services tests/events tests/auth tests/webhooks \
    tests/engine/test_project_execution.py tests/engine/test_run_behaviour.py \
    tests/engine/test_worker.py tests/engine/test_durability.py
else
  echo "== PostgreSQL tests skipped: no server answers at $PG_URL"
fi

echo "== benchmarks (quick pass)"
$BIN/python -m bench --quick
