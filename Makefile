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

run: install
	$(BIN)/python -m app seed init
	$(BIN)/python -m uvicorn app.main:app --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/python -m pytest -q

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
