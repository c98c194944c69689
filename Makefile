# The two commands of the quick start:
#   make run   set up, migrate, seed the demo clinic, run web + Celery worker + beat (Ctrl-C stops all)
#   make test  set up and run the whole test suite (lint, migrations, deploy check, SQLite, PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho --procfile Procfile.dev start

test: $(STAMP)
	bash scripts/test.sh

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles
