"""Reads of one record on the event loop (app.loopreads): where they run, and what happens
when SQLite says to wait or the connection is taken."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import loopreads
from app.config import Settings
from app.db import create_db_engine
from tests.conftest import BACKEND

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="the event loop's connection is SQLite's")


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions app.loopreads handed to the threadpool."""
    handed: list[str] = []
    real = loopreads.run_in_threadpool

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(func.__name__)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(loopreads, "run_in_threadpool", counting)
    return handed


def _thread_of(cur: Any) -> str:
    cur.execute("select 1")
    return threading.current_thread().name


class TestWhereReadsRun:
    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/meetings/1?include=participants,directives,shortcomings,documents",
            "/api/v1/meetings/1",
            "/api/v1/directives/1",
            "/api/v1/people/1",
            "/api/v1/documents/1",
        ],
    )
    def test_read_record_runs_on_the_event_loop_on_sqlite(
        self, client: TestClient, engine: Engine, threads: list[str], url: str
    ) -> None:
        """On SQLite, on the loop's own connection (every statement of the read), no hop."""
        assert client.get("/api/v1/people/2").status_code == 200  # the loop's connection opens
        statements: list[str] = []
        threads.clear()
        if BACKEND == "sqlite":
            loopreads._connections[engine].conn.set_trace_callback(statements.append)
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["id"] == 1
        if BACKEND == "sqlite":
            assert threads == []
            selects = [s for s in statements if s.startswith("SELECT")]
            assert statements[0] == "BEGIN"
            assert statements[-1] == "COMMIT"
            assert len(selects) == 1 + url.count(",") + ("include=" in url)
        else:
            assert threads == ["in_thread"]
            assert engine not in loopreads._connections

    def test_read_meeting_unknown_is_404_and_leaves_no_transaction_open(
        self, client: TestClient, engine: Engine
    ) -> None:
        response = client.get("/api/v1/meetings/999999")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        found = loopreads._connections.get(engine)
        if BACKEND == "sqlite":
            assert found is not None
            assert not found.conn.in_transaction
        else:
            assert found is None
        assert client.get("/api/v1/meetings/1").status_code == 200

    def test_read_sees_a_commit_made_elsewhere(self, client: TestClient, engine: Engine) -> None:
        before = client.get("/api/v1/meetings/1").json()["title"]
        with engine.begin() as conn:
            conn.exec_driver_sql("update meeting set title = 'Hội nghị đổi tên' where id = 1")
        response = client.get("/api/v1/meetings/1")
        assert response.status_code == 200
        assert response.json()["title"] == "Hội nghị đổi tên" != before


@sqlite_only
class TestFallBackToTheThreadpool:
    def test_read_small_busy_database_runs_again_in_the_threadpool(
        self, engine: Engine, threads: list[str]
    ) -> None:
        """SQLite saying "database is locked" on the loop (busy timeout 0 there): the read is
        made again in a worker thread, whose connection waits as usual."""
        calls: list[str] = []

        def read(cur: Any) -> str:
            calls.append(threading.current_thread().name)
            if len(calls) == 1:
                raise engine.dialect.dbapi.OperationalError("database is locked")  # type: ignore[union-attr]
            return _thread_of(cur)

        loop_thread = threading.current_thread().name
        result = asyncio.run(loopreads.read_small(engine, read))
        assert threads == ["in_thread"]
        assert calls[0] == loop_thread
        assert result == calls[1] != loop_thread
        assert not loopreads._connections[engine].conn.in_transaction

    def test_read_small_connection_in_use_runs_in_the_threadpool(
        self, engine: Engine, threads: list[str]
    ) -> None:
        """Another event loop (another thread) reading at that moment: no waiting for it."""
        asyncio.run(loopreads.read_small(engine, _thread_of))  # opens the loop's connection
        assert threads == []
        with loopreads._connections[engine].lock:
            result = asyncio.run(loopreads.read_small(engine, _thread_of))
        assert threads == ["in_thread"]
        assert result != threading.current_thread().name

    def test_read_small_loop_connection_never_waits_for_a_lock(self, engine: Engine) -> None:
        asyncio.run(loopreads.read_small(engine, _thread_of))
        conn = loopreads._connections[engine].conn
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        with engine.connect() as pooled:  # the pool's connections keep the configured wait
            assert pooled.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0

    def test_read_small_error_of_the_read_rolls_back_and_propagates(self, engine: Engine) -> None:
        def read(cur: Any) -> None:
            cur.execute("select 1")
            raise LookupError("not there")

        with pytest.raises(LookupError):
            asyncio.run(loopreads.read_small(engine, read))
        assert not loopreads._connections[engine].conn.in_transaction

    def test_dispose_engine_closes_the_loop_connection(self, engine: Engine) -> None:
        asyncio.run(loopreads.read_small(engine, _thread_of))
        first = loopreads._connections[engine]
        engine.dispose()
        assert engine not in loopreads._connections
        with pytest.raises(engine.dialect.dbapi.ProgrammingError):  # type: ignore[union-attr]
            first.conn.execute("select 1")  # closed
        asyncio.run(loopreads.read_small(engine, _thread_of))
        assert loopreads._connections[engine] is not first

    def test_read_small_in_memory_database_runs_in_the_threadpool(
        self, settings: Settings, threads: list[str]
    ) -> None:
        """One connection shared by every thread (StaticPool): never a second one for the loop."""
        memory = create_db_engine(settings.model_copy(update={"database_url": "sqlite://"}))
        try:
            result = asyncio.run(loopreads.read_small(memory, _thread_of))
        finally:
            memory.dispose()
        assert threads == ["in_thread"]
        assert result != threading.current_thread().name
        assert memory not in loopreads._connections
