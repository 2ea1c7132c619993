"""Engine, sessions and the SQLite/PostgreSQL specifics.

SQLite runs in WAL mode with synchronous=NORMAL, foreign keys on and a busy
timeout. pysqlite's own transaction handling is switched off so that we emit
BEGIN ourselves: writers use BEGIN IMMEDIATE (the write lock is taken up front,
so two writers queue on the busy timeout instead of failing half-way).
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.pool import StaticPool
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.config import Settings, get_settings
from app.search_index import SQLITE_TERMS_DDL

log = logging.getLogger("app.db")

# The WAL-reset bug: SQLite 3.7.0 to 3.51.2 can corrupt a WAL database when two
# connections write or checkpoint at once. Fixed in 3.51.3, back-ported to
# 3.50.7 and 3.44.6.
_WAL_BUG_FIRST = (3, 7, 0)
_WAL_BUG_LAST = (3, 51, 2)
_WAL_FIXED_BACKPORTS = ((3, 50, 7), (3, 44, 6))


def parse_version(version: str) -> tuple[int, int, int]:
    parts = [int(p) for p in version.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def wal_is_safe(version: str) -> bool:
    v = parse_version(version)
    if not (_WAL_BUG_FIRST <= v <= _WAL_BUG_LAST):
        return True
    return any(v[:2] == fix[:2] and v >= fix for fix in _WAL_FIXED_BACKPORTS)


@dataclass(frozen=True)
class DatabaseInfo:
    backend: str
    version: str
    journal_mode: str | None


def json_text(value: Any) -> str:
    """The text a JSON column stores (the engine's json_serializer, and the bulk loads'):
    compact UTF-8, Vietnamese unescaped. Python's json.dumps escapes every non-ASCII character
    as \\uXXXX, six bytes for two or three: the change feed's JSON took 1.5 times the room."""
    return orjson.dumps(value).decode()


# How every engine reads and writes JSON columns.
_JSON_KWARGS: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}


def _sqlite_module(settings: Settings) -> Any:
    if settings.sqlite_driver == "sqlcipher3":
        import sqlcipher3.dbapi2 as module

        return module
    import sqlite3

    return sqlite3


def create_db_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        connect_args = {}
        if settings.database_schema:
            connect_args["options"] = f"-csearch_path={settings.database_schema}"
        engine = create_engine(
            url,
            connect_args=connect_args,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_pre_ping=True,
            **_JSON_KWARGS,
        )
        _connect_args[engine] = connect_args
        return engine
    module = _sqlite_module(settings)
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        **_JSON_KWARGS,
        "module": module,
        "connect_args": {
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        },
    }
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_size"] = settings.db_pool_size
        kwargs["max_overflow"] = settings.db_pool_size
    engine = create_engine(url, **kwargs)
    wal = not memory and wal_is_safe(module.sqlite_version)
    if not memory and not wal:
        log.warning(
            "SQLite %s has the WAL-reset bug: using the rollback journal instead of WAL",
            module.sqlite_version,
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(settings.sqlite_busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(SQLITE_TERMS_DDL)
        if not memory:
            cur.execute(f"PRAGMA journal_mode = {'WAL' if wal else 'DELETE'}")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


_connect_args: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


def driver_connect_args(engine: Engine) -> tuple[list[Any], dict[str, Any]]:
    """What the engine passes to the driver's connect() (the URL's, the driver's adapters,
    create_db_engine's connect_args such as the schema): for connections made outside its
    pool, such as asyncio psycopg ones."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    return list(cargs), {**cparams, **_connect_args.get(engine, {})}


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_memory_sqlite(engine: Engine) -> bool:
    """An in-memory SQLite database: one connection shared by everything (StaticPool)."""
    return is_sqlite(engine) and engine.url.database in (None, "", ":memory:")


def detached_connection(engine: Engine) -> Any:
    """A DB-API connection set up as the pool's are (the engine's connect events), taken out
    of the pool for good: the caller keeps it, and closes it."""
    fairy = engine.raw_connection()
    conn = fairy.driver_connection
    fairy.detach()
    return conn


def database_info(engine: Engine) -> DatabaseInfo:
    with engine.connect() as conn:
        if is_sqlite(engine):
            version = conn.execute(text("select sqlite_version()")).scalar_one()
            mode = conn.execute(text("PRAGMA journal_mode")).scalar_one()
            return DatabaseInfo("sqlite", str(version), str(mode))
        version = conn.execute(text("show server_version")).scalar_one()
        return DatabaseInfo("postgresql", str(version), None)


def writer(engine: Engine) -> Engine:
    """The engine to write with: on SQLite its transactions BEGIN IMMEDIATE."""
    return engine.execution_options(sqlite_immediate=True) if is_sqlite(engine) else engine


_engine: Engine | None = None


def default_engine() -> Engine:
    """The process's engine, made from the settings on first use."""
    global _engine
    if _engine is None:
        _engine = create_db_engine()
    return _engine


async def get_engine() -> Engine:
    """The engine, as a dependency (async, so that it costs no threadpool hop)."""
    return default_engine()


def set_engine(engine: Engine | None) -> None:
    global _engine
    _engine = engine


EngineDep = Annotated[Engine, Depends(get_engine)]


async def engine_for_app(app: Any) -> Engine:
    """The engine the routes of `app` get from EngineDep, dependency overrides included
    (for code outside the routes, such as a middleware)."""
    override = getattr(app, "dependency_overrides", {}).get(get_engine)
    if override is None:
        return default_engine()
    engine = override()
    if inspect.isawaitable(engine):
        engine = await engine
    return engine  # type: ignore[no-any-return]


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """A session per request.

    Making one does no I/O, so this is an async dependency: a sync one would cost
    two threadpool hops per request (enter and exit). Closing a session that
    holds a connection ends its transaction, which is I/O: that happens in the
    threadpool, not on the event loop.
    """
    session = Session(engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]
