"""Alembic's environment: which database, which metadata, one transaction.

The database is the connection handed in config.attributes["connection"]
(app.migrations.upgrade, called by app.seeding.create_schema inside its locked
write transaction), or else DATABASE_URL and DATABASE_SCHEMA from
app.config.Settings (the environment or .env), with the same lock.
"""

from __future__ import annotations

import logging.config
from typing import Any

from alembic import context
from sqlalchemy import Connection, make_url
from sqlmodel import SQLModel

import app.models  # noqa: F401  (the tables, and their naming convention)
from app.config import get_settings
from app.migrations import check_foreign_keys, foreign_keys_off, include_name

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL for DATABASE_URL's dialect.

    On PostgreSQL the statements are unqualified: run them with the wanted search_path.
    """
    url = get_settings().database_url
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=make_url(url).get_backend_name() == "sqlite",
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_on(connection: Connection) -> None:
    """Migrate on `connection`, in the transaction it is in (the caller commits)."""
    applied: list[Any] = []
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        on_version_apply=lambda **kw: applied.append(kw["step"]),
    )
    with context.begin_transaction():
        context.run_migrations()
    if applied:
        check_foreign_keys(connection)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
        return

    # The command line: the application's engine, in one write transaction under
    # the start-up lock, as app.seeding.create_schema does.
    from app.db import create_db_engine, writer
    from app.seeding import _lock

    engine = create_db_engine(get_settings())
    try:
        with writer(engine).connect() as conn, foreign_keys_off(conn), conn.begin():
            _lock(conn)
            run_migrations_on(conn)
    finally:
        engine.dispose()


if config.config_file_name is not None and "connection" not in config.attributes:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
