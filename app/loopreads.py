"""Small reads on the event loop: one record by id or slug, with its lists, on SQLite.

A sync route costs a threadpool hop per request: on this kind of machine about
150 µs of CPU (the worker thread's wake-up, the GIL handed over and back, the
event loop woken again), more than the read itself (a meeting: about 60 µs
alone, 450 µs with its four lists). And under load the worker threads and the
event loop take turns on the GIL in 5 ms slices, which is where the p99 of the
meeting route went (over 100 ms at 32 connections).

On SQLite a read is not I/O to wait for but work in this process: the pages are
in the OS page cache, and in WAL mode a reader never waits for a writer. So a
read whose cost is bounded by one record (`read_small`: GET /meetings/{ref}
with its includes, GET /{collection}/{ref}) runs on the event loop itself, on a
connection kept for that alone, taken out of the pool (so the loop never waits
for a pooled connection that a streaming response in a worker thread holds).

That connection never waits for a lock either: its busy timeout is 0. In the
rare cases a SQLite reader is told to wait (a bulk `seed load` in rollback-
journal mode holding the file, a WAL recovery), the read gives up at once and
runs again in the threadpool, on a pooled connection with the usual busy
timeout: the event loop itself never sleeps on a lock.

Everywhere else the threadpool it is: PostgreSQL (each statement is a network
round trip, time the loop would spend waiting), an in-memory SQLite database
(one connection shared by every thread), and a second event loop in another
thread wanting the connection at the same moment (test clients).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from starlette.concurrency import run_in_threadpool

from app.fastread import raw_cursor

log = logging.getLogger("app.loopreads")

T = TypeVar("T")


class _LoopConnection:
    """A SQLite connection of the event loop's own, detached from the engine's pool."""

    def __init__(self, engine: Engine) -> None:
        fairy = engine.raw_connection()  # set up as every connection is (app.db _on_connect)
        conn: Any = fairy.driver_connection
        fairy.detach()
        conn.execute("PRAGMA busy_timeout = 0")
        self.conn = conn
        self.errors: type[Exception] = engine.dialect.dbapi.Error  # type: ignore[union-attr]
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()


_connections: weakref.WeakKeyDictionary[Engine, _LoopConnection] = weakref.WeakKeyDictionary()
_create_lock = threading.Lock()


def _in_memory(engine: Engine) -> bool:
    return engine.url.database in (None, "", ":memory:")


def _connection(engine: Engine) -> _LoopConnection | None:
    found = _connections.get(engine)
    if found is not None or engine.dialect.name != "sqlite" or _in_memory(engine):
        return found
    with _create_lock:
        found = _connections.get(engine)
        if found is None:
            found = _connections[engine] = _LoopConnection(engine)
            weakref.finalize(engine, found.close)
            # A disposed engine may next open another file at the same path: start again then.
            if not event.contains(engine, "engine_disposed", _forget):
                event.listen(engine, "engine_disposed", _forget)
    return found


def _forget(engine: Engine) -> None:
    found = _connections.pop(engine, None)
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


async def read_small(engine: Engine, read: Callable[[Any], T], *, one_statement: bool = False) -> T:
    """`read(cursor)`, a read of bounded cost, in one read transaction: on the event loop on
    SQLite, in the threadpool otherwise (see the module's docstring). `one_statement`: as
    for `raw_cursor` (PostgreSQL's autocommit for a single statement)."""
    loop_conn = _connection(engine)
    if loop_conn is not None and loop_conn.lock.acquire(blocking=False):
        try:
            done, result = _on_loop(loop_conn, read)
        finally:
            loop_conn.lock.release()
        if done:
            return result  # type: ignore[return-value]

    def in_thread() -> T:
        with raw_cursor(engine, one_statement=one_statement) as cur:
            return read(cur)

    return await run_in_threadpool(in_thread)
