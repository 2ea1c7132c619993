"""Reads of one record on the event loop (app.loopreads): where they run, and what happens
when SQLite says to wait or the connection is taken."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, func, select

from app import loopreads
from app.config import Settings
from app.db import create_db_engine
from tests.conftest import BACKEND

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="the event loop's connection is SQLite's")
postgresql_only = pytest.mark.skipif(BACKEND != "postgresql", reason="asyncio psycopg connections")


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
        assert threads == []
        if BACKEND == "sqlite":
            selects = [s for s in statements if s.startswith("SELECT")]
            assert statements[0] == "BEGIN"
            assert statements[-1] == "COMMIT"
            assert len(selects) == 1 + url.count(",") + ("include=" in url)
        else:  # one statement, on an asyncio connection of the event loop, back among the idle
            assert engine not in loopreads._connections
            assert len(loopreads._postgres[engine]._idle) == 1

    def test_read_meeting_unknown_is_404_and_leaves_no_transaction_open(
        self, client: TestClient, engine: Engine
    ) -> None:
        response = client.get("/api/v1/meetings/999999")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        if BACKEND == "sqlite":
            assert not loopreads._connections[engine].conn.in_transaction
        else:
            (idle,) = loopreads._postgres[engine]._idle
            assert idle.info.transaction_status == TransactionStatus.IDLE
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

        asyncio.run(loopreads.read_small(engine, _thread_of))  # opens the loop's connection
        threads.clear()
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
        threads.clear()
        with loopreads._connections[engine].lock:
            result = asyncio.run(loopreads.read_small(engine, _thread_of))
        assert threads == ["in_thread"]
        assert result != threading.current_thread().name

    def test_read_small_first_read_takes_the_connection_in_a_worker_thread(
        self, engine: Engine, threads: list[str]
    ) -> None:
        """Taking a connection from the pool may wait (all of them held by worker threads):
        the first read does it in the threadpool, then reads on the loop."""
        first = asyncio.run(loopreads.read_small(engine, _thread_of))
        second = asyncio.run(loopreads.read_small(engine, _thread_of))
        assert threads == ["_kept"]
        assert first == second == threading.current_thread().name

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


def one_connection(engine: Engine) -> loopreads._PostgresConnections:
    """The engine's asyncio connections for reads on the loop, at most one."""
    connections = loopreads._kept(loopreads._postgres, engine, loopreads._PostgresConnections)
    connections.limit = 1
    return connections


