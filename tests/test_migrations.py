"""The Alembic migrations (app/migrations) on the back end under test.

The models are the reference: a database migrated to head must hold exactly
their tables, columns, indexes and constraints (alembic's compare_metadata),
plus the full-text index that app.search_index describes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import VARCHAR, Connection, Engine, Enum, MetaData, inspect, select, text, update
from sqlmodel import SQLModel

from app import migrations
from app.config import ROOT, Settings
from app.db import create_db_engine, get_engine, writer
from app.main import app
from app.models import Directive
from app.search_index import POSTGRESQL_DDL, SQLITE_DDL
from app.seed_schema import DirectiveStatus, read_seed
from app.seeding import create_schema, load_seed
from tests.conftest import drop_settings_schema, make_settings

MODEL_TABLES = set(SQLModel.metadata.tables)


def schema_diff(engine: Engine, metadata: MetaData = SQLModel.metadata) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": migrations.include_name, "compare_type": True}
        )
        return list(compare_metadata(context, metadata))


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.current_revision(conn)


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {t for t in inspect(conn).get_table_names() if migrations.include_name(t, "table", {})}


def fts_objects(conn: Connection) -> dict[str, str]:
    """The full-text index objects, by name: their SQL (SQLite), or the index definition and the
    indexed tsvector column's generation expression (PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE name = :t OR (type = 'trigger' AND tbl_name = :d)"
            ),
            {"t": migrations.FTS_TABLE, "d": "search_document"},
        )
        return {name: sql for name, sql in rows}
    rows = conn.execute(
        text(
            "SELECT indexname, replace(indexdef, schemaname || '.', '') FROM pg_indexes "
            "WHERE schemaname = current_schema() AND indexname = :i"
        ),
        {"i": migrations.FTS_INDEX},
    )
    found = {name: sql for name, sql in rows}
    table, column = migrations.FTS_COLUMN
    generated = conn.execute(
        text(
            "SELECT data_type, generation_expression FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :t AND column_name = :c"
        ),
        {"t": table, "c": column},
    ).first()
    if generated is not None:
        found[f"{table}.{column}"] = f"{generated[0]} generated always as ({generated[1]}) stored"
    return found


def pg_enums(conn: Connection) -> dict[str, list[str]]:
    rows = conn.execute(
        text(
            "SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
            "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema() "
            "ORDER BY t.typname, e.enumsortorder"
        )
    )
    found: dict[str, list[str]] = {}
    for name, label in rows:
        found.setdefault(name, []).append(label)
    return found


# Columns a later revision adds to an existing table: left out of snapshots, which compare
# the rows of a database before and after its upgrade.
ADDED_COLUMNS = {("directive", "done_on")}
# Tables later revisions add: absent from the first revision and from databases create_all made.
# Indexes later revisions add to tables of the first revision (besides the updated_at ones).
LATER_INDEXES = {"ix_search_document_id_type_meeting_id_record_id", "ix_directive_status_due_date_done_on"}
LATER_TABLES = {
    "directive_event",
    "change",
    "directive_assignee",
    "directive_shortcoming",
    "directive_review",
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model table, in primary-key order (an absent table counts as empty)."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {
            name: [
                tuple(r)
                for r in conn.execute(
                    select(*(c for c in t.c if (name, c.name) not in ADDED_COLUMNS)).order_by(
                        *t.primary_key.columns
                    )
                )
            ]
            if name in present
            else []
            for name, t in SQLModel.metadata.tables.items()
        }


def search_titles(engine: Engine, q: str) -> list[tuple[str, str]]:
    """What GET /api/v1/search finds on this database."""
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        r = TestClient(app).get("/api/v1/search", params={"q": q, "limit": 100})
    finally:
        app.dependency_overrides.clear()
    assert r.status_code == 200, r.text
    return [(hit["type"], hit["title"]) for hit in r.json()["items"]]


@contextmanager
def no_change_feed() -> Iterator[None]:
    """load_seed without its change-feed entries: the change table came later (d7e2f4b8c1a6)."""
    with (
        patch("app.seeding.changes.seed_mark", return_value={}),
        patch("app.seeding.changes.record_seed", return_value=0),
    ):
        yield


