# The two Quick start targets: `make demo` (the main job) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve test test-packages lint typecheck lock scan clean validators baselines

$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## demo: screen every example intake and show why each decision was made
demo: $(STAMP)
	@for f in examples/intakes/*.json; do \
	  echo "=================== $$f"; \
	  $(BIN)/mesoscreen screen "$$f" --on 2026-11-25 || exit $$?; \
	done

## serve: run the clinic service on the embedded SQLite default
serve: $(STAMP)
	$(BIN)/mesoscreen serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

## test-packages: install from Debian what the tests need when missing (chromium, a Java runtime,
## Node); says in one line what it installs
test-packages:
	@scripts/install-test-packages

## validators: the outside FHIR validators (Medplum, fhirpath) the tests run, on Debian's Node
VALIDATORS := tests/validators
$(VALIDATORS)/node_modules/.installed: $(VALIDATORS)/package.json $(VALIDATORS)/package-lock.json | test-packages
	cd $(VALIDATORS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

validators: $(VALIDATORS)/node_modules/.installed

## test: the system packages the tests need, lint, types, architecture contract and the whole suite
test: test-packages lint typecheck validators
	$(BIN)/pytest

## baselines: accept the pages' pictures as they now look (after a change made on purpose;
## look at them first) and rewrite README's screenshots (tests/e2e/browser/pictures.py)
baselines: $(STAMP)
	MESOSCREEN_UPDATE_BASELINES=1 $(BIN)/pytest -q -p no:cacheprovider tests/e2e/browser/test_page_pictures.py

## lock: re-pin requirements/dev.lock from pyproject.toml (needs the network)
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --python-version 3.11 --quiet -o requirements/dev.lock

## scan: bandit (fails on any medium or high finding) and pip-audit of the lock (needs the network)
scan:
	$(PYTHON) -m venv .venv-scan
	.venv-scan/bin/python -m pip install --quiet bandit pip-audit
	.venv-scan/bin/bandit -q -r src -ll
	.venv-scan/bin/pip-audit -r requirements/dev.lock --progress-spinner off

clean:
	rm -rf $(VENV) .venv-scan .pytest_cache .mypy_cache .ruff_cache .hypothesis
