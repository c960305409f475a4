# Pommel: `make run` starts the server, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := backend/pommel/web/static/.built
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint typecheck check bench bench-quick frontend schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(WEB_STAMP): frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html frontend/scripts frontend/vite.config.ts frontend/tsconfig.json schema/operations -type f 2>/dev/null)
	cd frontend && npm run --silent build
	touch $(WEB_STAMP)

frontend: $(WEB_STAMP)

run: $(STAMP) $(WEB_STAMP)
	$(BIN)/pommel serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(WEB_STAMP)
	bash scripts/test.sh

test-postgres: $(STAMP)
	POMMEL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test $(BIN)/pytest -q -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/pommel export-schema --output schema/schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) frontend/node_modules backend/pommel/web/static
