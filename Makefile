# Huiyin — every target installs what it needs into the repository (.venv, .local/).
#   make run     the platform on this machine: Kafka, FerretDB, the four services, a demo feed
#   make test    lint, then unit, integration and end-to-end tests on the real broker and database
#   make bench   throughput of the skeleton next to raw Kafka on the same broker
#   make bench-clocks   arming, firing lag, memory and restart of many open clocks

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen --no-sync
INFRA := deploy/local/infra.sh

.PHONY: setup infra stop clean lint test test-unit test-integration test-e2e run bench bench-clocks asyncapi

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) (3.11) is required" >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

setup: .venv/.synced

# The real Kafka broker and FerretDB, unless the environment points at servers already.
infra:
	@if [ -n "$$HUIYIN_KAFKA_BOOTSTRAP" ] && [ -n "$$HUIYIN_MONGO_URL" ]; then \
	  echo "using HUIYIN_KAFKA_BOOTSTRAP=$$HUIYIN_KAFKA_BOOTSTRAP HUIYIN_MONGO_URL=$$HUIYIN_MONGO_URL"; \
	else $(INFRA) start; fi

stop:
	-@pkill -f "python -m services\." 2>/dev/null; true
	$(INFRA) stop

clean: stop
	$(INFRA) clean

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy services devkit tests bench
	$(RUN) lint-imports

test-unit: setup
	$(RUN) pytest tests/unit -q

test-integration: setup infra
	$(RUN) pytest tests/integration -q

test-e2e: setup infra
	$(RUN) pytest tests/e2e -q

test: setup lint infra
	$(RUN) pytest tests -q -p no:cacheprovider --durations=8

run: setup infra
	$(RUN) python -m devkit.run

bench: setup infra
	$(RUN) python -m bench.skeleton

# BENCH_CLOCKS open clocks armed, fired and restarted (default 1,000,000; takes a while)
bench-clocks: setup infra
	$(RUN) python -m bench.clocks

asyncapi: setup
	$(RUN) python -m devkit.asyncapi > docs/asyncapi.json
