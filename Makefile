# Huiyin — every target installs what it needs into the repository (.venv, .local/).
#   make run     the platform on this machine: Kafka, FerretDB, the four services, a demo day
#   make test    lint, then unit, integration and end-to-end tests on the real broker and database
#   make bench   one table: throughput next to raw Kafka, latency at a steady rate, the
#                engine's ceilings, CPU and memory per process (BENCH_ISSUES, BENCH_RATE…)
#   make bench-clocks   arming, firing lag, memory and restart of many open clocks
#   make bench-reporting   reporting's rebuild from the log, and its reads
#   make bench-scale   reporting's reads and rebuild at 10 k, 100 k and 1 M issues (BENCH_SCALE_SIZES)
#   make chaos   a load while services are killed and the broker and database restarted
#   make up / make down  the platform in containers on a Docker host (deploy/compose.yaml)

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --frozen --no-sync
INFRA := deploy/local/infra.sh

.PHONY: setup infra stop clean lint test test-unit test-integration test-e2e run chaos bench bench-clocks bench-reporting bench-scale bench-console asyncapi prometheus-tools browser-tools check-prometheus check-compose up down

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

# Prometheus's server and promtool from Debian's package, unless they are on PATH already.
prometheus-tools:
	@if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's prometheus package (prometheus, promtool)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else \
	    echo "error: prometheus and promtool are needed: install Debian's 'prometheus'" \
	      "package as root (apt-get install prometheus) or put both on PATH" >&2; exit 1; \
	  fi; \
	fi

# axe-core (the accessibility checker the console's browser tests run in each page), from npm;
# only the tests load it, the console never serves it.
AXE_VERSION := 4.14.1
AXE := .local/axe-core-$(AXE_VERSION)/axe.min.js
$(AXE):
	@command -v npm >/dev/null || { echo "error: npm is needed to fetch axe-core (apt-get install npm)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	cd $(dir $@) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js \
	  && rm axe-core-$(AXE_VERSION).tgz

# Debian's Chromium (the console's browser tests drive it with Playwright: no browser
# download) and a font with Chinese glyphs, unless they are there already.
browser-tools: $(AXE)
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and fonts-wqy-microhei"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	  else \
	    echo "error: the browser tests need Debian's 'chromium' and a Chinese font" \
	      "(apt-get install chromium fonts-wqy-microhei, as root)" >&2; exit 1; \
	  fi; \
	fi

# The scrape config, the rules, and the rules' unit tests (deploy/prometheus/).
check-prometheus: prometheus-tools
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.yml

# deploy/compose.yaml loaded by compose-go, docker compose's own loader (no engine needed)
COMPOSECHECK := $(TOOLS)/bin/composecheck
$(COMPOSECHECK): deploy/composecheck/main.go deploy/composecheck/go.mod deploy/composecheck/go.sum
	@command -v go >/dev/null || { echo "error: go is required (it builds deploy/composecheck)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	cd deploy/composecheck && CGO_ENABLED=0 go build -o $(CURDIR)/$@ .

check-compose: $(COMPOSECHECK)
	$(COMPOSECHECK) deploy/compose.yaml deploy/.env.example

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy services devkit tests bench cli
	$(RUN) lint-imports
	$(RUN) python -m devkit.import_cycles services cli devkit

test-unit: setup
	$(RUN) pytest tests/unit -q

test-integration: setup infra
	$(RUN) pytest tests/integration -q

test-e2e: setup infra prometheus-tools browser-tools
	$(RUN) pytest tests/e2e -q

test: setup lint check-prometheus check-compose browser-tools infra
	$(RUN) pytest tests -q -p no:cacheprovider --durations=8

run: setup infra
	$(RUN) python -m devkit.run

# CHAOS_ARGS, e.g. --reports 400 --seconds 600 (its own broker and database under .local/chaos)
chaos: setup
	$(INFRA) build
	$(RUN) python -m devkit.chaos $(CHAOS_ARGS)

# One table: BENCH_ISSUES reports (default 1000) by BENCH_CLIENTS clients (16), closed loop,
# against raw Kafka; the engine's ceilings; BENCH_RATE reports/s (100) for BENCH_SECONDS (60),
# open loop (a POST given up after BENCH_POST_TIMEOUT s, 30), waiting up to BENCH_DRAIN s (120)
# for the last; CPU per process, RSS, first vs last tenth. Also BENCH_ARGS, e.g. --rate 50 (python -m bench.skeleton --help)
bench: setup infra
	$(RUN) python -m bench.skeleton $(BENCH_ARGS)

# BENCH_ISSUES issues (default 500) rebuilt from the log by reporting, then read back
bench-reporting: setup infra
	$(RUN) python -m bench.reporting_rebuild

# a generated city year folded into reporting's projection at each of BENCH_SCALE_SIZES issues,
# then every read's p50/p95, the rebuild rate and the size on disk
bench-scale: setup infra
	$(RUN) python -m bench.scale

# BENCH_CLOCKS open clocks armed, fired and restarted (default 1,000,000; takes a while)
bench-clocks: setup infra
	$(RUN) python -m bench.clocks

# BENCH_ISSUES open issues (default 10,000) in one office: the console's first render of the
# inbox and the dashboard
bench-console: setup infra browser-tools
	$(RUN) python -m bench.console

asyncapi: setup
	$(RUN) python -m devkit.asyncapi > docs/asyncapi.json

# The platform in containers (deploy/compose.yaml) on a host with a Docker engine and the
# compose plugin. Settings: deploy/.env, else deploy/.env.example (placeholder secrets).
COMPOSE_ENV := $(if $(wildcard deploy/.env),deploy/.env,deploy/.env.example)
COMPOSE := docker compose -f deploy/compose.yaml --env-file $(COMPOSE_ENV)

define need_docker
	@command -v docker >/dev/null 2>&1 || { echo "error: make $@ needs Docker (the docker command was not found)" >&2; exit 1; }
	@docker compose version >/dev/null 2>&1 || { echo "error: make $@ needs the Docker compose plugin ('docker compose' is not available)" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "error: make $@ needs a Docker engine, and none answers here (on a machine without one: make run)" >&2; exit 1; }
endef

up:
	$(need_docker)
	@[ -f deploy/.env ] || echo "note: no deploy/.env, using deploy/.env.example and its placeholder secrets (cp deploy/.env.example deploy/.env)" >&2
	$(COMPOSE) up -d --build
	$(COMPOSE) ps

down:
	$(need_docker)
	$(COMPOSE) down
