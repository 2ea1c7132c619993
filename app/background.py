"""A long load's writes, run in a worker thread while the loader makes the next rows.

A seed load alternates Python work (reading and validating the file, making rows and
search text) and statements that write those rows. SQLite and psycopg release the GIL
while a statement runs (and PostgreSQL runs it in its own process), so with a second
core the writes of one chunk can run while the loader reads the next.

`background_writes(conn)` starts a worker thread for the load's connection. Inside it,
`changes.insert_rows` and the change feed's INSERT ... SELECT hand their statement to
the thread instead of running it (`submit`). Everything else on the connection waits
for the writes handed over before it to finish: a listener on the connection's
`before_cursor_execute` event calls `wait` before any statement SQLAlchemy runs (code
that takes the DB-API connection itself must `submit`, as `changes._write` does, or
`wait` first). So the statements run in the order they were made, one at a time, in the
load's transaction, as without the thread. A write that fails makes the next `submit` or
`wait` raise its error (the load's transaction is then rolled back), and the writes after
it are not run. At most `depth` writes wait in the queue: memory stays bounded when the
database is the slower side.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, event

_KEY = "app.background.writes"
SWITCH_INTERVAL = 0.001  # seconds (sys.setswitchinterval) while background writes run
Job = Callable[[Any], None]  # called with a DB-API cursor of the load's connection


class BackgroundWrites:
    def __init__(self, conn: Connection, depth: int) -> None:
        self._dbapi: Any = conn.connection.dbapi_connection
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="background-writes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._cancelled:
                    cur = self._dbapi.cursor()
                    try:
                        job(cur)
                    finally:
                        cur.close()
            except BaseException as exc:  # handed to the loader's thread (_raise)
                self._error = exc
            finally:
                self._jobs.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, job: Job) -> None:
        """Run `job` after the writes submitted before it (the error of one of them, if any, raised)."""
        self._raise()
        self._jobs.put(job)

    def wait(self) -> None:
        """Until every write submitted has run (the error of one of them, if any, raised)."""
        self._jobs.join()
        self._raise()

    def close(self, *, cancel: bool) -> None:
        """Stop the thread, after the writes waiting (or, `cancel`, skipping them)."""
        self._cancelled = cancel
        self._jobs.put(None)
        self._thread.join()


def of(conn: Connection) -> BackgroundWrites | None:
    """The background writes of this connection, if it is inside background_writes()."""
    found: BackgroundWrites | None = conn.info.get(_KEY)
    return found


@contextmanager
def background_writes(conn: Connection, depth: int = 4) -> Iterator[BackgroundWrites]:
    """Writes handed over to a worker thread, for the duration of the block (see the module's
    docstring); all of them have run when it ends without an error."""
    writes = BackgroundWrites(conn, depth)

    def before(*_: Any) -> None:
        writes.wait()

    conn.info[_KEY] = writes
    event.listen(conn, "before_cursor_execute", before)
    ok = False
    try:
        with _short_switch_interval():
            yield writes
            writes.wait()
        ok = True
    finally:
        event.remove(conn, "before_cursor_execute", before)
        conn.info.pop(_KEY, None)
        writes.close(cancel=not ok)


T = TypeVar("T")


class ProcessSetting(Generic[T]):
    """A setting of the whole process (`get`, `set`) held at another value while any block is
    inside `held()`: the first block in saves the value it finds, the last one out puts it back,
    so that blocks of several threads (two loads at once) leave it as it was."""

    def __init__(self, get: Callable[[], T], set_: Callable[[T], None]) -> None:
        self._get, self._set = get, set_
        self._lock = threading.Lock()
        self._users = 0
        self._saved: T | None = None

    @contextmanager
    def held(self, value: Callable[[T], T]) -> Iterator[None]:
        """The setting at `value(saved)` for the duration of the block."""
        with self._lock:
            if self._users == 0:
                self._saved = saved = self._get()
                self._set(value(saved))
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._saved is not None:
                    self._set(self._saved)


# SWITCH_INTERVAL while any background writes run in the process: the worker needs the GIL for
# a moment between two statements, and with the loader's thread busy it waits for the switch
# interval (5 ms by default) each time.
_SWITCH_INTERVAL = ProcessSetting(sys.getswitchinterval, sys.setswitchinterval)


def _short_switch_interval() -> AbstractContextManager[None]:
    return _SWITCH_INTERVAL.held(lambda _: SWITCH_INTERVAL)
