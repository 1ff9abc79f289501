# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

# `make worker`: only the background worker (e.g. next to gunicorn).
.PHONY: bench-peer bench-load bench-load-people bench-load-short fuzz worker run test install install-dev lock translations migrate lint format e2e messages clean

# Exact versions of every runtime and dev dependency (and of pip and setuptools themselves):
# installs follow requirements/lock.txt; pyproject.toml keeps the lower bounds. `make lock`
# regenerates it (after changing a dependency, or to take newer releases on purpose).
LOCK := requirements/lock.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade -c $(LOCK) pip setuptools

# (pip and setuptools again: a venv made before the lock is brought up to it too.)
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) pip setuptools
	$(BIN)/pip install --quiet -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) pip setuptools
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(VENV)/.installed $@

# uv only resolves here; it is installed in the venv for that and nothing else uses it.
# Versions already in the lock are kept; `make lock UPGRADE=1` takes the newest allowed.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile --quiet pyproject.toml requirements/venv.in --extra dev \
		--python-version 3.11 --custom-compile-command "make lock" \
		$(if $(UPGRADE),--upgrade) -o $(LOCK)

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: | $(BIN)/python
	@for dir in translations/*/; do \
		$(BIN)/pybabel -q compile -d $$dir || exit 1; \
	done

migrate: install
	$(BIN)/flask db upgrade

## Serve the portal on http://127.0.0.1:5000 with demo data (SQLite in instance/),
## with the background worker (statements) running alongside and stopped with the server.
PORT ?= 5000
export PORT
run: migrate
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask demo-logins --port $(PORT)
	$(BIN)/flask worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## Run the whole test suite (SQLite; PostgreSQL too when PORTAL_TEST_DATABASE_URL is set).
worker: migrate
	$(BIN)/flask worker

test: install-dev
	$(BIN)/pytest

## Load test: a mix of buyers, gas customers and managers against gunicorn + PostgreSQL, 60 s.
bench-load: install-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/load_test.py --duration 60 --users 30

## 50 people (buyers, gas customers, managers) signed in once, working with think times, for
## 5 minutes against gunicorn + PostgreSQL (+ Redis: PORTAL_REDIS_URL, default database 6).
BENCH_REDIS ?= redis://127.0.0.1:6379/6
bench-load-people: install-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	PORTAL_REDIS_URL=$${PORTAL_REDIS_URL:-$(BENCH_REDIS)} \
		$(BIN)/python bench/load_test.py --duration 300 --users 50 --spawn-rate 5

## Its bounded version for CI (40 s of load): 8 people; fails on any failed request only.
bench-load-short: install-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	PORTAL_REDIS_URL=$${PORTAL_REDIS_URL:-$(BENCH_REDIS)} \
		$(BIN)/python bench/load_test.py --duration 40 --users 8 --spawn-rate 4 \
		--workers 2 --think 0.5,2 --fail-on-errors

## The portal beside django-oscar 4 on the same 50,000 items (bench/peer/: its own virtual
## environment and databases peer_portal, a copy of `perf`, and peer_oscar), in one alternating
## run: search, listing, product page, add to basket. PEER_SECONDS per kind and side.
PEER_SECONDS ?= 20
PEER_ROUNDS ?= 4
bench-peer: install-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	$(MAKE) -C bench/peer setup
	$(BIN)/python bench/peer/compare.py --seconds $(PEER_SECONDS) --rounds $(PEER_ROUNDS)

## A short coverage-guided run of the parsers users reach (atheris, the `fuzz` extra).
FUZZ_SECONDS ?= 120
fuzz: install-dev
	$(BIN)/pip install --quiet -e '.[fuzz]'
	$(BIN)/python bench/fuzz_parsers.py -max_total_time=$(FUZZ_SECONDS)

e2e: install-dev
	$(BIN)/pytest tests/e2e

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Update one domain's Russian catalogue from its sources:
#   make messages DOMAIN=catalog   (reads portal/catalog and templates/catalog)
#   make messages DOMAIN=core      (the foundation: everything listed in CORE_PATHS)
CORE_PATHS := portal/__init__.py portal/audit.py portal/config.py portal/security.py portal/request_guard.py \
	portal/validators.py portal/navigation.py portal/accounts portal/organisations \
	portal/onboarding portal/backoffice portal/notifications portal/dashboard portal/system \
	templates/base.html templates/macros templates/errors templates/mail templates/accounts \
	templates/organisations templates/onboarding templates/backoffice templates/dashboard \
	templates/notifications
messages: | $(BIN)/python
	@test -n "$(DOMAIN)" || (echo "usage: make messages DOMAIN=<domain>" && exit 2)
	mkdir -p instance translations/$(DOMAIN)
	$(BIN)/pybabel -q extract -F babel-domain.cfg -k _l -k _lp:1c,2 -k lazy_pgettext:1c,2 -o instance/$(DOMAIN).pot \
		$(if $(filter core,$(DOMAIN)),$(CORE_PATHS),$(wildcard portal/$(DOMAIN) templates/$(DOMAIN)))
	if [ -f translations/$(DOMAIN)/ru/LC_MESSAGES/messages.po ]; then \
		$(BIN)/pybabel -q update --no-fuzzy-matching -i instance/$(DOMAIN).pot -d translations/$(DOMAIN) -l ru; \
	else \
		$(BIN)/pybabel -q init -i instance/$(DOMAIN).pot -d translations/$(DOMAIN) -l ru; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
