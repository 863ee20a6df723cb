# priorauth in two commands, from a clean clone on Debian with Python 3.11+:
#
#   make run    create .venv, install, migrate the SQLite database under instance/,
#               seed the demo accounts (printed), serve with gunicorn on http://127.0.0.1:5000
#   make test   install the development tools and run the whole test suite
#
# Stamp files remember what is already done, so repeated runs are quick; a change
# to pyproject.toml or to the system check reinstalls. `make clean` forgets them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# gunicorn workers for `make run`; empty: PRIORAUTH_WORKERS, else 2 x cores + 1 (at most 8).
WORKERS ?=
PYTEST_ARGS ?=

# pyvenv.cfg, not bin/python: make would follow the symlink to the system
# interpreter's old timestamp.
VENV_MARK := $(VENV)/pyvenv.cfg
INSTALLED := $(VENV)/.stamp-install
DEV_INSTALLED := $(VENV)/.stamp-dev
SYSTEM_RUN := .stamp-system-run
SYSTEM_TEST := .stamp-system-test

.PHONY: help run test bench lint fmt db demo-accounts clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: $(SYSTEM_RUN) $(INSTALLED) ## install, migrate, seed the demo accounts, serve (gunicorn) on http://127.0.0.1:5000
	$(BIN)/priorauth db upgrade
	$(BIN)/priorauth demo-accounts
	$(BIN)/priorauth serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

test: $(SYSTEM_TEST) $(DEV_INSTALLED) ## install dev tools and run the whole suite
	@# pytest exits 5 when it collects no tests: that fails here like any error.
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(SYSTEM_RUN) $(INSTALLED) ## time the letter (bare WeasyPrint, long fields), the dashboard at 10 and 10,000 cases, letters per gunicorn worker
	@# Every benchmark runs; the target fails if any did.
	status=0; \
	$(BIN)/python bench/letter_pipeline.py || status=$$?; \
	$(BIN)/python bench/web_scale.py || status=$$?; \
	exit $$status

lint: $(DEV_INSTALLED) ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(DEV_INSTALLED) ## format the code and apply safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

db: $(INSTALLED) ## create or migrate the database only
	$(BIN)/priorauth db upgrade

demo-accounts: db ## seed the demo accounts and print them (DEMO ONLY)
	$(BIN)/priorauth demo-accounts

$(SYSTEM_RUN): scripts/ensure-system-deps.sh
	PYTHON=$(PYTHON) scripts/ensure-system-deps.sh run
	@touch $@

$(SYSTEM_TEST): scripts/ensure-system-deps.sh
	PYTHON=$(PYTHON) scripts/ensure-system-deps.sh test
	@touch $@

$(VENV_MARK): | $(SYSTEM_RUN)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "priorauth needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)." >&2; \
	  echo "Run with another interpreter, e.g.: make run PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml $(VENV_MARK)
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_INSTALLED): pyproject.toml $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

clean: ## forget the stamps and caches (keeps .venv and instance/)
	rm -f $(SYSTEM_RUN) $(SYSTEM_TEST) $(INSTALLED) $(DEV_INSTALLED)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv (instance/ and its database stay)
	rm -rf $(VENV)
