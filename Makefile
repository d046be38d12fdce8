# surveyapp — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

# Python keeps each module's compiled bytecode beside it (__pycache__) unless this is set, as
# it is on some machines (this one's image sets it): then every process compiles the ~2,000
# modules it imports again, ~10 s of CPU before `surveyapp` or a test run starts. The
# commands below write and reuse the caches whatever the shell says.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install install-test run test test-sqlite test-postgres test-browser lint format bench translations clean

# What running needs (puts `surveyapp` in $(BIN)); the test tools come with install-test.
install: $(STAMP)

# uv installs the wheels several times faster than pip (a fresh `make run` is mostly this
# step); where uv cannot be had, pip does the same install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	($(BIN)/pip install -q uv && $(BIN)/uv pip install -q --python $(BIN)/python -e .) \
	  || $(BIN)/pip install -q -e .
	$(BIN)/pybabel -q compile -d surveyapp/translations
	touch $(STAMP)

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP) pyproject.toml
	($(BIN)/uv pip install -q --python $(BIN)/python -e '.[test]') \
	  || $(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o surveyapp/translations/messages.pot .
	$(BIN)/pybabel update -i surveyapp/translations/messages.pot -d surveyapp/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d surveyapp/translations

run: install
	$(BIN)/surveyapp init-db
	$(BIN)/surveyapp demo --if-empty
	$(BIN)/surveyapp run --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict surveyapp

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite: install-test
	$(BIN)/pytest -q

test-postgres: install-test
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -m "not browser" $(PG_TEST_ARGS)

# The lint and the two database passes are independent: on a 2-core machine they run side by
# side (each pass's output is printed whole when it ends), which cuts the wall time by the
# length of the shorter ones. Each pass works in its own database or schema. The PostgreSQL
# pass runs only the tests whose outcome can depend on the database (--database-tests-only,
# tests/conftest.py): the others (pure analysis, configuration, source checks) would repeat
# exactly what the SQLite pass beside it does. `make test-postgres` alone runs them all.
test: install-test
	$(MAKE) --no-print-directory --output-sync=target -j3 lint test-sqlite test-postgres \
	  PG_TEST_ARGS=--database-tests-only

bench: install
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/submit.py
	$(BIN)/python bench/dashboard.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
