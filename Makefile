# Two commands on a fresh machine:
#   make run   - the whole system on the embedded defaults (SQLite, demo identity provider,
#                demo online service), on 127.0.0.1; prints where to click
#   make test  - installs what the tests need and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SERVICE_PORT ?= 8001
PYTEST_WORKERS ?= 2

.PHONY: run test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

run: install
	$(BIN)/broker demo run --host $(HOST) --port $(PORT) --service-port $(SERVICE_PORT)

test: install-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

bench: install
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements.txt
	cd benchmarks/peer && npm ci --silent
	$(BIN)/python benchmarks/run_flows.py

clean:
	rm -rf $(VENV) var .pytest_cache
