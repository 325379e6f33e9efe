# Two commands matter: `make run` (the service with demo data) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The service's own address: printed by seed_demo and given to the payment gateway for its callbacks.
export PAYMENT_GATEWAY_CALLBACK_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test check lint typecheck imports migrations-check schema-check conformance worker beat migrate demo clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py seed_demo

## Serve on http://$(HOST):$(PORT) with the seed master data and demo data (SQLite when DATABASE_URL is unset);
## prints the demo logins (one per billing role) with the address it serves on: `make run PORT=8014`.
run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

## The whole suite (SQLite when DATABASE_URL is unset; PostgreSQL when it is set).
test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

imports: install
	$(VENV)/bin/lint-imports

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

schema-check: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

## The bounded Schemathesis run over every operation of the OpenAPI schema (a live gunicorn on a scratch database;
## PostgreSQL when DATABASE_URL is set, else SQLite). tests/conformance/schemathesis_run.py --help for options.
conformance: install
	$(PY) -m tests.conformance.schemathesis_run

## Static gates of DESIGN.md §6 (everything but the tests).
gates: lint typecheck imports migrations-check schema-check

## All gates of DESIGN.md §6, tests included.
check: gates test

worker: install
	$(VENV)/bin/celery -A billing_project worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A billing_project beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
