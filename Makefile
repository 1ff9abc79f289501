# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev translations migrate seed lint format e2e bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: | $(BIN)/python
	@for dir in translations/*/; do \
		$(BIN)/pybabel compile --use-fuzzy -q -d $$dir || exit 1; \
	done

migrate: install
	$(BIN)/flask db upgrade

## Serve the portal on http://127.0.0.1:5000 with demo data (SQLite in instance/).
run: migrate
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask demo-logins
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## Run the whole test suite (SQLite; PostgreSQL too when PORTAL_TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/pytest

e2e: install-dev
	$(BIN)/pytest tests/e2e

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

extract-messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k _ -o instance/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