def load_seed_before_head(engine: Engine, settings: Settings) -> None:
    """load_seed on a database made before the enum columns were VARCHAR.

    On PostgreSQL those columns are native enum types there, which the ::VARCHAR
    casts of the models' batched INSERT ... RETURNING do not fit: assignment
    casts from VARCHAR to them stand in, meanwhile, for the earlier models'
    enum-typed parameters.
    """
    # The seed as it was then: the links between records (revision c5d1e7a9f203) came later.
    seed = read_seed(settings.seed_file)
    seed = seed.model_copy(
        update={
            "meetings": [
                m.model_copy(
                    update={
                        "reviews": [],
                        "directives": [
                            d.model_copy(update={"assignees": [], "addresses": []}) for d in m.directives
                        ],
                    }
                )
                for m in seed.meetings
            ]
        }
    )
    if engine.dialect.name != "postgresql":
        with no_change_feed():
            load_seed(engine, seed)
        return
    with engine.connect() as conn:
        names = list(pg_enums(conn))
    assert names
    with writer(engine).begin() as conn:
        for name in names:
            conn.exec_driver_sql(f"CREATE CAST (varchar AS {name}) WITH INOUT AS ASSIGNMENT")
    try:
        with no_change_feed():
            load_seed(engine, seed)
    finally:
        with writer(engine).begin() as conn:
            for name in names:
                conn.exec_driver_sql(f"DROP CAST IF EXISTS (varchar AS {name})")


def test_upgrade_empty_database_gives_the_models(empty_engine: Engine) -> None:
    assert tables(empty_engine) == set()
    create_schema(empty_engine)
    assert revision(empty_engine) == migrations.head_revision()
    assert tables(empty_engine) == MODEL_TABLES | {migrations.VERSION_TABLE}
    assert schema_diff(empty_engine) == []
    with empty_engine.connect() as conn:
        objects = fts_objects(conn)
        if conn.dialect.name == "sqlite":
            assert set(objects) == {migrations.FTS_TABLE, *migrations.FTS_TRIGGERS}
        else:
            column = ".".join(migrations.FTS_COLUMN)
            assert set(objects) == {migrations.FTS_INDEX, column}
            assert objects[migrations.FTS_INDEX].endswith("USING gin (folded_tsv)")
            assert objects[column] == (
                "tsvector generated always as (to_tsvector('simple'::regconfig, (folded)::text)) stored"
            )


def enum_columns() -> dict[tuple[str, str], Enum]:
    """The models' enum columns, by (table, column)."""
    return {
        (t.name, c.name): c.type
        for t in SQLModel.metadata.tables.values()
        for c in t.columns
        if isinstance(c.type, Enum)
    }


def test_enum_columns_are_plain_varchar(empty_engine: Engine) -> None:
    """The same on both back ends: VARCHAR as wide as the longest value, no native enum types."""
    columns = enum_columns()
    assert {table for table, _ in columns} == {
        "document",
        "meeting",
        "participant",
        "directive",
        "directive_event",
        "directive_assignee",
        "search_document",
        "api_key",
        "change",
    }
    create_schema(empty_engine)
    with empty_engine.connect() as conn:
        inspector = inspect(conn)
        for (table, column), type_ in columns.items():
            assert not type_.native_enum
            (found,) = [c for c in inspector.get_columns(table) if c["name"] == column]
            assert type(found["type"]) is VARCHAR, (table, column, found["type"])
            assert found["type"].length == max(len(v) for v in type_.enums), (table, column)
        if conn.dialect.name == "postgresql":
            assert pg_enums(conn) == {}


