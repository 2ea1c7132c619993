"""Writing the change feed: one `change` entry per create, update and delete of a record.

Entries are written in the transaction of the write itself, as its last
statement, by the generic create/modify/remove of app.writes (and cascaded
deletes) and by app.seeding.load_seed.

Commit order. A reader pages with `seq > since`, so an entry must never become
visible after one with a higher seq. SQLite writers are serialized (BEGIN
IMMEDIATE). On PostgreSQL, two transactions could take seq 7 and 8 and commit 8
first: a reader at that moment would see 8, resume from since=8 and never see
7. So every transaction that writes entries first takes a transaction-level
advisory lock (`schema_lock(CHANGE_LOCK)`), held until it commits or
rolls back: writers take seqs and commit one at a time, in seq order. Entries
are the last thing a write does, so the lock is held for the insert and the
commit only; the rest of the write runs concurrently as before. A rolled-back
transaction leaves a gap in seq, never an entry out of order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
    tuple_,
    update,
)

from app import background
from app.db import is_sqlite, json_text
from app.fastread import RawQuery, model_object
from app.models import Change
from app.models.change import ChangeAction
from app.models.common import utcnow
from app.resources import (
    ASSIGNEES,
    DIRECTIVES,
    DOCUMENTS,
    FINDINGS,
    MEETINGS,
    PARTICIPANTS,
    PEOPLE,
    REVIEWS,
    SHORTCOMINGS,
    Resource,
    addresses_t,
    assignee_t,
    citation_t,
    document_t,
    meeting_t,
)

START_LOCK = 727274  # app.seeding: schema creation and seeding
CHANGE_LOCK = 727275  # writers of change entries


def schema_lock(key: int) -> str:
    """The SQL taking the transaction-level advisory lock `key` of the current schema.

    Advisory locks belong to the database: keyed by the schema too, two deployments in
    schemas of one database (DATABASE_SCHEMA) do not wait for each other.
    """
    return f"SELECT pg_advisory_xact_lock({int(key)}, hashtext(current_schema()))"


change_t: Table = Change.__table__  # type: ignore[attr-defined]
CITATIONS = "citations"


def take_lock(conn: Connection) -> None:
    """Serialize writers of entries until this transaction ends (PostgreSQL; SQLite already is)."""
    if not is_sqlite(conn.engine):
        conn.execute(text(schema_lock(CHANGE_LOCK)))


def entry(
    collection: str,
    action: ChangeAction,
    actor: str,
    public: Any,
    *,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The entry for a record given as its public model (the data is left out for a delete);
    records with no slug (a review) have a null record_slug."""
    return {
        "collection": collection,
        "record_id": public.id,
        "record_slug": getattr(public, "slug", None),
        "action": action.value,
        "actor": actor,
        "at": at or utcnow(),
        "data": None if action is ChangeAction.delete else public.model_dump(mode="json"),
    }


