"""Small reads on the event loop: one record by id or slug, with its lists.

A sync route costs a threadpool hop per request: on this kind of machine about
150 µs of CPU (the worker thread's wake-up, the GIL handed over and back, the
event loop woken again), more than the read itself (a meeting: about 60 µs
alone, 450 µs with its four lists). And under load the worker threads and the
event loop take turns on the GIL (in 5 ms slices by default).

On SQLite a read is not I/O to wait for but work in this process: the pages are
in the OS page cache, and in WAL mode a reader never waits for a writer. So a
read whose cost is bounded by one record (`read_small`: GET /meetings/{ref}
with its includes, GET /{collection}/{ref}) runs on the event loop itself, on a
connection kept for that alone, taken out of the pool (so the loop never waits
for a pooled connection that a streaming response in a worker thread holds; the
first request takes it from the pool in a worker thread).

That connection never waits for a lock either: its busy timeout is 0. In the
rare cases a SQLite reader is told to wait (a bulk `seed load` in rollback-
journal mode holding the file, a WAL recovery), the read gives up at once and
runs again in the threadpool, on a pooled connection with the usual busy
timeout: the event loop itself never sleeps on a lock.

On PostgreSQL, where each statement is a network round trip, a read that is one
statement (`OneStatement`) is awaited on the event loop instead, on asyncio
psycopg connections kept for that (in autocommit mode: the statement is its own
snapshot, one round trip), as many as the pool may open (2 × `db_pool_size`): the
loop serves other requests while it awaits the answer, with no hop either. When all of
them are in use, a read waits on the loop for the first one handed back, in the order
the reads came: a worker's one core is busy with that many statements in flight, and a
read sent to the threadpool instead paid the hop and overtook or fell behind the others
(the meeting with 32 clients and no response cache: p99 185-259 ms, 32-49 ms in turn).

Everywhere else the threadpool it is: a read of several statements on
PostgreSQL, an in-memory SQLite database (one connection shared by every
thread), the SQLite loop connection busy, and a second event loop in
another thread wanting them at the same moment (test clients). A PostgreSQL
connection that fails is dropped, and the read made again in the threadpool.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Engine, event
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import detached_connection, driver_connect_args, is_memory_sqlite, is_sqlite
from app.fastread import OneStatement, raw_cursor

log = logging.getLogger("app.loopreads")

T = TypeVar("T")


class _LoopConnection:
    """A SQLite connection of the event loop's own, detached from the engine's pool."""

    def __init__(self, engine: Engine) -> None:
        conn = detached_connection(engine)
        conn.execute("PRAGMA busy_timeout = 0")
        self.conn = conn
        self.errors: type[Exception] = engine.dialect.dbapi.Error  # type: ignore[union-attr]
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


_connections: weakref.WeakKeyDictionary[Engine, _LoopConnection] = weakref.WeakKeyDictionary()
_create_lock = threading.Lock()


class _PostgresConnections:
    """asyncio psycopg connections for the reads of one event loop (autocommit), at most
    `limit`; when all are in use, a read waits for one, first come first served. They serve
    whichever loop asks once the loop they served is closed (test clients make one loop after
    another); while that loop runs, another gets none."""

    def __init__(self, engine: Engine) -> None:
        self._connect_args = driver_connect_args(engine)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._open = 0  # idle or in use
        # reads of self._loop waiting for a connection: handed one, or None (a slot is free)
        self._waiters: collections.deque[asyncio.Future[psycopg.AsyncConnection[Any] | None]] = (
            collections.deque()
        )
        self.limit = 2 * get_settings().db_pool_size  # as many as the pool may open

    async def acquire(self) -> psycopg.AsyncConnection[Any] | None:
        """An idle connection, a new one, or the first one handed back when all are in use;
        None when there can be none (`limit` 0), another loop has them, or no new one can be
        made (the pool's connection, in the threadpool, says why)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._loop is not loop:
                    if self._loop is not None and not self._loop.is_closed():
                        return None
                    self._loop = loop
                    self._waiters.clear()  # of a closed loop: nobody awaits them
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed and not conn.broken:
                        return conn
                    self._open -= 1
                if self._open < self.limit:
                    self._open += 1
                    break
                if self._open == 0:
                    return None
                waiter: asyncio.Future[psycopg.AsyncConnection[Any] | None] = loop.create_future()
                self._waiters.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                if waiter.done() and not waiter.cancelled():  # handed over as it was cancelled
                    self._hand_on(waiter.result())
                raise
            if handed is not None:
                return handed
            break  # a connection was dropped: its slot is this read's, to open another
        cargs, cparams = self._connect_args
        try:
            return await psycopg.AsyncConnection.connect(*cargs, **cparams, autocommit=True)
        except psycopg.OperationalError as exc:
            log.info("no connection for reads on the event loop: %s", exc)
            self._hand_on(None)
            return None
        except BaseException:
            self._hand_on(None)
            raise

    def release(self, conn: psycopg.AsyncConnection[Any], *, broken: bool = False) -> None:
        """Hand a connection back (on its loop): to the first read waiting, else to the idle."""
        if broken or conn.closed or conn.broken or conn.info.transaction_status != _IDLE:
            conn.pgconn.finish()  # closed at once, whatever loop is running
            self._hand_on(None)
        else:
            self._hand_on(conn)

    def _hand_on(self, conn: psycopg.AsyncConnection[Any] | None) -> None:
        """`conn` to the first read waiting, else to the idle. None: a connection is gone (or was
        not made), and its slot goes to the first read waiting, to open another."""
        with self._lock:
            if conn is None:
                self._open -= 1
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    if conn is None:
                        self._open += 1  # the slot, taken for the waiter
                    waiter.set_result(conn)
                    return
            if conn is not None:
                self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._idle:
                conn.pgconn.finish()
            self._open -= len(self._idle)
            self._idle = []


_IDLE = psycopg.pq.TransactionStatus.IDLE
_postgres: weakref.WeakKeyDictionary[Engine, _PostgresConnections] = weakref.WeakKeyDictionary()


K = TypeVar("K", _LoopConnection, _PostgresConnections)


def _kept(kept: weakref.WeakKeyDictionary[Engine, K], engine: Engine, make: Callable[[Engine], K]) -> K:
    """The engine's connection(s) in `kept`, made on first use, closed when the engine is
    collected or disposed (a disposed engine may next open another file at the same path)."""
    found = kept.get(engine)
    if found is None:
        with _create_lock:
            found = kept.get(engine)
            if found is None:
                found = kept[engine] = make(engine)
                weakref.finalize(engine, found.close)
                if not event.contains(engine, "engine_disposed", _forget):
                    event.listen(engine, "engine_disposed", _forget)
    return found


class _Elsewhere(Exception):
    """The read is to be made in the threadpool."""


async def _on_postgres(engine: Engine, statement: OneStatement[T]) -> T:
    """The rows of `statement`, finished, awaited on the loop; _Elsewhere when no connection
    is free or the connection failed."""
    connections = _kept(_postgres, engine, _PostgresConnections)
    conn = await connections.acquire()
    if conn is None:
        raise _Elsewhere
    try:
        rows = await statement.query.arun(conn, engine.dialect, **statement.values)
    except psycopg.OperationalError as exc:  # dropped by the server, or the server restarted
        connections.release(conn, broken=True)
        log.info("read on the event loop given to the threadpool: %s", exc)
        raise _Elsewhere from exc
    except BaseException:  # cancelled half-way: the connection's state is unknown
        connections.release(conn, broken=True)
        raise
    connections.release(conn)
    return statement.finish(rows)


async def _connection(engine: Engine) -> _LoopConnection | None:
    """The event loop's SQLite connection, made in a worker thread the first time (taking a
    connection from the pool may wait, and the loop must not)."""
    if not is_sqlite(engine) or is_memory_sqlite(engine):
        return None
    found = _connections.get(engine)
    if found is None:
        found = await run_in_threadpool(_kept, _connections, engine, _LoopConnection)
    return found


def _forget(engine: Engine) -> None:
    for kept in (_connections, _postgres):
        found = kept.pop(engine, None)
        if found is not None:
            found.close()


def _on_loop(loop_conn: _LoopConnection, read: Callable[[Any], T]) -> tuple[bool, T | None]:
    """(True, the result) of `read` in one read transaction on the loop's connection, or
    (False, None) when SQLite said to wait or failed (the caller runs it again elsewhere)."""
    cur = loop_conn.conn.cursor()
    try:
        try:
            cur.execute("BEGIN")
            result = read(cur)
            cur.execute("COMMIT")
        except loop_conn.errors as exc:
            log.debug("read on the event loop given to the threadpool: %s", exc)
            if loop_conn.conn.in_transaction:
                loop_conn.conn.rollback()
            return False, None
        except BaseException:
            if loop_conn.conn.in_transaction:
                loop_conn.conn.rollback()
            raise
        return True, result
    finally:
        cur.close()


async def read_small(engine: Engine, read: Callable[[Any], T] | OneStatement[T]) -> T:
    """`read(cursor)` (or one statement's rows, finished), a read of bounded cost, in one
    read transaction: on the event loop on SQLite, and on PostgreSQL when it is one
    statement; in the threadpool otherwise (see the module's docstring)."""
    one_statement = isinstance(read, OneStatement)
    if isinstance(read, OneStatement):
        if engine.dialect.name == "postgresql":
            try:
                return await _on_postgres(engine, read)
            except _Elsewhere:
                pass
        fn = read.reader(engine.dialect)
    else:
        fn = read
    loop_conn = await _connection(engine)
    if loop_conn is not None and loop_conn.lock.acquire(blocking=False):
        try:
            done, result = _on_loop(loop_conn, fn)
        finally:
            loop_conn.lock.release()
        if done:
            return result  # type: ignore[return-value]

    def in_thread() -> T:
        with raw_cursor(engine, one_statement=one_statement) as cur:
            return fn(cur)

    return await run_in_threadpool(in_thread)