@postgresql_only
@pytest.mark.usefixtures("no_response_cache")
class TestPostgresOnTheEventLoop:
    URL = "/api/v1/meetings/1?include=participants,directives,shortcomings,documents"

    def test_read_meeting_connection_ended_by_the_server_is_replaced(
        self, client: TestClient, engine: Engine
    ) -> None:
        """The server ends the loop's connection between two reads: the client sees nothing,
        and the connection is replaced."""
        first = client.get(self.URL)
        assert first.status_code == 200
        (conn,) = loopreads._postgres[engine]._idle
        pid = conn.info.backend_pid
        with engine.connect() as other:
            assert other.execute(select(func.pg_terminate_backend(pid, 5000))).scalar_one()
        for _ in range(2):
            again = client.get(self.URL)
            assert again.status_code == 200
            assert again.content == first.content
        (new,) = loopreads._postgres[engine]._idle
        assert new.info.backend_pid != pid
        assert loopreads._postgres[engine]._open == 1

    def test_read_meeting_connection_failing_is_read_again_in_the_threadpool(
        self, client: TestClient, engine: Engine, threads: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A connection that fails during the read (OperationalError: the server went away) is
        dropped, and the read made again in the threadpool: the client sees nothing."""
        first = client.get(self.URL)
        assert first.status_code == 200
        (conn,) = loopreads._postgres[engine]._idle

        async def fails(*args: Any, **kwargs: Any) -> None:
            raise psycopg.OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(conn, "execute", fails)
        second = client.get(self.URL)
        assert second.status_code == 200
        assert second.content == first.content
        assert threads == ["in_thread"]
        assert conn.closed
        assert loopreads._postgres[engine]._idle == []
        assert loopreads._postgres[engine]._open == 0

    def test_read_meeting_no_connection_can_be_made_runs_in_the_threadpool(
        self, client: TestClient, engine: Engine, threads: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def refused(*args: Any, **kwargs: Any) -> None:
            raise psycopg.OperationalError("connection refused")

        monkeypatch.setattr(psycopg.AsyncConnection, "connect", refused)
        response = client.get(self.URL)
        assert response.status_code == 200
        assert response.json()["id"] == 1
        assert threads == ["in_thread"]
        assert loopreads._postgres[engine]._open == 0

    def test_read_meeting_no_connection_free_runs_in_the_threadpool(
        self, client: TestClient, engine: Engine, threads: list[str]
    ) -> None:
        assert client.get(self.URL).status_code == 200
        loopreads._postgres[engine].limit = 0
        loopreads._postgres[engine].close()  # the idle one too: none left to take
        response = client.get(self.URL)
        assert response.status_code == 200
        assert threads == ["in_thread"]

    def test_read_small_all_connections_busy_waits_for_one_in_turn(
        self, engine: Engine, threads: list[str]
    ) -> None:
        """All the loop's connections in use: the reads wait on the loop for the one handed
        back, in the order they came, instead of going to the threadpool."""
        from app.resources import MEETINGS

        connections = one_connection(engine)
        order: list[str] = []

        async def read(name: str) -> None:
            record = await loopreads.read_small(engine, MEETINGS.fast_statement("1"))
            order.append(f"{name}:{record['id']}")

        async def main() -> None:
            held = await connections.acquire()
            assert held is not None
            reads = []
            for name in ("first", "second", "third"):
                reads.append(asyncio.create_task(read(name)))
                await asyncio.sleep(0)  # each starts waiting before the next comes
            await asyncio.sleep(0.05)
            assert order == []  # all three wait: none went to the threadpool
            assert len(connections._waiters) == 3
            connections.release(held)
            await asyncio.gather(*reads)

        asyncio.run(main())
        assert threads == []
        assert order == ["first:1", "second:1", "third:1"]
        assert connections._open == 1
        assert len(connections._idle) == 1
        assert not connections._waiters

    def test_read_small_waiting_read_cancelled_passes_the_connection_on(self, engine: Engine) -> None:
        """A read cancelled while it waits (its client went away) takes nothing with it: the
        connection handed back goes to the next read waiting."""
        connections = one_connection(engine)

        async def main() -> None:
            held = await connections.acquire()
            assert held is not None
            first = asyncio.create_task(connections.acquire())
            second = asyncio.create_task(connections.acquire())
            await asyncio.sleep(0)
            first.cancel()
            connections.release(held)  # handed to `first` as it is cancelled
            with pytest.raises(asyncio.CancelledError):
                await first
            assert await second is held
            connections.release(held)

        asyncio.run(main())
        assert connections._open == 1
        assert len(connections._idle) == 1

    def test_read_small_broken_connection_gives_its_slot_to_a_waiting_read(self, engine: Engine) -> None:
        """A connection dropped while reads wait: the first of them opens a new one."""
        connections = one_connection(engine)

        async def main() -> None:
            held = await connections.acquire()
            assert held is not None
            waiting = asyncio.create_task(connections.acquire())
            await asyncio.sleep(0)
            connections.release(held, broken=True)
            new = await waiting
            assert new is not None
            assert new is not held
            assert held.closed
            assert connections._open == 1
            connections.release(new)

        asyncio.run(main())
        assert connections._open == 1
        assert len(connections._idle) == 1

    def test_read_small_connections_of_a_running_loop_are_not_shared(
        self, engine: Engine, threads: list[str]
    ) -> None:
        """A second event loop (another thread) while the first still runs: the threadpool."""
        from app.resources import MEETINGS

        results: list[object] = []

        async def inner() -> None:
            results.append(await loopreads.read_small(engine, MEETINGS.fast_statement("1")))

        async def outer() -> None:
            results.append(await loopreads.read_small(engine, MEETINGS.fast_statement("1")))
            thread = threading.Thread(target=asyncio.run, args=(inner(),))
            thread.start()
            await asyncio.to_thread(thread.join)

        asyncio.run(outer())
        assert threads == ["in_thread"]
        assert results[0] == results[1]
        assert results[0]["id"] == 1  # type: ignore[index]

    def test_dispose_engine_closes_the_loop_connections(self, client: TestClient, engine: Engine) -> None:
        assert client.get(self.URL).status_code == 200
        (conn,) = loopreads._postgres[engine]._idle
        engine.dispose()
        assert engine not in loopreads._postgres
        assert conn.closed
