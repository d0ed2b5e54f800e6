# EngageX developer commands. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format bench lock install check-python clean

run: $(INSTALLED)  ## web, job worker, dev mail and the embedded database, together
	@$(PY) -m engagex.launcher

test: $(INSTALLED)  ## the whole suite: unit, integration, browser
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: $(INSTALLED)  ## every benchmark in bench/, one JSON line each
	@$(PY) -m bench.run

install: $(INSTALLED)

# Fails with one clear line (and non-zero) when Python is missing or too old.
check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; EngageX needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { echo "error: EngageX needs Python >= 3.11, but $(PYTHON) is $$($(PYTHON) --version 2>&1) (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

# Reinstalls only when the dependency files change.
$(INSTALLED): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing dependencies into $(VENV) ..."
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(INSTALLED)

# Re-pin every dependency to the newest versions the ranges in pyproject.toml allow.
lock: check-python
	@rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	@var/lock-venv/bin/pip install --quiet --upgrade pip
	@var/lock-venv/bin/pip install --quiet -e '.[dev]'
	@{ echo "# Exact versions for reproducible installs; regenerate with 'make lock'."; \
	   var/lock-venv/bin/pip freeze --exclude-editable | grep -iv '^engagex' ; } > constraints.txt
	@rm -rf var/lock-venv
	@echo "constraints.txt updated"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
