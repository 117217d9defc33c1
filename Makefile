# Research workbench. `make help` lists the targets; CI runs `make test` (.ci/run).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE ?= data/sample
SEED ?= 7
WAREHOUSE ?= data/warehouse.duckdb
STUDY ?= templates/weekly.yaml

.DEFAULT_GOAL := help
.PHONY: help install demo sample ingest study test test-fast test-markets nbval lab bench lint browser clean

help: ## List the targets and what they do
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@if command -v uv >/dev/null 2>&1; then \
	  [ -x $(PY) ] || uv venv --quiet $(VENV) --python python3; \
	  uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]'; \
	else \
	  [ -x $(PY) ] || python3 -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip; \
	  $(PY) -m pip install --quiet -e '.[dev]'; \
	  $(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true; \
	fi
	@# byte-compile now: with PYTHONDONTWRITEBYTECODE set, every kernel would otherwise
	@# recompile pandas, matplotlib and the rest from source (7.7 s → 2.3 s of imports)
	@$(PY) -m compileall -q -j 0 research >/dev/null 2>&1 || true
	@touch $(STAMP)

install: $(STAMP) ## Create or reuse .venv and install the project with its tools

sample: install ## Generate the sample market's exports into data/sample (SEED=7)
	$(BIN)/research sample --out $(SAMPLE) --seed $(SEED)

demo: install ## Fresh-machine demo: sample market, ingest, weekly study, print the report path
	@rm -rf $(SAMPLE)
	$(BIN)/research sample --out $(SAMPLE) --seed $(SEED)
	$(BIN)/research ingest $(SAMPLE) --warehouse $(WAREHOUSE)
	$(BIN)/research status --warehouse $(WAREHOUSE)
	@if [ -f $(STUDY) ]; then $(BIN)/research run $(STUDY) --warehouse $(WAREHOUSE); fi

browser: ## Install what reads the reports (Debian): headless Chromium, a CJK font, LibreOffice Calc
	@if command -v chromium >/dev/null 2>&1 && command -v soffice >/dev/null 2>&1 \
	    && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-noto-cjk libreoffice-calc-nogui >/dev/null; \
	else echo "chromium, a CJK font or LibreOffice is missing: those tests skip outside CI (Debian: chromium fonts-noto-cjk libreoffice-calc-nogui)"; fi

test: install browser ## Install and run every test (what CI runs): import contracts, pytest, notebooks
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/pytest -n 2 --dist loadgroup -q --basetemp=.pytest_tmp
	@$(MAKE) --no-print-directory nbval

test-fast: install ## Run the import contracts and the tests that take seconds (no notebooks, no real data)
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/pytest -q -m "not slow and not realdata and not browser" --basetemp=.pytest_tmp

# Every analysis on N fresh random markets (research sample --profile random): the share of
# markets where each planted signal was found and each false flag raised, the failing seeds
# to replay (python -m tests.markets.report --seeds S). Targets: found ≥ 95 %, raised ≤ 2 %.
N ?= 50
JOBS ?= 2
test-markets: install ## Every analysis on N fresh random markets (N=50): detection and false-flag rates
	$(PY) -m tests.markets.report --n $(N) --jobs $(JOBS)

# Every notebook with its default parameters (as JupyterLab runs it) against a sample warehouse
# built in a temporary folder; RESEARCH_REPORTS sends their scratch output there too, so nothing
# lands in data/ or reports/. --dist loadscope keeps each notebook's cells in one kernel.
nbval: install ## Run every notebook with its defaults (pytest --nbval-lax) on a fresh sample warehouse
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "nbval: sample warehouse in $$tmp"; \
	$(BIN)/research sample --out "$$tmp/sample" --seed $(SEED) >/dev/null; \
	$(BIN)/research ingest "$$tmp/sample" --warehouse "$$tmp/warehouse.duckdb" >/dev/null; \
	RESEARCH_WAREHOUSE="$$tmp/warehouse.duckdb" RESEARCH_REPORTS="$$tmp/reports" \
	  $(BIN)/pytest -n 2 --dist loadscope -q -p no:cacheprovider --basetemp="$$tmp/pytest" \
	  --nbval-lax --nbval-current-env notebooks/

lab: install ## Open JupyterLab with the project's environment as its Python kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: install ## Run every benchmark under bench/ and write its figures there
	$(PY) -m bench

lint: install ## ruff (style, imports), mypy on research/, the import contracts (lint-imports)
	$(BIN)/ruff check research tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

clean: ## Remove generated data, reports and caches (keeps .venv)
	rm -rf .pytest_tmp $(SAMPLE) data/warehouse.duckdb data/warehouse.duckdb.wal data/raw reports/*/ reports/index.html .pytest_cache
