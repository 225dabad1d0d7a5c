# waportal — the two commands of the README, and a few helpers.
#   make demo   set up everything and serve the portal on http://127.0.0.1:8000/
#   make test   set up everything and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_WORKERS ?= 2
WEB_THREADS ?= 8
TASK_WORKERS ?= 3
PYTEST_ARGS ?=

# The first interpreter >= 3.12 that actually runs (pyenv shims may exist but refuse).
find_python = $(shell for c in python3.13 python3.12 python3 $$(ls -d /root/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo $$c; break; fi; \
  v=$$(ls -d /root/.pyenv/versions/$${c#python}*/bin/$$c 2>/dev/null | tail -n1); \
  if [ -n "$$v" ] && $$v -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo $$v; break; fi; \
done)

.PHONY: help venv install migrate demo demo-setup serve test lint bench mutants clean messages

help:
	@echo "make demo   - install, migrate, create the admin, configure the sandbox, serve on http://$(HOST):$(PORT)/"
	@echo "make test   - install, migrate, run the whole test suite (DATABASE_URL picks PostgreSQL)"
	@echo "make lint   - ruff"
	@echo "make bench  - the performance suite (bench/)"
	@echo "make mutants - plant the catalogue's bugs one at a time and check the tests catch them (mutants/)"

$(VENV)/.installed: requirements.txt
	@PYBIN="$(call find_python)"; \
	if [ -z "$$PYBIN" ]; then echo "Python >= 3.12 is required (python3.13, python3.12 or python3)." >&2; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$PYBIN"; $$PYBIN -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

venv install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

messages: install
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages --ignore=.venv

demo-setup: migrate
	$(PY) manage.py demo_setup --base-url http://$(HOST):$(PORT)

# Workers run under deploy/respawn: one that dies is started again a second later; task_worker itself
# waits for the database when it goes away instead of exiting.
serve: install
	@echo "Serving http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/) — Ctrl-C stops web and workers."
	@trap 'kill $$WORKERS 2>/dev/null; wait $$WORKERS 2>/dev/null' EXIT INT TERM; \
	WORKERS=""; for i in $$(seq $(TASK_WORKERS)); do \
	  deploy/respawn $(PY) manage.py task_worker --interval 0.5 --no-reload & WORKERS="$$WORKERS $$!"; done; \
	$(VENV)/bin/gunicorn waportal.wsgi:application --bind $(HOST):$(PORT) --workers $(WEB_WORKERS) \
	  --threads $(WEB_THREADS) --access-logfile - --graceful-timeout 5

demo: demo-setup serve

test: migrate
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

# Not part of `make test` or CI (minutes, not seconds). MUTANTS_ARGS e.g. "--jobs 2" or mutant ids;
# with DATABASE_URL=postgres://… the PostgreSQL-only mutants run too.
MUTANTS_ARGS ?=
mutants: install
	$(PY) -m mutants.run $(MUTANTS_ARGS)

clean:
	rm -rf var/static .pytest_cache
