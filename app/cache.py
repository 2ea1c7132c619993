"""A per-worker cache of whole GET responses, valid only while the database is unchanged.

Every public GET under /api/v1 is a function of its URL (and `Accept`), of the
database's content and, for the follow-up of directives, of today's date. So a
worker may answer a GET it has answered before with the same bytes, as long as
nothing was committed to the database since, by any worker or process. That is
checked on every request, before the answer is taken from the cache:

* SQLite: `PRAGMA data_version` on a connection kept for that alone, which
  changes whenever any other connection, in any process, commits (about 4 µs,
  no threadpool hop);
* PostgreSQL: the text of `pg_current_snapshot()`, which differs from an
  earlier one as soon as any transaction that wrote has committed since (one
  round trip on a connection kept for that alone, awaited on the event loop:
  no threadpool hop).

The version is read before the request is handled, so a response stored under
it is never older than that version: a commit during the request only makes
the next lookup miss. When the version moves, the whole cache is dropped.

Only complete `200 application/json` answers with an ETag are kept (not
downloads, not errors, not streams); requests with `Authorization`, and every
request when reads need a key, go past it. Entries are kept LZ4-compressed and
the cache is bounded in bytes (Settings.response_cache_bytes; 0 turns it off),
least recently used first out. An in-memory SQLite database (one connection
shared by everything) cannot see its own commits as changes: no cache there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any

import lz4.block
import psycopg
from sqlalchemy import Engine, event
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import clock
from app.config import get_settings
from app.db import detached_connection, driver_connect_args, engine_for_app, is_memory_sqlite

log = logging.getLogger("app.cache")

PREFIX = "/api/v1/"
# RFC 9211 Cache-Status, on every answer the cache took part in.
HIT = (b"cache-status", b"meeting-records; hit")
MISS = (b"cache-status", b"meeting-records; fwd=miss")
_ENTRY_OVERHEAD = 512  # bytes: the key, the headers and the bookkeeping of one entry, roughly


class _SQLiteVersion:
    """`PRAGMA data_version` of a connection of its own (detached from the pool)."""

    def __init__(self, engine: Engine) -> None:
        self._conn = detached_connection(engine)
        self._lock = threading.Lock()

    def read(self) -> Hashable:
        with self._lock:
            version: int = self._conn.execute("PRAGMA data_version").fetchone()[0]
            return version

    def close(self) -> None:
        self._conn.close()


class _PostgresVersion:
    """The current snapshot: equal texts mean no transaction that wrote committed in between.

    Read on the event loop, from an asyncio psycopg connection kept for that alone (in
    autocommit mode: each read is a snapshot taken after the request came): one round trip,
    no threadpool hop. A worker has one event loop; test clients make one per request, one
    after the other: the connection goes to whichever loop asks, once the loop it served is
    closed. While that loop still runs (two loops at once, in two threads), the other reads in
    the threadpool, on a pooled connection, as before.

    Requests that ask while a read is in flight share the next read, which starts after they
    came (never the one in flight, which may have begun before a commit they must see): at
    most one read in flight, however many requests wait. A connection that fails (the server
    restarted, or dropped it) is replaced by a new one, once, for the same read.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the store is kept per engine, weakly: no cycle back
        self._connect_args = driver_connect_args(engine)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the connection serves
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._next: asyncio.Future[str] | None = None  # the read the requests coming now share
        self._task: asyncio.Task[None] | None = None  # reading, while requests wait

    async def read(self) -> Hashable:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._loop is not loop:
                if self._loop is not None and not self._loop.is_closed():
                    busy = True
                else:
                    busy = False
                    if self._task is not None:  # its loop was closed while it read
                        self._finish()
                    self._loop, self._next, self._task = loop, None, None
            else:
                busy = False
        if busy:
            return await run_in_threadpool(self.read_pooled)
        if self._next is None:
            self._next = loop.create_future()
        shared = self._next
        if self._task is None:
            self._task = loop.create_task(self._read_for_those_waiting())
        return await asyncio.shield(shared)

    async def _read_for_those_waiting(self) -> None:
        try:
            while self._next is not None:
                shared, self._next = self._next, None
                try:
                    shared.set_result(await self._query())
                except Exception as exc:
                    shared.set_exception(exc)
                    shared.exception()  # seen (if every request waiting for it has gone)
                except BaseException:  # cancelled (its loop is closing) in the middle of a read
                    shared.cancel()
                    self._finish()
                    raise
        finally:
            self._task = None

    async def _query(self) -> str:
        fresh = False
        while True:
            if self._conn is None or self._conn.closed:
                cargs, cparams = self._connect_args
                self._conn = await psycopg.AsyncConnection.connect(*cargs, **cparams, autocommit=True)
                fresh = True
            try:
                cur = await self._conn.execute("SELECT pg_current_snapshot()::text")
                row = await cur.fetchone()
                assert row is not None
                version: str = row[0]
                return version
            except psycopg.OperationalError:
                self._finish()
                if fresh:
                    raise
                log.info("response cache: the data version's connection failed, reconnecting")

    def read_pooled(self) -> Hashable:
        """The version read on a pooled connection (in a worker thread)."""
        engine = self._engine()
        if engine is None:
            raise RuntimeError("the engine of this cache is gone")
        conn = engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute("SELECT pg_current_snapshot()::text")
            version: str = cur.fetchone()[0]  # type: ignore[index]
            conn.rollback()
            return version
        finally:
            conn.close()

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.pgconn.finish()  # the socket closed at once, whatever loop (if any) is running

    def close(self) -> None:
        with self._lock:
            self._finish()


