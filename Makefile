# Two commands on a fresh machine:
#   make run   - the whole system on the embedded defaults (SQLite, demo identity provider,
#                demo online service), on 127.0.0.1; prints where to click
#   make test  - installs what the tests need and runs the whole suite
#   make lint  - ruff (lint and format check), mypy and the import contracts (import-linter)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICE_PORT ?= 8001
PYTEST_WORKERS ?= 2

.PHONY: run test lint install install-test install-lint chromium bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

install-lint: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[lint]"

run: install
	$(BIN)/broker demo run --host $(HOST) --port $(PORT) --service-port $(SERVICE_PORT)

test: install-test chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

lint: install-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Browser tests drive Debian's Chromium at /usr/bin/chromium (Playwright never downloads one).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }

bench: install
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	cd benchmarks/peer && npm ci --silent
	$(BIN)/python benchmarks/bench.py --readme

soak: install
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) var .pytest_cache
