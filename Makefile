# shequ — `make run` to try it, `make test` for every gate. Nothing else needs setting up.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages: msgfmt for the translations, CJK fonts for pages and PDFs; chromium for
# the browser tests only.
RUN_DEBS := gettext fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_DEBS := chromium
NODE_DEBS := nodejs npm
LOCAL_ENV := SHEQU_SECRET_KEY_FILE=var/secret_key SHEQU_FIELD_KEY_FILE=var/field_key SHEQU_HTTPS=0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run serve test lint test-sqlite test-postgres test-e2e bench messages clean debs-run debs-test secrets

help:
	@echo "make run    install, migrate, load the demo city, serve http://$(HOST):$(PORT) (SQLite)"
	@echo "make test   lint, type-check, migrations check, tests on SQLite and PostgreSQL, browser tests"
	@echo "make bench  run the benchmarks in bench/"

# $(1): packages that must be installed; $(2): packages needed only if their command is missing
# (Node.js may come from elsewhere, e.g. NodeSource, and must not be replaced).
define install_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing $(NODE_DEBS)"; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "need root (or sudo) to install:$$missing"; exit 1; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

debs-run:
	$(call install_debs,$(RUN_DEBS))

debs-test:
	$(call install_debs,$(TEST_DEBS))

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/pip || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: debs-run $(BIN)/.installed node_modules/.installed
	$(BIN)/python scripts/vendor.py
	SHEQU_DEBUG=1 $(BIN)/shequ compilemessages -v0 -i .venv -i node_modules -i var

secrets:
	@mkdir -p var
	@umask 077; [ -s var/secret_key ] || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
	@umask 077; [ -s var/field_key ] || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/field_key

run: install secrets
	$(LOCAL_ENV) $(BIN)/shequ migrate --noinput -v0
	$(LOCAL_ENV) $(BIN)/shequ demo
	$(LOCAL_ENV) $(BIN)/shequ collectstatic --noinput -v0
	@echo "shequ at http://$(HOST):$(PORT)/ — demo accounts in README.md (password shequ-demo-2026)"
	@# The SLA worker (deadlines, escalation, reminders) runs beside the web server and stops with it.
	$(LOCAL_ENV) $(BIN)/shequ worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(LOCAL_ENV) $(BIN)/gunicorn shequ.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shequ conftest.py scripts bench tests_e2e
	SHEQU_DEBUG=1 $(BIN)/shequ makemigrations --check --dry-run
	SHEQU_DEBUG=1 $(BIN)/python scripts/check_messages.py

test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/python -m pytest -q

test-postgres: install
	@if url=$$($(BIN)/python scripts/pg_url.py); then \
	  echo "== tests on PostgreSQL ($$url, throwaway test database)"; \
	  DATABASE_URL=$$url $(BIN)/python -m pytest -q --create-db; \
	else echo "== PostgreSQL not reachable: skipped the PostgreSQL run"; fi

test-e2e: install debs-test
	$(BIN)/python -m pytest -q -m e2e tests_e2e

test: lint test-sqlite test-postgres test-e2e

bench: install
	$(BIN)/python bench/areas_bench.py
	$(BIN)/python bench/sla_bench.py --cases 100000 --repeat 1
	$(BIN)/python bench/cases_api_bench.py --seconds 10

messages: install
	SHEQU_DEBUG=1 $(BIN)/shequ makemessages -l zh_Hans --no-location --no-obsolete --no-wrap -i 'node_modules/*' -i '.venv/*' -i 'var/*'
	$(BIN)/python scripts/zh_hans.py

clean:
	rm -rf var/static var/test.sqlite3 test-artifacts
