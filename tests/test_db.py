"""SQLite settings for a service with several connections."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.config import Settings
from app.db import create_db_engine, database_info, wal_is_safe, writer
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite-specific settings")


@pytest.mark.parametrize(
    ("version", "safe"),
    [
        ("3.6.23", True),
        ("3.7.0", False),
        ("3.40.1", False),
        ("3.44.5", False),
        ("3.44.6", True),
        ("3.50.6", False),
        ("3.50.7", True),
        ("3.51.2", False),
        ("3.51.3", True),
        ("3.53.4", True),
    ],
)
def test_wal_is_safe(version: str, safe: bool) -> None:
    assert wal_is_safe(version) is safe


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar_one()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_db_engine(Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "synchronous") == 1  # NORMAL
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "busy_timeout") == 5000
    info = database_info(engine)
    assert wal_is_safe(info.version)
    engine.dispose()


def test_sqlite_refuses_wal_on_a_library_with_the_bug(tmp_path: Path) -> None:
    import sqlite3

    engine = create_db_engine(
        Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", sqlite_driver="sqlite3")
    )
    mode = _pragma(engine, "journal_mode")
    if wal_is_safe(sqlite3.sqlite_version):
        assert mode == "wal"
    else:
        assert mode == "delete"
        assert database_info(engine).journal_mode == "delete"
    engine.dispose()


def test_sqlite_writers_take_the_lock_up_front(tmp_path: Path) -> None:
    """A second writer waits on BEGIN IMMEDIATE instead of failing half-way."""
    engine = create_db_engine(
        Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", sqlite_busy_timeout_ms=2000)
    )
    with writer(engine).begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with writer(engine).begin() as conn:
            first_in.set()
            conn.execute(text("INSERT INTO t VALUES (1)"))
            threading.Event().wait(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(2)
    with writer(engine).begin() as conn:
        order.append("second in")
        conn.execute(text("INSERT INTO t VALUES (2)"))
    thread.join()
    assert order == ["first done", "second in"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()
