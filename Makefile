# BSS-CLI: `make up` runs the whole stack on this machine, `make test` runs every test.
# Needs only python3 (>= 3.11); everything else comes from the lock file into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# uv from PATH, else from the interpreter's site-packages (installed with pip on first use).
UV     := $(shell command -v uv 2>/dev/null || echo $(PYTHON) -m uv)
STAMP  := $(VENV)/.installed
PACKAGES := apis activities agent cli core domain operations policies portals simulators workers workflows

.PHONY: up down status test test-fast lock bench scenarios clean browser-deps

$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	@[ -x $(BIN)/python ] || $(UV) venv -q $(VENV) --python $(PYTHON)
	$(UV) pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install -q --python $(BIN)/python --no-deps --config-settings editable_mode=compat -e .
	@# Processes start much faster from compiled bytecode (CI may forbid writing it at run time).
	$(BIN)/python -m compileall -q -j0 $(PACKAGES) migrations
	@touch $(STAMP)

## up: create the environment, start the embedded stack, migrate, seed, print URLs
up: $(STAMP)
	$(BIN)/bss up
	$(BIN)/bss seed
	$(BIN)/bss status

## down: stop everything `up` started
down:
	@[ -x $(BIN)/bss ] && $(BIN)/bss down || true

## status: health, pids, ports and memory of each component
status: $(STAMP)
	$(BIN)/bss status

## test: the whole suite (real PostgreSQL, real Temporal, real HTTP servers, real Chromium)
test: $(STAMP) browser-deps
	$(BIN)/pytest -q -p no:cacheprovider --durations=30

## browser-deps: Debian's chromium for the browser tests (tests/browser), installed when missing (needs root);
# the `playwright` package drives it, so `playwright install` is never run.
browser-deps:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] || { echo "the browser tests need chromium: apt-get install chromium (as root)" >&2; exit 1; }; \
	  apt-get update -qq && apt-get install -y -qq chromium; }

## lock: re-resolve requirements.lock from pyproject.toml (no registry URLs are written)
lock:
	$(UV) pip compile -q pyproject.toml --extra dev -o requirements.lock --python-version 3.11

## bench: cold start and memory of the stack (numbers in bench/README.md)
bench: $(STAMP)
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/memory.py

## scenarios: the hero scenarios on a fresh private stack in time-skipping mode, stopped afterwards
# Its own BSS_HOME and ports, so it never touches (or collides with) the stack of `make up`; the home is
# short and outside the clone because PostgreSQL's socket path must stay under ~100 characters.
SCENARIO_HOME ?= /tmp/bss-scenarios-$(shell id -u)
SCENARIO_ENV  := BSS_HOME=$(SCENARIO_HOME) BSS_API_PORT=18380 BSS_TEMPORAL_PORT=17380 BSS_TEMPORAL_UI_PORT=18381 \
                 BSS_SELF_SERVE_PORT=19380 BSS_CSR_PORT=19381
scenarios: $(STAMP)
	@$(SCENARIO_ENV) $(BIN)/bss down >/dev/null 2>&1 || true
	rm -rf $(SCENARIO_HOME)
	@set -e; trap '$(SCENARIO_ENV) $(BIN)/bss down >/dev/null 2>&1 || true' EXIT; \
	$(SCENARIO_ENV) $(BIN)/bss up --time-skipping; \
	$(SCENARIO_ENV) $(BIN)/bss scenario run-all scenarios --tag hero

clean: down
	rm -rf $(VENV) .bss
