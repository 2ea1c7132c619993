"""Replaying a change feed into another database: `python -m app changes replay --from URL|FILE`.

Each entry is applied as the record it carries: a create or update writes the
record's row with the same id, slug, timestamps and fields (an upsert, so
applying an entry twice changes nothing), with its search row; a delete removes
it. The entry itself is copied into the local change table with the same seq,
so the copy serves the same feed and the same answers, and replaying again
later resumes after the last entry it has. Fields the API computes (a
participant's person_name, a directive's progress) are not stored: the copy
computes them as the source does. Links: a directive's assignees and the
reviews of it have entries of their own ("assignees", "reviews"), as do a
meeting's citations ("citations"); a directive's `addresses` travel in its
data (DIRECTIVE_WRITES.replay writes them), its shortcomings before it.

Entries are applied in batches, each in one write transaction; on PostgreSQL
the id sequences are then moved past the ids written, so that records created
later on the copy get new ids.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, insert, select, text, update

from app import changes
from app.db import is_sqlite, writer
from app.models.change import ChangeAction, ChangePublic
from app.resources import citation_t, document_t, meeting_t
from app.writes import ALL_WRITES, WriteSpec, search_t

SPECS: dict[str, WriteSpec] = {spec.collection: spec for spec in ALL_WRITES}


class ReplayError(Exception):
    pass


@dataclass
class ReplayReport:
    applied: int = 0
    skipped: int = 0  # already in the local feed
    last_seq: int = 0


# --- reading a feed -------------------------------------------------------------------------------


def read_url(
    base_url: str, since: int = 0, limit: int = 100, timeout: float = 30
) -> Iterator[dict[str, Any]]:
    """The entries after `since` from a running API (base URL, or the URL of its /api/v1/changes)."""
    url = base_url.rstrip("/")
    if not url.endswith("/changes"):
        url += "/api/v1/changes"
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"since": since, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        request = urllib.request.Request(  # noqa: S310  (an http(s) URL the operator gives)
            f"{url}?{urllib.parse.urlencode(params)}", headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            page = json.load(response)
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def read_file(path: Path) -> Iterator[dict[str, Any]]:
    """Entries from a file: NDJSON (an entry a line), or JSON (a list of entries, or pages of the feed)."""
    body = path.read_text(encoding="utf-8")
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        for line in body.splitlines():
            if line.strip():
                yield json.loads(line)
        return
    pages = data if isinstance(data, list) else [data]
    for item in pages:
        if isinstance(item, dict) and "items" in item:
            yield from item["items"]
        else:
            yield item


def read_source(source: str, since: int = 0) -> Iterator[dict[str, Any]]:
    if source.startswith(("http://", "https://")):
        return read_url(source, since)
    return read_file(Path(source))


# --- applying entries -----------------------------------------------------------------------------


def _row(spec: WriteSpec, public: Any) -> dict[str, Any]:
    """The record's columns, from its public model (derived columns, e.g. name_folded, made again)."""
    columns = spec.resource.table.c
    values = {name: getattr(public, name) for name in type(public).model_fields if name in columns}
    return {**spec.derived(values), **values}


def _apply_record(conn: Connection, spec: WriteSpec, change: ChangePublic) -> None:
    t = spec.resource.table
    if change.action is ChangeAction.delete:
        if change.record_id is None:
            raise ReplayError(f"entry {change.seq}: a delete without record_id")
        conn.execute(
            delete(search_t).where(search_t.c.type == spec.name, search_t.c.record_id == change.record_id)
        )
        conn.execute(delete(t).where(t.c.id == change.record_id))
        return
    if change.data is None:
        raise ReplayError(f"entry {change.seq}: a {change.action.value} without data")
    public = spec.resource.public.model_validate(change.data)
    row = _row(spec, public)
    if conn.execute(select(exists().where(t.c.id == public.id))).scalar():
        conn.execute(update(t).where(t.c.id == public.id).values(**row))
    else:
        conn.execute(insert(t).values(**row))
    search = spec.search(public)
    if search is not None:  # records searched on their own (not a directive's assignees)
        conn.execute(delete(search_t).where(search_t.c.type == spec.name, search_t.c.record_id == public.id))
        conn.execute(insert(search_t).values(**search))
    if change.action is ChangeAction.update:
        spec.after_update(conn, public, change.data)
    spec.replay(conn, public)


def _apply_citation(conn: Connection, change: ChangePublic) -> None:
    if change.action is ChangeAction.delete:
        meeting_slug, _, document_slug = (change.record_slug or "").partition("/")
        meeting = select(meeting_t.c.id).where(meeting_t.c.slug == meeting_slug).scalar_subquery()
        document = select(document_t.c.id).where(document_t.c.slug == document_slug).scalar_subquery()
        conn.execute(
            delete(citation_t).where(citation_t.c.meeting_id == meeting, citation_t.c.document_id == document)
        )
        return
    link = change.data or {}
    key = and_(citation_t.c.meeting_id == link["meeting_id"], citation_t.c.document_id == link["document_id"])
    if conn.execute(select(exists().where(key))).scalar():
        conn.execute(update(citation_t).where(key).values(source_quote=link["source_quote"]))
    else:
        conn.execute(insert(citation_t).values(**link))


def apply(conn: Connection, change: ChangePublic) -> None:
    """Apply one entry to the records (not to the change table)."""
    if change.collection == changes.CITATIONS:
        _apply_citation(conn, change)
        return
    spec = SPECS.get(change.collection)
    if spec is None:
        raise ReplayError(
            f"entry {change.seq}: unknown collection {change.collection!r} (a newer API? update this copy)"
        )
    _apply_record(conn, spec, change)


def local_last_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        last: int = conn.execute(select(func.coalesce(func.max(changes.change_t.c.seq), 0))).scalar_one()
        return last


def _advance_sequences(conn: Connection) -> None:
    """PostgreSQL: ids inserted explicitly leave the sequences behind; move them past the rows."""
    if is_sqlite(conn.engine):
        return
    tables = [(spec.resource.table.name, "id") for spec in ALL_WRITES] + [(changes.change_t.name, "seq")]
    for table, column in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column})) "
                f"FROM {table} HAVING max({column}) IS NOT NULL"
            )
        )


def replay(engine: Engine, entries: Iterable[dict[str, Any]], *, batch: int = 500) -> ReplayReport:
    """Apply the entries in seq order, skipping those the local feed already has.

    Each batch is one write transaction: an error stops the replay with the earlier
    batches kept, and running it again resumes after them.
    """
    report = ReplayReport(last_seq=local_last_seq(engine))
    pending: list[ChangePublic] = []

    def flush() -> None:
        if not pending:
            return
        with writer(engine).begin() as conn:
            changes.take_lock(conn)
            for change in pending:
                apply(conn, change)
            conn.execute(
                insert(changes.change_t),
                [change.model_dump() for change in pending],
            )
            _advance_sequences(conn)
        report.applied += len(pending)
        pending.clear()

    for raw in entries:
        change = ChangePublic.model_validate(raw)
        if change.seq <= report.last_seq:
            report.skipped += 1
            continue
        pending.append(change)
        report.last_seq = change.seq
        if len(pending) >= batch:
            flush()
    flush()
    return report
