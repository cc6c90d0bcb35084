# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DURATION ?=
PYTEST_ARGS ?=
# pytest-xdist processes for `make test` (1 runs the suite in this process)
TEST_WORKERS ?= 2

.PHONY: demo test test-unit test-slow lint format bench clean golden

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,rocksdb]'
	touch $@

demo: $(VENV)/.installed  ## embedded broker + worker + synthetic feed (DURATION=seconds, default: until Ctrl-C; team pages on VROEGSIGNAAL_WEB_PORT, default 6066)
	$(BIN)/vroegsignaal demo $(if $(DURATION),--duration $(DURATION))

test: $(VENV)/.installed  ## the whole suite: unit, streams and integration (real broker, SQLite, PostgreSQL)
	$(BIN)/pytest -m "not slow" $(if $(filter-out 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile) $(PYTEST_ARGS)

test-unit: $(VENV)/.installed
	$(BIN)/pytest tests/unit schemas signals $(PYTEST_ARGS)

test-slow: $(VENV)/.installed  ## long variants, on demand
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

lint: $(VENV)/.installed  ## the architecture's import contracts (.importlinter), ruff and mypy
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Expected outputs of the golden replay (tests/integration/test_replay.py); keep the numbers in step
# with GOLDEN_INPUT there. Run after a deliberate change of the rules or the generator, and review the diff.
golden: $(VENV)/.installed  ## regenerate tests/golden/replay from a fresh synthetic history
	rm -rf build/golden-input tests/golden/replay
	$(BIN)/vroegsignaal generate --households 600 --months 4 --seed 7 --out build/golden-input
	$(BIN)/vroegsignaal replay --embedded \
		--from build/golden-input --out tests/golden/replay

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis

bench: $(VENV)/.installed  ## throughput, latency and memory on the embedded broker (BENCH_ARGS="--households N")
	$(PY) -m tests.bench.run_bench $(BENCH_ARGS)
