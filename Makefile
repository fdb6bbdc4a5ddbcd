# posegen: `make run` serves the embedded profile, `make test` runs every gate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate wheel screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The embedded profile: a local sign-up starts with credits to try the service (the setting's
# default, and so production's, is 0). Set POSEGEN_CREDITS_SIGNUP_BONUS to change it.
run: export POSEGEN_CREDITS_SIGNUP_BONUS ?= 500
run: $(STAMP)
	$(BIN)/posegen migrate
	$(BIN)/posegen seed
	$(BIN)/posegen users demo
	$(BIN)/posegen serve

migrate: $(STAMP)
	$(BIN)/posegen migrate

# The distributable: what `pip install` puts into an image (tests/test_packaging.py installs it
# without the dev extra and runs every command from it).
wheel: $(STAMP)
	$(BIN)/pip wheel --no-deps --quiet -w dist .

# Every page of the web app at desktop and phone width into docs/screenshots/ (a real server and
# Debian's Chromium; .ci/run installs it, or `apt-get install chromium`).
screenshots: $(STAMP)
	$(BIN)/python -m tests.web.screenshots

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .grimp_cache .import_linter_cache dist
