"""A load's writes in a worker thread (app.background): in order, seen by what follows them, and a
failed one fails the load with nothing kept."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app import background, changes
from app.db import writer
from app.generate import write_seed
from app.models import Meeting
from app.seed_schema import open_seed
from app.seeding import create_schema, load_seed
from tests.conftest import BACKEND

TABLE = "bg_test"


@pytest.fixture
def table(empty_engine: Engine) -> Engine:
    with empty_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {TABLE} (n INTEGER NOT NULL UNIQUE, word TEXT)")
    return empty_engine


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_background_writes_run_in_order_and_a_read_sees_them(table: Engine) -> None:
    with writer(table).connect() as conn, conn.begin():
        with background.background_writes(conn, depth=2) as writes:
            assert background.of(conn) is writes
            assert "background-writes" in _threads()
            for i in range(0, 50, 10):
                changes.insert_rows(conn, TABLE, ("n", "word"), [(n, f"từ {n}") for n in range(i, i + 10)])

            def slow(cur: Any) -> None:
                time.sleep(0.2)
                cur.execute(f"UPDATE {TABLE} SET word = 'chậm' WHERE n = 49")

            writes.submit(slow)
            # a statement through SQLAlchemy waits for the writes handed over before it
            word = conn.execute(text(f"SELECT word FROM {TABLE} WHERE n = 49")).scalar_one()
            assert word == "chậm"
            assert conn.execute(text(f"SELECT count(*), max(n) FROM {TABLE}")).one() == (50, 49)
            changes.insert_rows(conn, TABLE, ("n", "word"), [(50, "cuối")])
        assert background.of(conn) is None
        assert "background-writes" not in _threads()
        rows = conn.execute(text(f"SELECT n, word FROM {TABLE} ORDER BY n")).all()
    assert [r.n for r in rows] == list(range(51))
    assert rows[7].word == "từ 7"


def test_background_writes_error_is_raised_and_later_writes_are_skipped(table: Engine) -> None:
    with writer(table).connect() as conn, conn.begin():
        with (  # noqa: PT012
            pytest.raises(Exception, match=r"(?i)unique|duplicate"),
            background.background_writes(conn) as writes,
        ):
            changes.insert_rows(conn, TABLE, ("n",), [(1,)])
            changes.insert_rows(conn, TABLE, ("n",), [(1,)])  # fails in the worker
            changes.insert_rows(conn, TABLE, ("n",), [(2,)])
            writes.wait()
        assert "background-writes" not in _threads()
        if BACKEND == "postgresql":
            conn.rollback()  # the failed statement aborted the transaction
        else:
            assert conn.execute(text(f"SELECT n FROM {TABLE}")).scalars().all() == [1]


def test_background_writes_waiting_are_dropped_when_the_block_fails(table: Engine) -> None:
    ran: list[int] = []
    started = threading.Event()
    with writer(table).connect() as conn, conn.begin():
        with (  # noqa: PT012
            pytest.raises(RuntimeError, match="the loader failed"),
            background.background_writes(conn, depth=4) as writes,
        ):

            def under_way(cur: object) -> None:
                started.set()
                deadline = time.monotonic() + 5
                while not writes._cancelled and time.monotonic() < deadline:  # the block has ended
                    time.sleep(0.001)
                ran.append(1)

            writes.submit(under_way)
            writes.submit(lambda cur: ran.append(2))
            assert started.wait(5)
            raise RuntimeError("the loader failed")
        # the write under way finished before the block ended; the one waiting never ran
        assert ran == [1]
        assert "background-writes" not in _threads()


def test_background_writes_restore_the_switch_interval(table: Engine) -> None:
    before = sys.getswitchinterval()
    with writer(table).connect() as conn, conn.begin(), background.background_writes(conn):
        assert sys.getswitchinterval() == background.SWITCH_INTERVAL
    assert sys.getswitchinterval() == before


def test_background_writes_overlapping_restore_the_switch_interval_when_the_last_ends(table: Engine) -> None:
    """Two loads at once in one process, the first to start ending first: the interval stays
    short until the second ends, then is what it was."""
    before = sys.getswitchinterval()
    with writer(table).connect() as a, table.connect() as b:
        first, second = background.background_writes(a), background.background_writes(b)
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        assert sys.getswitchinterval() == background.SWITCH_INTERVAL
        second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before


def _fail_on_search_row(conn: object, record_id: int) -> None:
    """A trigger failing the insert of one search row: an error inside a background write."""
    run = conn.exec_driver_sql  # type: ignore[attr-defined]
    if BACKEND == "sqlite":
        run(
            "CREATE TRIGGER boom BEFORE INSERT ON search_document "
            f"WHEN NEW.type = 'directive' AND NEW.record_id = {record_id} "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    else:
        run(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.type = 'directive' AND NEW.record_id = {record_id} THEN RAISE EXCEPTION 'boom'; "
            "END IF; RETURN NEW; END $$"
        )
        run("CREATE TRIGGER boom BEFORE INSERT ON search_document FOR EACH ROW EXECUTE FUNCTION boom()")


def test_load_seed_failing_in_a_background_write_keeps_nothing(empty_engine: Engine, tmp_path: Path) -> None:
    create_schema(empty_engine)
    with empty_engine.begin() as conn:
        _fail_on_search_row(conn, record_id=40)  # a directive of the load's second chunk or later
    path = tmp_path / "g.json"
    with path.open("w", encoding="utf-8") as out:
        write_seed(out, 30, 4)
    with pytest.raises(Exception, match="boom"), open_seed(path) as stream:
        load_seed(empty_engine, stream, chunk=3)
    assert "background-writes" not in _threads()
    with empty_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Meeting)).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM change")).scalar_one() == 0
