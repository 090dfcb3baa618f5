# Developer entry points. `make` lists them; each is a thin wrapper around a script or one
# command. Area-specific targets live in mk/*.mk.

.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
REQUIREMENTS := $(shell find . -name 'requirements*.txt' -not -path './.venv/*' -not -path './deploy/offline-images/*')

.PHONY: help venv test test-integration lint fmt run migrate openapi

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort \
	  | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with every pinned dependency

$(VENV)/.installed: $(REQUIREMENTS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

test: venv ## Lint, then the whole suite (unit, integration, rules, dashboards, Compose end-to-end)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

test-integration: venv ## Only the tests that start real gunicorn processes
	$(PY) -m pytest -m integration

lint: venv ## Check style (ruff)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: venv ## Fix style (ruff)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

run: venv ## Run the API natively on 127.0.0.1:8000 against DATABASE_URL (migrates first)
	cd services/api && ../../$(PY) -m api migrate && exec ../../$(VENV)/bin/gunicorn -c gunicorn.conf.py api.wsgi:app

openapi: venv ## Regenerate docs/openapi.json from the code (a test checks it is current)
	cd services/api && ../../$(PY) -m api openapi > ../../docs/openapi.json

migrate: venv ## Upgrade the database at DATABASE_URL and seed it
	cd services/api && ../../$(PY) -m api migrate

-include mk/*.mk
