"""The tests' own databases (tests/databases.py): the copy of the seeded template a test
gets is the database prepare_database makes, object for object and row for row."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, inspect, text

from app.config import Settings
from app.db import create_db_engine
from app.startup import prepare_database
from tests.conftest import BACKEND, drop_settings_schema, make_settings
from tests.databases import RUN_NAME, Template, database_key, postgres_run

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def masked(value: Any) -> Any:
    """The value with the instants of this run (the records' created_at, updated_at, a change's
    at) masked: a copy was made earlier than the database it is compared with."""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if not isinstance(value, str):
        return value

    def mask(m: re.Match[str]) -> str:
        when = dt.datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return "<now>" if abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(days=1) else m.group(0)

    return INSTANT.sub(mask, value)


def rows(conn: Connection, table: str, schema: str | None = None) -> list[tuple[Any, ...]]:
    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
    found = [tuple(masked(v) for v in r) for r in conn.execute(text(f"SELECT * FROM {name}"))]
    return sorted(found, key=repr)


def sqlite_picture(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        objects = sorted(
            tuple(r) for r in conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master")
        )
        tables = [name for kind, name, _, _ in objects if kind == "table"]
        pragmas = {
            p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
            for p in ("journal_mode", "page_size", "auto_vacuum", "user_version", "application_id")
        }
        return {"objects": objects, "pragmas": pragmas, "rows": {t: rows(conn, t) for t in tables}}


def postgresql_picture(engine: Engine, schema: str) -> dict[str, Any]:
    """The schema's objects as the catalogs describe them (the schema's name made neutral), and
    its rows."""

    def neutral(value: Any) -> Any:
        return value.replace(f"{schema}.", "<schema>.") if isinstance(value, str) else value

    queries = {
        "columns": "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,"
        " is_nullable, column_default, is_generated, generation_expression, is_identity"
        " FROM information_schema.columns WHERE table_schema = :s",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s",
        "constraints": "SELECT cl.relname, c.conname, c.contype, pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s",
        "relations": "SELECT c.relname, c.relkind, c.relpersistence, c.relhasindex, c.relhastriggers"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :s AND c.relkind <> 't'",
        "sequences": "SELECT sequencename, data_type, start_value, increment_by, last_value"
        " FROM pg_sequences WHERE schemaname = :s",
        "owned_by": "SELECT s.relname, t.relname, a.attname FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
        " JOIN pg_namespace n ON n.oid = s.relnamespace WHERE n.nspname = :s AND d.deptype = 'a'",
        "triggers": "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :s AND NOT t.tgisinternal",
        "types": "SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = :s",
        "functions": "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s",
    }
    with engine.connect() as conn:
        picture: dict[str, Any] = {
            name: sorted((tuple(map(neutral, r)) for r in conn.execute(text(q), {"s": schema})), key=repr)
            for name, q in queries.items()
        }
        tables = inspect(conn).get_table_names(schema=schema)
        picture["rows"] = {t: rows(conn, t, schema) for t in tables}
    return picture


def picture(engine: Engine, settings: Settings) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        return sqlite_picture(engine)
    assert settings.database_schema
    return postgresql_picture(engine, settings.database_schema)


@pytest.fixture
def prepared(tmp_path: Path) -> Iterator[tuple[Engine, Settings]]:
    """A new database that prepare_database made, as every test's was before the templates."""
    (tmp_path / "prepared").mkdir()
    settings = make_settings(tmp_path / "prepared")
    engine = create_db_engine(settings)
    try:
        prepare_database(engine, settings)
        yield engine, settings
    finally:
        engine.dispose()
        drop_settings_schema(settings)


def test_a_tests_database_is_what_prepare_database_makes(
    engine: Engine, settings: Settings, seeded_template: Template, prepared: tuple[Engine, Settings]
) -> None:
    if database_key(settings) not in seeded_template.copies:
        pytest.skip(f"no copies here: {seeded_template.how}")
    made = picture(*prepared)
    copy = picture(engine, settings)
    assert made["rows"]["meeting"]  # the seed is there
    assert copy.keys() == made.keys()
    for part in made:
        assert copy[part] == made[part], part


def count_findings(settings: Settings) -> int:
    engine = create_db_engine(settings)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM finding")).scalar_one())
    finally:
        engine.dispose()


def test_a_copy_is_a_database_of_its_own(
    engine: Engine, settings: Settings, seeded_template: Template, tmp_path: Path
) -> None:
    """What a test writes is in its database only: not in the template, not in the next copy."""
    seeded = count_findings(settings)
    assert seeded > 0
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM finding"))
    assert count_findings(settings) == 0
    assert count_findings(seeded_template.settings) == seeded
    (tmp_path / "next").mkdir()
    fields = seeded_template.new_database(tmp_path / "next")
    if fields is None:
        pytest.skip(f"no copies here: {seeded_template.how}")
    following = Settings(**{**seeded_template.settings.model_dump(), **fields})
    try:
        assert database_key(following) != database_key(settings)
        assert count_findings(following) == seeded
    finally:
        drop_settings_schema(following)


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")
def test_the_run_works_in_a_database_of_its_own(settings: Settings) -> None:
    """Every test's schema is in this run's database; the app is tested with DATABASE_SCHEMA set."""
    from sqlalchemy import make_url

    from tests.conftest import POSTGRES_URL

    name = make_url(settings.database_url).database
    assert name is not None
    assert RUN_NAME.fullmatch(name)
    assert name != make_url(POSTGRES_URL).database
    assert settings.database_schema
    assert postgres_run(POSTGRES_URL).name == name