# An entry: (headers, body LZ4-compressed by lz4.block with its size, bytes it counts for). A
# plain tuple of tuples, bytes and an int: once a collection has seen it, the garbage collector
# stops tracking it (it does so for exact tuples only, not for a NamedTuple or a dataclass), so
# that a full cache is not walked by every full collection: with 10,000 entries and the
# start-up objects frozen, a full collection took 0.3 ms, against 1.8 ms for dataclass entries.
_Entry = tuple[tuple[tuple[bytes, bytes], ...], bytes, int]


class ResponseCache:
    """Responses by request key, all valid for one data version; bounded in bytes (LRU).

    A worker uses it from its event loop only; the lock is for several loops in one process
    (test clients in threads), and costs nothing when no one else holds it.
    """

    def __init__(self, max_bytes: int) -> None:
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self.version: Hashable = None
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def observe(self, version: Hashable) -> None:
        """The database is at `version` now: everything kept for another one goes."""
        with self._lock:
            if version != self.version:
                self._entries.clear()
                self.bytes = 0
                self.version = version

    def get(self, key: Hashable) -> tuple[tuple[tuple[bytes, bytes], ...], bytes] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        headers, body, _ = entry
        return headers, lz4.block.decompress(body)

    def put(
        self, key: Hashable, version: Hashable, headers: tuple[tuple[bytes, bytes], ...], body: bytes
    ) -> None:
        """Keep a response made at `version`, unless the database has moved on since."""
        if version != self.version:
            return
        # LZ4, not zlib: for a meeting's 16 KB, 19 µs to compress and 5 µs to decompress against
        # 95 µs and 39 µs for zlib at level 1 (on every miss and every hit), for 1.4 times the
        # room (5.9 KB against 4.3 KB).
        packed = lz4.block.compress(body)
        size = len(packed) + _ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            if version != self.version:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[2]
            while self._entries and self.bytes + size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.bytes -= evicted[2]
            self._entries[key] = (headers, packed, size)
            self.bytes += size


class _Store:
    def __init__(self, engine: Engine, max_bytes: int) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        self.source: _SQLiteVersion | _PostgresVersion = (
            _SQLiteVersion(engine) if self.sqlite else _PostgresVersion(engine)
        )
        self.cache = ResponseCache(max_bytes)
        # The totals of list pages, by their COUNT statement and parameters: every page of one
        # filtered collection has the same total, so following next_cursor counts only once.
        self.counts: dict[Hashable, tuple[Hashable, int]] = {}
        self.count_hits = 0

    async def version(self) -> Hashable:
        if isinstance(self.source, _SQLiteVersion):
            return self.source.read()  # a few µs, no I/O beyond the shared-memory WAL index
        return await self.source.read()  # one round trip, on the event loop


