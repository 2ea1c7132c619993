"""The schema's migrations (Alembic), and running them on a connection.

The application applies them itself: app.seeding.create_schema calls
upgrade() inside its write transaction, under the lock that workers starting
together queue on, so each migration runs once. `alembic ...` on the command
line (alembic.ini) goes through env.py, which takes the same lock.

Revisions live in versions/. `alembic revision --autogenerate -m "..."` makes
a draft from the models (app.models, whose naming convention names every
constraint); read it, and keep it working on both SQLite and PostgreSQL.
"""

# ruff: noqa: E402  (alembic's logger is quietened before alembic is imported)
from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Alembic's INFO lines (some logged as it is imported) are for its command line,
# where alembic.ini turns them back on; the application logs what it migrates.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

log = logging.getLogger("app.migrations")

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
# The first revision: the schema as SQLModel.metadata.create_all made it before
# there were migrations. Such a database is stamped at this revision.
BASELINE = "6a1f3c9e2b7d"

# The full-text index (see app.search_index) is made by the migrations but not
# described by the models: comparisons with the models leave it out.
FTS_TABLE = "search_fts"
FTS_TRIGGERS = ("search_document_ai", "search_document_ad", "search_document_au")
FTS_INDEX = "ix_search_document_fts"
FTS_COLUMN = ("search_document", "folded_tsv")  # PostgreSQL only: the indexed tsvector


def include_name(name: str | None, type_: str, parent_names: Mapping[Any, str | None]) -> bool:
    """Whether autogenerate and compare_metadata look at this database object."""
    if type_ == "table":
        return name is not None and name != FTS_TABLE and not name.startswith(FTS_TABLE + "_")
    if type_ == "index":
        return name != FTS_INDEX
    if type_ == "column":
        return (parent_names.get("table_name"), name) != FTS_COLUMN
    return True


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for app/migrations, without alembic.ini (and its logging set-up).

    With `connection`, env.py migrates on it, in the transaction it is in.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[Connection]:
    """SQLite: foreign keys off for the migration transaction opened inside this block.

    SQLite alters a table by copying it and dropping the old one (batch mode);
    with foreign keys on, that DROP would delete, by ON DELETE CASCADE, the rows
    referring to it. The pragma does nothing inside a transaction, so it is set
    on the DB-API connection before BEGIN; env.py runs PRAGMA foreign_key_check
    before the commit when a migration ran. Nothing to do on PostgreSQL.
    """
    if connection.dialect.name != "sqlite":
        yield connection
        return
    if connection.in_transaction():
        raise RuntimeError("foreign_keys_off() must be entered before the transaction begins")
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield connection
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


@contextmanager
def sqlite_wait_longer(connection: Connection, ms: int = 120_000) -> Iterator[Connection]:
    """SQLite: wait up to `ms` for the write lock, for the start-up migration only.

    Workers starting together queue on BEGIN IMMEDIATE while the first one
    migrates; the everyday busy timeout (a few seconds) is shorter than a slow
    migration on a busy machine, and a worker that gives up does not start.
    """
    if connection.dialect.name != "sqlite":
        yield connection
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield connection
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(before)}")


def check_foreign_keys(connection: Connection) -> None:
    """SQLite: fail (and so roll back) if the migrated data breaks a foreign key."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        rows = ", ".join(f"{r[0]} rowid {r[1]} -> {r[2]}" for r in broken[:10])
        raise RuntimeError(f"the migration leaves {len(broken)} broken foreign key(s): {rows}")


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database on `connection`, already in a transaction, to `revision`.

    A database that create_all made before there were migrations (the tables
    but no alembic_version) is stamped at BASELINE first, then upgraded.
    """
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE not in tables and "meeting" in tables:
        log.warning("the database predates migrations: stamping it at the baseline %s", BASELINE)
        command.stamp(alembic_config(connection), BASELINE)
    before = current_revision(connection)
    command.upgrade(alembic_config(connection), revision)
    after = current_revision(connection)
    if after != before:
        log.info("schema migrated from %s to %s", before or "nothing", after)


def downgrade(connection: Connection, revision: str) -> None:
    """Migrate the database on `connection`, already in a transaction, down to `revision`."""
    command.downgrade(alembic_config(connection), revision)
