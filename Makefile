# The two commands of the README: `make demo` runs the pipeline, `make test` runs the tests.
# Both install what they need on first use and reuse it afterwards.
.PHONY: demo test unit lint format venv stack-up stack-down stack-status clean

VENV := .venv
SL := $(VENV)/bin/streamlines
PY := $(VENV)/bin/python

venv:
	@scripts/bootstrap.sh

demo: venv
	$(SL) demo

# Lint first: the import rules, types and complexity limit are part of the tests.
test: lint
	$(SL) stack install
	$(PY) -m pytest tests

unit: venv
	$(PY) -m pytest tests/unit

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