_COUNTS_MAX = 10_000
# The store and the data version of the request being handled (set by the middleware; copied
# into the threadpool with the rest of the context).
_current: ContextVar[tuple[_Store, Hashable] | None] = ContextVar("cache_current", default=None)


def counted(key: Hashable, count: Callable[[], int]) -> int:
    """`count()`, or its value kept from an earlier request at the same data version."""
    current = _current.get()
    if current is None:
        return count()
    store, version = current
    kept = store.counts.get(key)
    if kept is not None and kept[0] == version:
        store.count_hits += 1
        return kept[1]
    n = count()
    if len(store.counts) >= _COUNTS_MAX:
        store.counts.clear()
    store.counts[key] = (version, n)
    return n


_stores: weakref.WeakKeyDictionary[Engine, _Store] = weakref.WeakKeyDictionary()


def store_for(engine: Engine) -> _Store | None:
    """The cache of this engine's database in this worker (None: no cache for it)."""
    store = _stores.get(engine)
    if store is None:
        max_bytes = get_settings().response_cache_bytes
        if max_bytes <= 0 or is_memory_sqlite(engine):
            return None
        store = _Store(engine, max_bytes)
        weakref.finalize(engine, store.source.close)
        # A disposed engine may next open another file at the same path: start again then.
        if not event.contains(engine, "engine_disposed", _forget):
            event.listen(engine, "engine_disposed", _forget)
        _stores[engine] = store
    return store


def _forget(engine: Engine) -> None:
    store = _stores.pop(engine, None)
    if store is not None:
        store.source.close()


def _cacheable(start: Message) -> bool:
    if start["status"] != 200:
        return False
    seen_etag = json = False
    for name, value in start["headers"]:
        if name == b"etag":
            seen_etag = True
        elif name == b"content-type":
            json = value == b"application/json"
        elif name in (b"content-disposition", b"set-cookie"):
            return False
    return seen_etag and json


class ResponseCacheMiddleware:
    """Answers a repeated public GET under /api/v1 from the cache (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if settings.reads_require_key or settings.response_cache_bytes <= 0:
            await self.app(scope, receive, send)
            return
        host = accept = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)
                return
            if name == b"host":
                host = value
            elif name == b"accept":
                accept = value
        store = store_for(await engine_for_app(scope["app"]))
        if store is None:
            await self.app(scope, receive, send)
            return
        try:
            version = await store.version()
        except Exception:  # the database cannot say: answer without the cache (the route will tell)
            log.warning("response cache: the data version cannot be read", exc_info=True)
            await self.app(scope, receive, send)
            return
        cache = store.cache
        cache.observe(version)
        key = (
            scope["scheme"],
            host,
            scope.get("root_path", ""),
            scope["raw_path"] or scope["path"].encode(),
            scope["query_string"],
            accept,
            clock.today(),
        )
        hit = cache.get(key)
        if hit is not None:
            headers, body = hit
            await send({"type": "http.response.start", "status": 200, "headers": [*headers, HIT]})
            await send({"type": "http.response.body", "body": body})
            return

        start: Message | None = None
        chunks: list[bytes] = []
        keep = False

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                keep = _cacheable(message)
                if keep:
                    message = {**message, "headers": [*message["headers"], MISS]}
            elif keep and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        token = _current.set((store, version))
        try:
            await self.app(scope, receive, capture)
        finally:
            _current.reset(token)
        if keep and start is not None:
            cache.put(key, version, tuple(map(tuple, start["headers"])), b"".join(chunks))


def stats(engine: Engine) -> dict[str, Any] | None:
    """The cache's figures for this engine in this worker (for tests and diagnostics)."""
    store = _stores.get(engine)
    if store is None:
        return None
    c = store.cache
    return {
        "entries": len(c),
        "bytes": c.bytes,
        "hits": c.hits,
        "misses": c.misses,
        "counts": len(store.counts),
        "count_hits": store.count_hits,
    }