def test_full_text_index_is_the_one_search_index_describes(
    empty_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The migrations made the FTS objects that app.search_index would: if these differ, the
    full-text DDL changed without a migration."""
    create_schema(empty_engine)
    other_settings = make_settings(tmp_path / "other")
    (tmp_path / "other").mkdir()
    other = create_db_engine(other_settings)
    try:
        with writer(other).begin() as conn:
            SQLModel.metadata.create_all(conn)  # fires app.search_index's DDL
            made_by_models = fts_objects(conn)
        with empty_engine.connect() as conn:
            made_by_migrations = fts_objects(conn)
    finally:
        other.dispose()
        drop_settings_schema(other_settings)
    assert made_by_migrations == made_by_models
    assert len(made_by_models) == len(SQLITE_DDL if empty_engine.dialect.name == "sqlite" else POSTGRESQL_DDL)


def test_upgrade_keeps_data(empty_engine: Engine, settings: Settings) -> None:
    """A database at the first revision, with the seed in it, upgrades to head keeping every row."""
    create_schema(empty_engine, migrations.BASELINE)
    assert revision(empty_engine) == migrations.BASELINE
    load_seed_before_head(empty_engine, settings)
    before = snapshot(empty_engine)
    if empty_engine.dialect.name == "sqlite":
        found_before = search_titles(empty_engine, "dang ky")
    else:
        # The search of today reads the tsvector column revision e9a4b6c2d8f1 adds: before it,
        # what the expression index finds, in the order the search ranks (score, then id).
        with empty_engine.connect() as conn:
            found_before = [
                (kind, title)
                for kind, title in conn.execute(
                    text(
                        "SELECT type, title FROM search_document "
                        "WHERE to_tsvector('simple', folded) @@ to_tsquery('simple', 'dang & ky:*') "
                        "ORDER BY ts_rank(to_tsvector('simple', folded), "
                        "to_tsquery('simple', 'dang & ky:*')) DESC, id"
                    )
                )
            ][:100]
    assert any(kind == "directive" and "đăng ký" in title for kind, title in found_before)

    create_schema(empty_engine)
    assert revision(empty_engine) == migrations.head_revision()
    assert snapshot(empty_engine) == before
    assert sum(len(rows) for rows in before.values()) > 40
    assert search_titles(empty_engine, "dang ky") == found_before
    assert schema_diff(empty_engine) == []


def test_upgrade_keeps_enum_values(empty_engine: Engine, settings: Settings) -> None:
    """Enum values written at the first revision (native enums on PostgreSQL) come through as text."""
    create_schema(empty_engine, migrations.BASELINE)
    load_seed_before_head(empty_engine, settings)
    directive = Directive.__table__  # type: ignore[attr-defined]
    with writer(empty_engine).begin() as conn:
        first, second = conn.execute(select(directive.c.id).order_by(directive.c.id).limit(2)).scalars()
        conn.execute(text("UPDATE directive SET status = 'in_progress' WHERE id = :i"), {"i": first})
        conn.execute(text("UPDATE directive SET status = 'cancelled' WHERE id = :i"), {"i": second})
    # As text: on PostgreSQL at the first revision these are five different enum types.
    query = " UNION ALL ".join(
        f"SELECT CAST({column} AS VARCHAR(20)) FROM {table} WHERE id = {where}"
        for table, column, where in (
            ("directive", "status", ":i"),
            ("document", "kind", "(SELECT min(id) FROM document)"),
            ("meeting", "format", "(SELECT min(id) FROM meeting)"),
            ("participant", "role", "(SELECT min(id) FROM participant)"),
            ("search_document", "type", "(SELECT min(id) FROM search_document)"),
        )
    )
    with empty_engine.connect() as conn:
        values_before = [str(v) for v in conn.execute(text(query), {"i": first}).scalars()]
    before = snapshot(empty_engine)
    assert values_before[0] == "in_progress"

    create_schema(empty_engine)
    assert revision(empty_engine) == migrations.head_revision()
    assert snapshot(empty_engine) == before
    with empty_engine.connect() as conn:
        assert list(conn.execute(text(query), {"i": first}).scalars()) == values_before
        # Text on both back ends: compared with text, sorted alphabetically.
        assert (
            conn.execute(
                text("SELECT count(*) FROM directive WHERE status = CAST(:s AS VARCHAR(20))"),
                {"s": "in_progress"},
            ).scalar_one()
            == 1
        )
        statuses = list(conn.execute(text("SELECT DISTINCT status FROM directive ORDER BY status")).scalars())
        assert statuses == sorted(statuses)
        assert {"cancelled", "in_progress"} <= set(statuses)
        # The models read the values back as members of the enum.
        status = conn.execute(select(directive.c.status).where(directive.c.id == first)).scalar_one()
        assert status is DirectiveStatus.in_progress
    with writer(empty_engine).begin() as conn:
        conn.execute(update(directive).where(directive.c.id == second).values(status=DirectiveStatus.done))
        assert (
            conn.execute(text("SELECT status FROM directive WHERE id = :i"), {"i": second}).scalar_one()
            == "done"
        )
    assert schema_diff(empty_engine) == []

    # And back: the native enum types again on PostgreSQL, the values kept.
    with writer(empty_engine).connect() as conn, migrations.foreign_keys_off(conn), conn.begin():
        migrations.downgrade(conn, migrations.BASELINE)
    assert tables(empty_engine) == MODEL_TABLES - {"api_key", "idempotent_request"} - LATER_TABLES | {
        migrations.VERSION_TABLE
    }
    with empty_engine.connect() as conn:
        assert [str(v) for v in conn.execute(text(query), {"i": first}).scalars()] == values_before
        if conn.dialect.name == "postgresql":
            assert pg_enums(conn)["directivestatus"] == ["open", "in_progress", "done", "cancelled"]
            assert set(pg_enums(conn)) == {
                "documentkind",
                "meetingformat",
                "participantrole",
                "directivestatus",
                "hittype",
            }


def test_downgrade_then_upgrade(empty_engine: Engine) -> None:
    create_schema(empty_engine)
    with writer(empty_engine).connect() as conn, migrations.foreign_keys_off(conn), conn.begin():
        migrations.downgrade(conn, "base")
    assert revision(empty_engine) is None
    assert tables(empty_engine) == {migrations.VERSION_TABLE}
    with empty_engine.connect() as conn:
        assert fts_objects(conn) == {}
        assert conn.dialect.name == "sqlite" or pg_enums(conn) == {}

    create_schema(empty_engine)
    assert revision(empty_engine) == migrations.head_revision()
    assert schema_diff(empty_engine) == []


def test_database_made_before_migrations_is_adopted(empty_engine: Engine, settings: Settings) -> None:
    """A database that create_all made (no alembic_version) is stamped at the baseline, data kept."""
    # The tables as create_all made them (the api_key ones included, as the branch that added
    # them did): constraints left unnamed, enum columns native enum types on PostgreSQL.
    # directive_event and directive.done_on came later (revision b3e8d2a41f60): not there;
    # nor the change table and the updated_at indexes (d7e2f4b8c1a6), nor search_document's
    # index for filtered searches (4b7e9d2c1f35, a7d3e9f1c2b5), nor directive's for the follow-up
    # (f2c8a5d1e7b3).
    legacy = MetaData()
    native = {
        key: Enum(*type_.enums, name=type_.enum_class.__name__.lower())  # type: ignore[union-attr]
        for key, type_ in enum_columns().items()
        if key[0] not in LATER_TABLES
    }
    for table in SQLModel.metadata.sorted_tables:
        if table.name in LATER_TABLES:
            continue
        copy = table.to_metadata(legacy)
        for index in [
            i for i in copy.indexes if i.name == f"ix_{table.name}_updated_at" or i.name in LATER_INDEXES
        ]:
            copy.indexes.remove(index)
        if (table.name, "done_on") in ADDED_COLUMNS:
            copy._columns.remove(copy.c.done_on)
        for constraint in copy.constraints:
            constraint.name = None
        for column in copy.columns:
            column.type = native.get((table.name, column.name), column.type)
    with writer(empty_engine).begin() as conn:
        for type_ in native.values():
            type_.create(conn)  # nothing on SQLite
        legacy.create_all(conn)
        if conn.dialect.name == "postgresql":
            assert set(pg_enums(conn)) == {t.name for t in native.values()}
        for statement in SQLITE_DDL if conn.dialect.name == "sqlite" else POSTGRESQL_DDL:
            conn.exec_driver_sql(statement)
    load_seed_before_head(empty_engine, settings)
    before = snapshot(empty_engine)

    create_schema(empty_engine)
    assert revision(empty_engine) == migrations.head_revision()
    assert snapshot(empty_engine) == before
    assert search_titles(empty_engine, "dang ky")
    diff = schema_diff(empty_engine)
    if empty_engine.dialect.name == "postgresql":
        assert diff == []  # PostgreSQL named them as the naming convention does
        with empty_engine.connect() as conn:
            assert pg_enums(conn) == {}
    else:
        # SQLite keeps them unnamed: only their names differ from the models.
        assert {(op, type(obj).__name__) for op, obj in diff} <= {("add_constraint", "UniqueConstraint")}


def test_workers_starting_together_migrate_once(settings: Settings) -> None:
    engines = [create_db_engine(settings) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[str] = []

    def start(engine: Engine) -> None:
        try:
            barrier.wait(timeout=10)
            create_schema(engine)
        except BaseException:  # reported below, with where it happened
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    try:
        assert errors == []
        assert revision(engines[0]) == migrations.head_revision()
        with engines[0].connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert schema_diff(engines[0]) == []
    finally:
        for e in engines:
            e.dispose()


def test_sqlite_foreign_keys_are_back_on_after_migrating(empty_engine: Engine) -> None:
    if empty_engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    create_schema(empty_engine)
    for _ in range(3):  # whichever pooled connection comes back
        with empty_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_command_line_upgrade_and_check(settings: Settings) -> None:
    """`alembic upgrade head` then `alembic check` with alembic.ini, on DATABASE_URL/DATABASE_SCHEMA."""
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    script = (
        "from alembic.config import main\n"
        "for args in (['upgrade', 'head'], ['check'], ['current']):\n"
        "    print('$ alembic', *args, flush=True)\n"
        "    main(args)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Running upgrade  -> {migrations.BASELINE}" in r.stderr
    assert "No new upgrade operations detected" in r.stdout + r.stderr
    assert f"{migrations.head_revision()} (head)" in r.stdout
