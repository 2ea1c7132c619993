"""The tests' databases: a fresh one per test, copied from a template made once per session.

Every test still gets a new database of its own holding the schema (Alembic head)
and the seed; what changed is how it gets there. Migrating and seeding cost each
test about 0.2 s on SQLite and 2-3 s on PostgreSQL, so `prepare_database` runs
once per session, on a template, and each test's database is a copy of it:

* SQLite: the template is a file, checkpointed and closed (no WAL or shared-memory
  file beside it), and each test's file is a byte-for-byte copy of it.
* PostgreSQL: each test has a schema of its own (DATABASE_SCHEMA), as before. The
  template is a schema too, written out once by pg_dump as SQL; a test's schema is
  made by running that SQL with the schema's name in place of the template's. A
  thread of the test process makes the next schemas ahead of the tests that take
  them, and drops the schemas of the tests that are done, so that a test waits
  for neither. Without a usable pg_dump, each test's schema is migrated and seeded
  as before (slow, but the same databases).

On PostgreSQL the run works in a database of its own on the server of
TEST_POSTGRES_URL, `mrt_<pid>_<hex>`, made when first needed and dropped (with
all its schemas) at the end of the session. That also scopes the application's
advisory locks (the start-up lock and the change feed's) to this run: in a
database shared with other runs, a test would wait for another run's seed load.
A run holds an advisory lock named after its database for as long as it lives; a
later run drops the `mrt_…` databases whose lock it can take (their run died).

tests/test_databases.py checks that a copy is the database prepare_database makes.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, make_url

from app.config import Settings
from app.db import create_db_engine

# The two-key advisory lock a run holds on its database's name (the application's
# locks use the one-key form, a separate key space).
RUN_LOCK_CLASS = 727_280
RUN_PREFIX = "mrt_"
RUN_NAME = re.compile(rf"{RUN_PREFIX}\d+_[0-9a-f]{{8}}")
# What settings a template stands for: a test whose settings differ here is prepared as before.
TEMPLATE_FIELDS = ("seed_file", "load_seed_on_start", "sqlite_driver")
# How many seeded schemas are made ahead of the tests, by how many threads.
AHEAD = 3
THREADS = 2


def new_schema_name() -> str:
    return "t_" + uuid.uuid4().hex[:16]


def libpq(url: str) -> tuple[str, str | None]:
    """A SQLAlchemy URL as a libpq URL without its password, and the password."""
    u = make_url(url)
    return u.set(drivername="postgresql", password=None).render_as_string(hide_password=False), u.password


def pg_connect(url: str) -> psycopg.Connection[Any]:
    conninfo, password = libpq(url)
    return psycopg.connect(conninfo, password=password, autocommit=True, connect_timeout=10)


class PostgresRun:
    """This run's database on the PostgreSQL server, and an admin connection to it."""

    def __init__(self, server_url: str) -> None:
        self.name = f"{RUN_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(hide_password=False)
        # The keeper stays connected to the server's database for the whole run: it holds the lock
        # that tells other runs this database is in use, and drops the database at the end.
        self._keeper = pg_connect(server_url)
        self.dropped_leftovers = drop_leftovers(self._keeper)
        self._keeper.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, self.name))
        # From template0, to which no one is ever connected (CREATE DATABASE fails if someone is
        # connected to the template).
        self._keeper.execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')
        self.admin = pg_connect(self.url)
        self.worker: SchemaWorker | None = None

    def create_schema(self, schema: str) -> None:
        self.admin.execute(f"CREATE SCHEMA {schema}")

    def drop_schema(self, schema: str) -> None:
        """Drop a schema: now, or soon by the worker when there is one."""
        if self.worker is not None:
            self.worker.drop_later(schema)
        else:
            self.admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    def is_empty(self, schema: str) -> bool:
        """Whether the schema holds no table, index, sequence, view or type."""
        row = self.admin.execute(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            "        WHERE n.nspname = %(s)s)"
            "     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            "        WHERE n.nspname = %(s)s)",
            {"s": schema},
        ).fetchone()
        assert row is not None
        return int(row[0]) == 0

    def start_worker(self, sql: str, template_schema: str) -> SchemaWorker:
        assert self.worker is None
        self.worker = SchemaWorker(self.url, sql, template_schema)
        self.worker.start()
        return self.worker

    def close(self) -> None:
        try:
            if self.worker is not None:
                self.worker.stop()
            self.admin.close()
        finally:
            try:
                # WITH (FORCE): whatever a test left connected (or a schema the worker could not
                # drop) goes with it.
                self._keeper.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                self._keeper.close()


