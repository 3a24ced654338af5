# Every target installs what it needs first (a stamp file tracks pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast lint format typecheck bench soak soak-short schemas openapi asyncapi up down clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## System packages the real-service tests use when no address is given and no Docker answers,
## and Debian's Chromium for the browser tests (tests/e2e/browser).
system-deps:
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
	  || ! test -x /usr/bin/chromium; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql chromium >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/helpdesk stack run

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

## The fault-injection soak (docs/reliability.md): SOAK_SECONDS of load while parts are
## killed, 3/4 on PostgreSQL then 1/4 on SQLite; the last line counts what was lost.
SOAK_SECONDS ?= 600
SOAK_STORE   ?= both
soak: $(STAMP) system-deps
	$(BIN)/python -m soak --seconds $(SOAK_SECONDS) --store $(SOAK_STORE)

## The 2-minute soak as a test (PostgreSQL 90 s, SQLite 30 s), alone; make test runs it too (docs/reliability.md).
soak-short: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/test_soak.py

schemas: $(STAMP)
	$(BIN)/python -m contracts.generate

openapi: $(STAMP)
	$(BIN)/helpdesk openapi > docs/openapi.json

asyncapi: $(STAMP)
	$(BIN)/helpdesk asyncapi > docs/asyncapi.yaml

up:
	docker compose up -d --build

down:
	docker compose down

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
