# The API in a container: uvicorn with WORKERS worker processes on port 8000.
#
#   docker build -t meeting-records .
#   docker run -p 8000:8000 -e WORKERS=4 meeting-records
#   docker run -p 8000:8000 -v meetings-data:/app/data meeting-records      # keep the SQLite file
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql+psycopg://user:pw@host/db meeting-records
#
# At start the database is migrated to the newest revision and, when it is
# empty, loaded from SEED_FILE (data/seed.json). The default database is the
# SQLite file /app/data/meetings.db, in a directory the app user owns. A named
# volume at /app/data starts as a copy of the image's (seed included); with a
# bind mount there, put the seed in it or set SEED_FILE.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies first, from pyproject.toml alone: this layer is built again
# only when pyproject.toml changes, not when the code does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(chr(10).join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# The code and the seed belong to root (read-only for the app); /app/data is the
# app user's, for the SQLite database and its WAL files.
COPY alembic.ini ./
COPY app/ ./app/
COPY data/ ./data/
RUN chown app:app /app/data \
    && python -c "import app.main"

# MALLOC_ARENA_MAX: glibc's malloc keeps an arena per thread; two are enough for a
# worker whose threads mostly wait for the database, and keep its memory down.
ENV DATABASE_URL=sqlite:////app/data/meetings.db \
    SEED_FILE=/app/data/seed.json \
    WORKERS=2 \
    MALLOC_ARENA_MAX=2

USER app
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# Migrate and seed once, then replace the shell with uvicorn (PID 1, gets SIGTERM).
CMD ["sh", "-c", "python -m app seed init && exec python -m uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers \"${WORKERS}\""]
