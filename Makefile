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

test: venv
	$(SL) stack install
	$(PY) -m pytest tests

unit: venv
	$(PY) -m pytest tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

stack-up: venv
	$(SL) stack up

stack-down: venv
	$(SL) stack down

stack-status: venv
	$(SL) stack status
