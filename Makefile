# The two commands: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12+ (Django 6.1 needs it). .python-version makes pyenv's python3 resolve to 3.13.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTACK := $(BIN)/python -m clinic.devstack

.PHONY: help install run test lint typecheck templates pytest bench clean

help:
	@echo "make run    install, start PostgreSQL/Redis if needed, migrate, demo data, web + worker + beat"
	@echo "make test   install, then ruff, mypy, djLint and the whole pytest suite"
	@echo "make bench  benchmarks (not part of make test)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6.1)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(DEVSTACK) run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	CLINIC_TESTING=true $(BIN)/mypy

templates: install
	$(BIN)/djlint templates --lint

PYTEST_ARGS ?= -n 2

pytest: install
	$(DEVSTACK) exec -- $(BIN)/pytest $(PYTEST_ARGS)

test: lint templates typecheck pytest

bench: install
	$(DEVSTACK) exec -- $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .mypy_cache .ruff_cache
