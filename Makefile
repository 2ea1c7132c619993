# Set-up and everyday commands. Needs only Python 3.11+ on the PATH.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
STAMP := $(VENV)/.installed

.PHONY: install run test lint seed-check schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# `make run WORKERS=4` for four worker processes: the schema and the seed are
# made once, before uvicorn starts them (each worker checks again, under a lock).
# MALLOC_ARENA_MAX=2 (as in the Dockerfile): fewer malloc arenas, less memory per worker.
run: install
	$(BIN)/python -m app seed init
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} $(BIN)/python -m uvicorn app.main:app --host $(HOST) --port $(PORT) --workers $(WORKERS)

# `make test` runs the suite on each back end of BACKENDS, side by side: SQLite,
# and PostgreSQL at TEST_POSTGRES_URL when it answers there (else it says
# SKIPPED); beside them, Schemathesis's generated tests in a run of their own,
# each case sent to every back end that answers. It fails if any run fails, or
# collects no test (pytest's exit 5). SERIAL=1 runs them one after the other.
# See scripts/test-backends.
BACKENDS ?= sqlite postgresql
PYTEST_ARGS ?= -q
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL BACKENDS PYTEST_ARGS

test: install
	BIN=$(BIN) scripts/test-backends

lint: install
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy app

seed-check: install
	$(BIN)/python -m app seed check data/seed.json

schema: install
	$(BIN)/python -m app seed schema > data/seed.schema.json

clean:
	rm -rf $(VENV) data/meetings.db data/meetings.db-wal data/meetings.db-shm

# Benchmarks (not tests; CI does not run them): builds the data sets under
# bench/out/, measures with wrk and writes bench/RESULTS.md. Needs root for
# `apt-get install wrk` when wrk is missing, and PostgreSQL at BENCH_POSTGRES_URL.
BENCH_MEETINGS ?= 10000
BENCH_ARGS ?=
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run --meetings $(BENCH_MEETINGS) $(BENCH_ARGS)
