"""Fixtures: a fresh, seeded database per test, on SQLite or PostgreSQL.

TEST_BACKEND=sqlite (default) gives every test its own SQLite file (WAL, as in
production). TEST_BACKEND=postgresql gives every test an empty schema of its
own, in a database this run makes on the server of TEST_POSTGRES_URL and drops
at its end. `engine` fills the test's database with the schema and the seed by
copying a template made once per session (tests/databases.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import fastread
from app.config import ROOT, Settings, get_settings
from app.db import create_db_engine, get_engine
from app.main import app
from app.seed_schema import SeedFile, read_seed
from app.startup import prepare_database
from tests.databases import Template, close_postgres_run, database_key, new_schema_name, postgres_run

BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Tests that run the command line on SQLite files whatever TEST_BACKEND says (tests/test_cli.py):
# the PostgreSQL run would repeat them as they are, and skips them instead, saying why.
SQLITE_ONLY = pytest.mark.skipif(
    BACKEND != "sqlite", reason="the command line on SQLite files, whatever the back end: in the SQLite run"
)
SEED_FILE = ROOT / "data" / "seed.json"
# The report the seed comes from: the project's copy under ../shared/source, and the repository's
# own (data/source), so that a clone anywhere runs the provenance tests (test_seed checks the two match).
SHARED_ARTICLE = ROOT.parent / "shared" / "source" / "000_42dfe0db393eb31b.txt"
ARTICLE = ROOT / "data" / "source" / SHARED_ARTICLE.name


def pytest_report_header() -> str:
    return f"database back end: {BACKEND}"


def pytest_sessionfinish() -> None:
    close_postgres_run()  # this run's PostgreSQL database, if it made one


@pytest.fixture(scope="session")
def seed() -> SeedFile:
    return read_seed(SEED_FILE)


def make_settings(tmp_path: Path, backend: str = BACKEND, **overrides: object) -> Settings:
    """Settings for a brand-new, empty database of the back end under test (or of `backend`)."""
    if backend == "postgresql":
        run = postgres_run(POSTGRES_URL)
        schema = new_schema_name()
        run.create_schema(schema)
        base: dict[str, object] = {"database_url": run.url, "database_schema": schema}
    else:
        base = {"database_url": f"sqlite:///{tmp_path / 'test.db'}"}
    return Settings(seed_file=SEED_FILE, **{**base, **overrides})  # type: ignore[arg-type]


def drop_settings_schema(settings: Settings) -> None:
    if settings.database_schema:
        postgres_run(POSTGRES_URL).drop_schema(settings.database_schema)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """The schema and the seed, made once per session by prepare_database; copied per test."""
    settings = make_settings(tmp_path_factory.mktemp("template"))
    try:
        yield Template(settings, prepare_database, ahead=True)
    finally:
        drop_settings_schema(settings)


@pytest.fixture
def database_template(seeded_template: Template) -> Template:
    """What `engine` makes the test's database a copy of (a module may override this)."""
    return seeded_template


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """A new database of the test's own: empty, or (when the test uses `engine`) a copy of the
    template, as `engine` would make it."""
    s = None
    if "engine" in request.fixturenames:
        template: Template = request.getfixturevalue("database_template")
        copy = template.new_database(tmp_path)
        if copy is not None:
            s = Settings(seed_file=SEED_FILE, **copy)
            template.copies.add(database_key(s))
    if s is None:
        s = make_settings(tmp_path)
    yield s
    drop_settings_schema(s)


@pytest.fixture
def empty_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on an empty database (no schema yet)."""
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_engine: Engine, settings: Settings, database_template: Template) -> Engine:
    """An engine on a database holding the schema and the seed (what prepare_database makes)."""
    database_template.fill(empty_engine, settings)
    return empty_engine


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        yield TestClient(app, raise_server_exceptions=False)
    finally:
        app.dependency_overrides.clear()


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    """The failed-authentication limiter is per process: every test starts from none."""
    from app.auth import limiter

    limiter.reset()
    yield
    limiter.reset()


def write_key(engine: Engine, name: str = "writer") -> dict[str, str]:
    """Authorization headers with a new write-scoped API key."""
    from app.auth import create_key
    from app.models.apikey import Scope

    return {"Authorization": f"Bearer {create_key(engine, name, Scope.write).key}"}


@pytest.fixture
def auth(engine: Engine) -> dict[str, str]:
    return write_key(engine)


@pytest.fixture
def no_response_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every GET read from the database: a repeated one would come from the response cache
    (app/cache.py), whatever the test changed in between."""
    monkeypatch.setattr(get_settings(), "response_cache_bytes", 0)


@pytest.fixture
def fast_statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The statements of the fast read path (app.fastread.RawQuery.run) from now on, each with
    its parameters as the driver takes them."""
    seen: list[tuple[str, Any]] = []
    run = fastread.RawQuery.run

    def spied_run(self: fastread.RawQuery, cur: Any, dialect: Any, **values: Any) -> list[Any]:
        compiled = self.compiled(dialect)
        seen.append((compiled.sql, compiled.params(values)))
        return run(self, cur, dialect, **values)

    monkeypatch.setattr(fastread.RawQuery, "run", spied_run)
    return seen


def sqlite_plan(engine: Engine, sql: str, params: Any) -> list[str]:
    """The steps of SQLite's plan for `sql` (EXPLAIN QUERY PLAN), e.g. 'SCAN directive'."""
    with engine.connect() as conn:
        return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]


def problem_of(response: object) -> dict[str, object]:
    """The problem+json body of an error response, checked for RFC 9457 shape."""
    from httpx import Response

    assert isinstance(response, Response)
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert "type" in body
    return body  # type: ignore[no-any-return]
