# The two commands of the README: `make demo` runs the pipeline, `make test` runs the tests.
# Both install what they need on first use and reuse it afterwards.
.PHONY: demo test unit lint format venv dashboard deploy-tools load-tools browser stack-up stack-down stack-status clean

VENV := .venv
SL := $(VENV)/bin/streamlines
PY := $(VENV)/bin/python

venv: dashboard
	@scripts/bootstrap.sh

# The dashboard's assets (TypeScript + Svelte, built by Vite into dashboard/dist, which the
# GraphQL server serves at /dashboard/), with npm's cache beside uv's. Built again only when a
# source changed since the last build.
NPM_CACHE := $${STREAMLINES_HOME:-$$HOME/.cache/streamlines}/npm
DASHBOARD_SOURCES := $(shell find dashboard/src dashboard/index.html dashboard/package.json \
	dashboard/package-lock.json dashboard/vite.config.ts dashboard/svelte.config.js \
	dashboard/tsconfig.json -type f 2>/dev/null)

dashboard: dashboard/dist/index.html

dashboard/dist/index.html: $(DASHBOARD_SOURCES)
	export npm_config_cache="$(NPM_CACHE)"; \
	npm ci --prefix dashboard && npm run --prefix dashboard build

demo: venv
	$(SL) demo

# Lint first: the import rules, types and complexity limit are part of the tests; then the
# dashboard's own unit tests (vitest, its scales, rules and data model). The peers' virtualenv
# too: the integration tests hold the peer implementations of issue 18 to pandas.
test: lint deploy-tools load-tools browser peers
	npm run --prefix dashboard test
	$(SL) stack install
	$(PY) -m pytest tests/unit tests/integration tests/e2e tests/faults

unit: venv
	$(PY) -m pytest tests/unit

# The dashboard's page tests drive Debian's chromium (Playwright, no browser download): apt-get
# installs it when it is missing and we are root; otherwise the exact command is printed.
browser: venv
	@$(SL) stack browser

# What tests/unit/deploy validates the deployment files with: Docker Compose and kubeconform
# built from their Go modules, Kubernetes' OpenAPI spec; once, into $STREAMLINES_HOME/tools.
deploy-tools:
	@scripts/deploy-tools.sh

# k6, the load tool of the GraphQL fault tests (tests/faults), built from its Go module once.
load-tools:
	@scripts/load-tools.sh

# ruff (style, C901 complexity), mypy against the real dependencies, import-linter (the
# dependency rules in pyproject.toml, explained in docs/architecture.md).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

stack-up: venv
	$(SL) stack up

stack-down: venv
	$(SL) stack down

stack-status: venv
	$(SL) stack status

# Issue 18: ripples beside Quix Streams, Bytewax, a Flink SQL pass-through and plain Python.
# The peers live in a virtualenv of their own, not in the project's (benchmarks/peers/setup.sh);
# the benchmark needs the stack running. PEERS_ARGS, e.g. "--trades 300000 --runs 3".
.PHONY: peers bench-peers
peers: venv
	@benchmarks/peers/setup.sh

bench-peers: peers
	$(PY) -m benchmarks.peers $(PEERS_ARGS)
