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
run: install
	$(BIN)/python -m app seed init
	$(BIN)/python -m uvicorn app.main:app --host $(HOST) --port $(PORT) --workers $(WORKERS)

# `make test` runs the suite on each back end of BACKENDS in turn: SQLite, then
# PostgreSQL at TEST_POSTGRES_URL when it answers there (else it says SKIPPED).
# It fails if any run fails, or collects no test (pytest's exit 5).
BACKENDS ?= sqlite postgresql
PYTEST_ARGS ?= -q
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_POSTGRES_URL
PG_PROBE := import os, psycopg; from sqlalchemy import make_url; \
	psycopg.connect(make_url(os.environ["TEST_POSTGRES_URL"]).set(drivername="postgresql") \
	.render_as_string(hide_password=False), connect_timeout=3).close()

test: install
	@status=0; summary=""; \
	for backend in $(BACKENDS); do \
	  if [ "$$backend" = postgresql ] && ! $(BIN)/python -c '$(PG_PROBE)' 2>/dev/null; then \
	    echo "==> SKIPPED the PostgreSQL run: no PostgreSQL answers at TEST_POSTGRES_URL" \
	      "($$($(BIN)/python -c 'import os; from sqlalchemy import make_url; print(make_url(os.environ["TEST_POSTGRES_URL"]))'))"; \
	    summary="$$summary $$backend:SKIPPED"; continue; \
	  fi; \
	  echo "==> tests on $$backend"; \
	  rc=0; TEST_BACKEND=$$backend $(BIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	  if [ $$rc -eq 0 ]; then summary="$$summary $$backend:passed"; \
	  elif [ $$rc -eq 5 ]; then summary="$$summary $$backend:FAILED(no-tests-collected,exit-5)"; status=1; \
	  else summary="$$summary $$backend:FAILED(exit-$$rc)"; status=1; fi; \
	done; \
	echo "==> test runs:$$summary"; \
	exit $$status

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