def citation_entry(
    action: ChangeAction,
    actor: str,
    meeting_slug: str,
    document_slug: str,
    link: dict[str, Any],
    *,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A meeting citing a document: a link with no id of its own, named by the two slugs."""
    return {
        "collection": CITATIONS,
        "record_id": None,
        "record_slug": f"{meeting_slug}/{document_slug}",
        "action": action.value,
        "actor": actor,
        "at": at or utcnow(),
        "data": None if action is ChangeAction.delete else link,
    }


def record(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Write the entries (one executemany), after taking the feed's lock. Call it last in a write."""
    if not entries:
        return
    take_lock(conn)
    conn.execute(insert(change_t), list(entries))


# --- seed loads -----------------------------------------------------------------------------------

# The collections a seed file creates records in, parents first (the order of their entries);
# shortcomings before the directives whose `addresses` name them (app.replay).
SEEDED: tuple[Resource, ...] = (
    PEOPLE,
    DOCUMENTS,
    MEETINGS,
    PARTICIPANTS,
    SHORTCOMINGS,
    DIRECTIVES,
    FINDINGS,
    ASSIGNEES,
    REVIEWS,
)
_BATCH = 1000


def collection_of(resource: Resource) -> str:
    return resource.path.rsplit("/", 1)[-1]


def seed_mark(conn: Connection) -> dict[str, int]:
    """Before a load: take the feed's lock and note the highest id of each seeded table.

    With the lock held no other writer commits until the load does, so the records
    above these ids when the load ends are the load's own.
    """
    take_lock(conn)
    return {
        r.name: conn.execute(select(func.coalesce(func.max(r.table.c.id), 0))).scalar_one() for r in SEEDED
    }


def _publics(conn: Connection, resource: Resource, where: ColumnElement[bool]) -> Iterator[Any]:
    """The public records (links included: a directive's assignees and addresses) matching
    `where`, in id order, read _BATCH at a time."""
    t = resource.table
    last = 0
    while True:
        rows = (
            conn.execute(resource.select().where(where, t.c.id > last).order_by(t.c.id).limit(_BATCH))
            .mappings()
            .all()
        )
        if not rows:
            return
        yield from resource.publics(conn, rows)
        last = rows[-1]["id"]


def _relinked(conn: Connection, mark: dict[str, int]) -> dict[str, set[int]]:
    """Records the database had before the load whose public JSON the load's new links change
    (an old directive given a new assignee, an old shortcoming a new directive addresses); their
    ids, by collection.

    Each look-up reads the load's new links only, by the key whose range they are at the end
    of (`+ 0`: no index on the other column; no DISTINCT, which SQLite would answer by walking
    a whole index in order). SQLite took the index of the other column, and read every link to
    the records the database had: a load runs this after each chunk, with `mark` at the chunk
    before, so that made it quadratic (loading 1,000,000 directives on SQLite, the loader's
    thread took 197 s of CPU, and 122 s once this and the look-ups of app.seeding were gone)."""
    old_directive = assignee_t.c.directive_id + literal_column("0") <= mark[DIRECTIVES.name]
    directives = set(
        conn.execute(
            select(assignee_t.c.directive_id).where(assignee_t.c.id > mark[ASSIGNEES.name], old_directive)
        ).scalars()
    )
    old_shortcoming = addresses_t.c.shortcoming_id + literal_column("0") <= mark[SHORTCOMINGS.name]
    shortcomings = set(
        conn.execute(
            select(addresses_t.c.shortcoming_id).where(
                addresses_t.c.directive_id > mark[DIRECTIVES.name], old_shortcoming
            )
        ).scalars()
    )
    return {collection_of(DIRECTIVES): directives, collection_of(SHORTCOMINGS): shortcomings}


def _touch(
    conn: Connection, relinked: dict[str, set[int]], now: dt.datetime, updated: dict[str, list[int]]
) -> None:
    """`now` as the updated_at of the relinked records the loader did not report as updated (it
    set the updated_at of those it did)."""
    for resource in (DIRECTIVES, SHORTCOMINGS):
        collection = collection_of(resource)
        sorted_ids = sorted(relinked.get(collection, set()) - set(updated.get(collection, [])))
        for i in range(0, len(sorted_ids), _BATCH):
            chunk = sorted_ids[i : i + _BATCH]
            t = resource.table
            conn.execute(update(t).where(t.c.id.in_(chunk)).values(updated_at=now))


_COLUMNS = ("collection", "record_id", "record_slug", "action", "actor", "at", "data")


def _row(item: dict[str, Any]) -> tuple[Any, ...]:
    """An entry as the tuple of _COLUMNS that its insert through the Change table would write: the
    time as OffsetDateTime text, the data as the JSON column's text (json_text: PostgreSQL's dates
    as ISO text, as pydantic writes them; the JSON the fast read path embeds, as it is)."""
    data = item["data"]
    return (
        item["collection"],
        item["record_id"],
        item["record_slug"],
        item["action"],
        item["actor"],
        item["at"].isoformat(),
        None if data is None else json_text(data),
    )


# Rows per INSERT statement on SQLite (within its 32,766 parameters since 3.32): one statement
# per row would open a statement journal each, and the full-text index's trigger then flushes
# its pending terms each time (several times slower).
ROWS_PER_INSERT = 500
_SQLITE_PARAMETERS = 32766


def insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Plain rows into `table`, in order, through the DB-API connection of `conn`'s transaction,
    values as the driver takes them: multi-row INSERTs on SQLite, COPY on PostgreSQL. Inside
    app.background.background_writes, in its worker thread (`rows` must not change after)."""
    if not rows:
        return
    sqlite = is_sqlite(conn.engine)

    def write(cur: Any) -> None:
        if sqlite:
            head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            one = "(" + ", ".join("?" * len(columns)) + ")"
            per = max(1, min(ROWS_PER_INSERT, _SQLITE_PARAMETERS // len(columns)))
            for i in range(0, len(rows), per):
                part = rows[i : i + per]
                cur.execute(head + ", ".join([one] * len(part)), [v for row in part for v in row])
        else:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    _write(conn, write)


def _write(conn: Connection, write: Callable[[Any], None]) -> None:
    """`write(cursor)` on the DB-API connection of `conn`: now, or in its background writes."""
    writes = background.of(conn)
    if writes is not None:
        writes.submit(write)
        return
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        write(cur)
    finally:
        cur.close()


_CREATED_SQL: dict[str, RawQuery] = {}


def _insert_created(conn: Connection, resource: Resource, above: int, actor: str, at: dt.datetime) -> None:
    """The create entries of the records of `resource` with ids above `above`, in id order, made
    by the database itself: one INSERT ... SELECT of the fast read path's SELECT, each record's
    JSON built in SQL (fastread.model_object): the JSON the fast read path reads and dumps
    (tests/test_changes.py compares the two). Nothing comes back to Python."""
    query = _CREATED_SQL.get(resource.name)
    if query is None:
        t = resource.table
        sub = resource.fast_select.where(t.c.id > bindparam("above", type_=Integer())).subquery()
        shape = resource.shape
        selected = select(
            literal(collection_of(resource)),
            sub.c.id,
            sub.c.slug if "slug" in shape.fields else null(),
            literal(ChangeAction.create.value),
            bindparam("actor", type_=String()),
            bindparam("at", type_=String()),
            model_object(shape.model, {name: sub.c[name] for name in shape.fields}),
        ).order_by(sub.c.id)
        columns = [change_t.c[name] for name in _COLUMNS]
        stmt = insert(change_t).from_select(columns, selected)
        # RawQuery compiles any statement, not only the SELECTs it is typed for
        query = _CREATED_SQL[resource.name] = RawQuery(stmt)  # type: ignore[arg-type]
    compiled = query.compiled(conn.dialect)
    params = compiled.params({"above": above, "actor": actor, "at": at.isoformat()})
    _write(conn, lambda cur: cur.execute(compiled.sql, params))


def record_seed(
    conn: Connection,
    mark: dict[str, int],
    actor: str,
    *,
    updated: dict[str, list[int]] | None = None,
    deleted: dict[str, Sequence[tuple[int, str | None]]] | None = None,
    citations_created: Sequence[tuple[int, int]] = (),
    citations_updated: Sequence[tuple[int, int]] = (),
    fast: bool = True,
    relinked: dict[str, set[int]] | None = None,
    new_citations: Sequence[tuple[str, str, dict[str, Any]]] | None = None,
) -> None:
    """After a load: an entry per record it made (above `mark`), updated (`updated`: ids by
    collection, "assignees" and "reviews" included) or deleted (`deleted`: (id, slug) pairs by
    collection, e.g. assignees a merge dropped), and per citation it made or changed, in batches
    (in the load's background writes, if any: app.background).

    Entries carry the records as the API answers them after the load, links included. Records
    the database had whose links the load made (see _relinked) get update entries too. A new
    meeting's citations are found by its id; those made or changed in meetings the database
    had are given as (meeting id, document id) pairs. The entries of the records made are
    written by the database itself (`fast`: _insert_created); else read through the public
    models, as updated ones are: the same JSON.

    A caller that knows what the load made can say so, and the database is not read for it (a
    read waits for the load's background writes): `relinked`, what _relinked would find, and
    `new_citations`, the new meetings' citations as (meeting slug, document slug, link) in
    (meeting id, document id) order. Given both, with nothing updated and `fast`, the entries
    are written without any read.
    """
    now = utcnow()
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal batch
        if batch:
            insert_rows(conn, "change", _COLUMNS, batch)
            batch = []

    def add(item: dict[str, Any]) -> None:
        batch.append(_row(item))
        if len(batch) >= _BATCH:
            flush()

    for resource in reversed(SEEDED):  # tombstones first, children before parents
        collection = collection_of(resource)
        for record_id, slug in (deleted or {}).get(collection, ()):
            add(
                {
                    "collection": collection,
                    "record_id": record_id,
                    "record_slug": slug,
                    "action": ChangeAction.delete.value,
                    "actor": actor,
                    "at": now,
                    "data": None,
                }
            )
    if relinked is None:
        relinked = _relinked(conn, mark)
    _touch(conn, relinked, now, updated or {})
    # The citations' rows are read first: the statements writing the entries before theirs may
    # run in the background (app.background), and a read would wait for them.
    links = (
        select(citation_t, meeting_t.c.slug.label("m_slug"), document_t.c.slug.label("d_slug"))
        .join(meeting_t, meeting_t.c.id == citation_t.c.meeting_id)
        .join(document_t, document_t.c.id == citation_t.c.document_id)
    )
    order = (citation_t.c.meeting_id, citation_t.c.document_id)

    def read(where: ColumnElement[bool]) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (
                r.m_slug,
                r.d_slug,
                {"meeting_id": r.meeting_id, "document_id": r.document_id, "source_quote": r.source_quote},
            )
            for r in conn.execute(links.where(where).order_by(*order))
        ]

    if new_citations is None:
        new_citations = read(citation_t.c.meeting_id > mark[MEETINGS.name])
    cited = [(new_citations, ChangeAction.create)]
    for pairs, action in ((citations_created, ChangeAction.create), (citations_updated, ChangeAction.update)):
        for i in range(0, len(pairs), _BATCH):
            cited.append((read(tuple_(*order).in_(list(pairs[i : i + _BATCH]))), action))
    for resource in SEEDED:
        t = resource.table
        collection = collection_of(resource)
        if fast:
            flush()  # the entries before these keep their place in the feed
            _insert_created(conn, resource, mark[resource.name], actor, now)
        else:
            for public in _publics(conn, resource, t.c.id > mark[resource.name]):
                add(entry(collection, ChangeAction.create, actor, public, at=now))
        ids = sorted(set((updated or {}).get(collection, [])) | relinked.get(collection, set()))
        for i in range(0, len(ids), _BATCH):
            chunk = ids[i : i + _BATCH]
            for public in _publics(conn, resource, t.c.id.in_(chunk)):
                add(entry(collection, ChangeAction.update, actor, public, at=now))
    for rows, action in cited:
        for m_slug, d_slug, link in rows:
            add(citation_entry(action, actor, m_slug, d_slug, link, at=now))
    flush()
