# cqrs-ledger: run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt lambda_src/requirements.txt | sha256sum | cut -c1-12)
ARCH ?= arm64

.PHONY: help venv package test test-unit lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt lambda_src/requirements.txt
	@echo "==> virtual environment ($(PYTHON))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create .venv with the pinned tools

package: $(STAMP) ## Build dist/lambda.zip reproducibly (ARCH=arm64|x86_64)
	@$(PY) build.py --arch $(ARCH)

test: test-unit ## Everything CI runs

test-unit: $(STAMP) ## Unit, property and handler tests (pytest, moto)
	@echo "==> unit tests"
	@$(PY) -m pytest tests/unit

lint: $(STAMP) ## ruff and mypy
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy

bench: $(STAMP) ## Aggregator benchmarks (prints figures; not a test)
	@$(PY) -m bench.aggregator

clean: ## Remove build outputs and caches
	rm -rf dist .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