def drop_leftovers(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the databases of earlier runs that died before dropping theirs.

    A run's database is left alone while its run holds the lock named after it (a live run
    takes the lock before it makes the database, and keeps it until it has dropped it).
    """
    dropped = []
    names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'mrt\\_%'")]
    for name in names:
        if not RUN_NAME.fullmatch(name):
            continue
        row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, name)).fetchone()
        if row is None or not row[0]:
            continue  # its run is alive
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (RUN_LOCK_CLASS, name))
    return dropped


class SchemaWorker:
    """Threads that make seeded schemas ahead of the tests, and drop the schemas of tests
    that are done.

    Each thread has its own connection; the test thread waits only when no schema is
    ready. A schema that cannot be dropped (a test left a transaction open on it) stays
    until the run's database is dropped.
    """

    def __init__(self, url: str, sql: str, template_schema: str, threads: int = THREADS) -> None:
        self._url = url
        self._sql = sql
        self.template_schema = template_schema
        self._cond = threading.Condition()
        self._ready: collections.deque[str] = collections.deque()
        self._making = 0
        self._drops: collections.deque[str] = collections.deque()
        self._stopping = False
        self.error: BaseException | None = None
        self.undropped: list[str] = []
        self._threads = [
            threading.Thread(target=self._work, name=f"test-schemas-{i}", daemon=True) for i in range(threads)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _next_job(self) -> tuple[str, str] | None:
        """("make", name) or ("drop", name), or None to stop; under the condition."""
        while True:
            if self._stopping or self.error is not None:
                return None
            if len(self._ready) + self._making < AHEAD:
                self._making += 1
                return "make", new_schema_name()
            if self._drops:
                return "drop", self._drops.popleft()
            self._cond.wait()

    def _work(self) -> None:
        try:
            with pg_connect(self._url) as conn:
                conn.execute("SET lock_timeout = '10s'")
                while True:
                    with self._cond:
                        job = self._next_job()
                    if job is None:
                        return
                    what, schema = job
                    if what == "drop":
                        try:
                            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                        except psycopg.errors.LockNotAvailable:
                            self.undropped.append(schema)
                        continue
                    with conn.transaction():
                        conn.execute(f"CREATE SCHEMA {schema}")
                        conn.execute(self._sql.replace(self.template_schema, schema).encode())
                    with self._cond:
                        self._making -= 1
                        self._ready.append(schema)
                        self._cond.notify_all()
        except BaseException as exc:
            with self._cond:
                self.error = self.error or exc
                self._cond.notify_all()
            raise

    def take(self) -> str:
        """A new seeded schema, the test's own."""
        with self._cond:
            while not self._ready:
                if self.error is not None:
                    raise RuntimeError("making the tests' schemas failed") from self.error
                if not any(t.is_alive() for t in self._threads):
                    raise RuntimeError("no thread is making the tests' schemas")
                self._cond.wait(timeout=1)
            schema = self._ready.popleft()
            self._cond.notify_all()
            return schema

    def drop_later(self, schema: str) -> None:
        with self._cond:
            self._drops.append(schema)
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop making and dropping (the run's database goes with whatever is left)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=60)


_run: PostgresRun | None = None


def postgres_run(server_url: str) -> PostgresRun:
    """This run's database, made on first use."""
    global _run
    if _run is None:
        _run = PostgresRun(server_url)
    return _run


def close_postgres_run() -> None:
    global _run
    if _run is not None:
        run, _run = _run, None
        run.close()


def database_key(settings: Settings) -> tuple[str, str | None]:
    return settings.database_url, settings.database_schema


class Template:
    """A database made once, by `build` from a new, empty one; new databases are copies of it.

    `ahead`: on PostgreSQL, worker threads make copies ahead of the tests that take them (one
    template per run does: the seeded one).
    """

    def __init__(
        self, settings: Settings, build: Callable[[Engine, Settings], None], *, ahead: bool = False
    ) -> None:
        self.settings = settings
        self.copies: set[tuple[str, str | None]] = set()  # the databases made as copies
        self._build = build
        self._sqlite_file: Path | None = None
        self._pg_sql: str | None = None
        engine = create_db_engine(settings)
        try:
            build(engine, settings)
            if engine.dialect.name == "sqlite":
                with engine.connect() as conn:
                    # Everything into the database file, the WAL emptied: the file alone is then the
                    # whole database.
                    busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                    assert busy == 0, "the template's WAL could not be checkpointed"
        finally:
            engine.dispose()  # the last connection closed removes the WAL and shared-memory files
        if engine.dialect.name == "sqlite":
            path = Path(str(make_url(settings.database_url).database))
            leftover = [p.name for p in path.parent.iterdir() if p != path and p.name.startswith(path.name)]
            assert not leftover, f"the template left {leftover} beside it"
            self._sqlite_file = path
            self.how = "a copy of a template file per test"
            return
        assert _run is not None
        assert settings.database_schema is not None
        self._pg_sql, why = pg_dump_schema(settings)
        if self._pg_sql is None:
            self.how = f"a schema made from scratch per test ({why})"
            return
        if ahead:
            _run.start_worker(self._pg_sql, settings.database_schema)
        self.how = "a schema per test, filled from a template schema as pg_dump writes it out"

    def _stands_for(self, settings: Settings) -> bool:
        return all(getattr(settings, f) == getattr(self.settings, f) for f in TEMPLATE_FIELDS)

    def new_database(self, tmp_path: Path) -> dict[str, Any] | None:
        """Settings fields of a new database that is a copy of the template (None: cannot)."""
        if self._sqlite_file is not None:
            path = tmp_path / "test.db"
            shutil.copyfile(self._sqlite_file, path)
            return {"database_url": f"sqlite:///{path}"}
        if self._pg_sql is None or _run is None:
            return None
        worker = _run.worker
        if worker is not None and worker.template_schema == self.settings.database_schema:
            schema = worker.take()
        else:
            schema = new_schema_name()
            _run.create_schema(schema)
            self._fill_now(schema)
        return {"database_url": _run.url, "database_schema": schema}

    def fill(self, engine: Engine, settings: Settings) -> None:
        """Make the database of `settings` what `build` makes of a new one.

        Nothing to do for a copy of the template. A new, empty database becomes a copy of it;
        any other database, or settings that the template does not stand for, go through
        `build` itself.
        """
        if database_key(settings) in self.copies and self._stands_for(settings):
            return
        if self._stands_for(settings):
            if self._sqlite_file is not None and engine.dialect.name == "sqlite":
                path = Path(str(make_url(settings.database_url).database))
                if not any(p.name.startswith(path.name) for p in path.parent.iterdir()):
                    shutil.copyfile(self._sqlite_file, path)
                    return
            elif self._pg_sql is not None and _run is not None:
                schema = settings.database_schema
                if settings.database_url == _run.url and schema and _run.is_empty(schema):
                    self._fill_now(schema)
                    return
        self._build(engine, settings)

    def _fill_now(self, schema: str) -> None:
        assert _run is not None
        assert self._pg_sql is not None
        assert self.settings.database_schema
        with _run.admin.transaction():
            _run.admin.execute(self._pg_sql.replace(self.settings.database_schema, schema).encode())


def pg_dump_schema(settings: Settings) -> tuple[str | None, str]:
    """The SQL that fills an existing, empty schema as settings.database_schema is filled (the
    schema's name as it is: replace it), or None and why not."""
    schema = settings.database_schema
    assert schema is not None
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None, "no pg_dump on the PATH"
    conninfo, password = libpq(settings.database_url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    r = subprocess.run(
        [
            pg_dump,
            f"--dbname={conninfo}",
            f"--schema={schema}",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            "--inserts",  # plain SQL statements, no COPY ... FROM stdin
            "--rows-per-insert=1000",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if r.returncode != 0:
        return None, f"pg_dump failed: {r.stderr.strip()}"
    lines = r.stdout.splitlines()
    create = f"CREATE SCHEMA {schema};"
    if create not in lines:
        return None, f"pg_dump wrote no {create!r}"
    # The schema is made apart; psql's meta-commands (pg_dump 15.14+ brackets its output with
    # \restrict and \unrestrict) are not SQL.
    kept = [
        line for line in lines if line != create and not re.fullmatch(r"\\(un)?restrict [A-Za-z0-9]+", line)
    ]
    return "\n".join(kept) + "\n", ""
