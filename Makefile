# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DURATION ?=
PYTEST_ARGS ?=

.PHONY: demo test test-unit test-slow lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,rocksdb]'
	touch $@

demo: $(VENV)/.installed  ## embedded broker + worker + synthetic feed (DURATION=seconds, default: until Ctrl-C)
	$(BIN)/vroegsignaal demo $(if $(DURATION),--duration $(DURATION))

test: $(VENV)/.installed  ## the whole suite: unit, streams and integration (real broker, SQLite, PostgreSQL)
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

test-unit: $(VENV)/.installed
	$(BIN)/pytest tests/unit schemas signals $(PYTEST_ARGS)

test-slow: $(VENV)/.installed  ## long variants, on demand
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
