"""Creating the schema and loading seed files, in one transaction each."""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, exists, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import SQLModel

from app import changes, export, migrations, search_index  # search_index: the full-text DDL too
from app.background import ProcessSetting, background_writes
from app.db import is_memory_sqlite, is_sqlite, json_text, writer
from app.export import MEETING_FIELDS, SOURCE_FIELDS
from app.models import (
    Directive,
    DirectiveAssignee,
    DirectiveReview,
    DirectiveShortcoming,
    Document,
    Finding,
    Meeting,
    MeetingDocument,
    Participant,
    Person,
    SearchDocument,
    Shortcoming,
)
from app.models.common import utcnow
from app.models.links import folded_words
from app.resources import DIRECTIVES, SHORTCOMINGS
from app.search_index import search_row
from app.seed_schema import (
    AssigneeSeed,
    CitationSeed,
    DirectiveSeed,
    DocumentSeed,
    Hashes,
    MeetingSeed,
    ParticipantSeed,
    PersonSeed,
    ReviewSeed,
    SeedError,
    SeedFile,
    SeedStream,
)
from app.text import fold

log = logging.getLogger("app.seeding")

# Records a load must create for PostgreSQL's statistics to be refreshed at its end; during
# the load, they are refreshed each time the records it created double past this (_analyze).
ANALYZE_AFTER = 1000


def t(model: Any) -> Table:
    table: Table = model.__table__
    return table


search_t = t(SearchDocument)


COLLECTIONS = (
    "people",
    "documents",
    "meetings",
    "participants",
    "directives",
    "assignees",
    "shortcomings",
    "findings",
    "citations",
    "addresses",
    "reviews",
)


def _zeros() -> dict[str, int]:
    return dict.fromkeys(COLLECTIONS, 0)


@dataclass
class LoadReport:
    """What a load created, updated and left unchanged, per collection."""

    created: dict[str, int] = field(default_factory=_zeros)
    updated: dict[str, int] = field(default_factory=_zeros)
    unchanged: dict[str, int] = field(default_factory=_zeros)
    skipped_meetings: list[str] = field(default_factory=list)  # meetings the database already had
    dry_run: bool = False

    def add(self, kind: str, n: int) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    def count(self, outcome: str, kind: str, n: int = 1) -> None:
        counts: dict[str, int] = getattr(self, outcome)
        counts[kind] = counts.get(kind, 0) + n

    def summary(self) -> str:
        made = ", ".join(f"{n} {k}" for k, n in self.created.items() if n) or "nothing new"
        changed = ", ".join(f"{n} {k}" for k, n in self.updated.items() if n)
        parts = [f"{'would create' if self.dry_run else 'created'} {made}"]
        if changed:
            parts.append(f"{'would update' if self.dry_run else 'updated'} {changed}")
        if self.skipped_meetings:
            parts.append(f"{len(self.skipped_meetings)} meeting(s) already present")
        return "; ".join(parts)

    def table(self) -> str:
        """Per collection: created, updated, unchanged (`seed load --dry-run` prints it)."""
        verb = "would " if self.dry_run else ""
        head = f"{'collection':<14}{verb + 'create':>14}{verb + 'update':>14}{'unchanged':>11}"
        lines = [head]
        for kind in COLLECTIONS:
            lines.append(
                f"{kind:<14}{self.created.get(kind, 0):>14}{self.updated.get(kind, 0):>14}"
                f"{self.unchanged.get(kind, 0):>11}"
            )
        return "\n".join(lines)


def _lock(conn: Connection) -> None:
    """Serialise schema creation and seeding between workers starting together."""
    if not is_sqlite(conn.engine):
        conn.execute(text(changes.schema_lock(changes.START_LOCK)))


def create_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with the Alembic migrations (app/migrations).

    One write transaction (BEGIN IMMEDIATE on SQLite) under the start-up lock
    (an advisory lock on PostgreSQL): workers starting together migrate one at a
    time, and the later ones find the schema at head already. SQLite can still
    answer "database is locked" at once, without waiting (e.g. while another
    connection turns a new file to WAL); the whole transaction is then rolled
    back and tried again, a few times.
    """
    attempts = 5
    for attempt in range(1, attempts + 1):
        try:
            with (
                writer(engine).connect() as conn,
                migrations.foreign_keys_off(conn),
                migrations.sqlite_wait_longer(conn),
                conn.begin(),
            ):
                _lock(conn)
                migrations.upgrade(conn, revision)
            return
        except OperationalError as exc:
            if not is_sqlite(engine) or "locked" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t(Meeting))).scalar_one() == 0


def _insert_many(
    conn: Connection, model: Any, rows: Sequence[dict[str, Any]], *, ids: bool = True
) -> list[int]:
    """Insert the rows (one executemany); their ids, in order, unless `ids` is false: RETURNING
    in parameter order makes SQLAlchemy send SQLite one statement per row (57,953 reviews of a
    generated file took 16 s that way)."""
    if not rows:
        return []
    # A column null in every row is left to its default (null): the rows then also fit a database
    # still at an earlier revision, without a column added since (tests/test_migrations.py).
    unset = [k for k in rows[0] if all(r[k] is None for r in rows)]
    if unset:
        rows = [{k: v for k, v in r.items() if k not in unset} for r in rows]
    table = t(model)
    if not ids:
        conn.execute(insert(table), list(rows))
        return []
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows))
    return [r[0] for r in result]


# --- seed records -> rows and search rows --------------------------------------------------------
# The inverse of app/export.py's builders: a field added to the seed format is added here too.


def _person_row(p: PersonSeed) -> dict[str, Any]:
    return {"slug": p.slug, "full_name": p.full_name, "name_folded": fold(p.full_name)}


def _document_row(d: DocumentSeed) -> dict[str, Any]:
    return d.model_dump()


def _meeting_row(m: MeetingSeed) -> dict[str, Any]:
    return {
        **m.model_dump(include=set(MEETING_FIELDS)),
        **{f"source_{k}": getattr(m.source, k) for k in SOURCE_FIELDS},
    }


def _participant_row(p: ParticipantSeed, meeting_id: int, people: dict[str, int]) -> dict[str, Any]:
    return {**p.model_dump(exclude={"person"}), "meeting_id": meeting_id, "person_id": people[p.person]}


def _directive_row(d: DirectiveSeed, meeting_id: int, participants: dict[str, int]) -> dict[str, Any]:
    return {
        **d.model_dump(exclude={"issued_by", *_LINKS}),
        "meeting_id": meeting_id,
        "issued_by": participants[d.issued_by],
    }


def _assignee_row(a: AssigneeSeed, directive_id: int, people: dict[str, int]) -> dict[str, Any]:
    return {
        "slug": a.slug,
        "directive_id": directive_id,
        "role": a.role,
        "person_id": people[a.person] if a.person is not None else None,
        "organization": a.organization,
        "organization_folded": folded_words(a.organization) if a.organization is not None else None,
        "source_quote": a.source_quote,
    }


def _assignee_key(a: AssigneeSeed) -> tuple[str, str | None, str | None]:
    """What matches a file's assignee without a slug to the database's: role and who."""
    return (a.role.value, a.person, a.organization)


# A directive's links: merged on their own, not compared with its fields.
_LINKS: dict[str, Any] = {"assignees": [], "addresses": []}


def _core(item: Any) -> Any:
    """The record as the database's seed records without their links are (app/export.py)."""
    return item.model_copy(update=_LINKS) if isinstance(item, DirectiveSeed) else item


def _child_row(item: Any, meeting_id: int) -> dict[str, Any]:
    return {**item.model_dump(), "meeting_id": meeting_id}


def _search(kind: str, id_: int, meeting_id: int | None, item: Any, names: dict[str, str]) -> dict[str, Any]:
    """The search_document row of a seed record (as app/writes.py writes it for the API's)."""
    if kind == "people":
        return search_row("person", id_, None, item.full_name)
    if kind == "documents":
        return search_row("document", id_, None, item.title, item.number, item.issuer)
    if kind == "meetings":
        return search_row("meeting", id_, id_, item.title, item.purpose, item.summary, item.organizer)
    if kind == "participants":
        name = names.get(item.person, item.person)
        return search_row("participant", id_, meeting_id, f"{name}, {item.title}", item.organization)
    if kind == "directives":
        return search_row("directive", id_, meeting_id, item.text, *item.addressees)
    if kind == "shortcomings":
        return search_row("shortcoming", id_, meeting_id, item.text, *item.concerns)
    return search_row("finding", id_, meeting_id, item.text)


SEARCH_COLUMNS = ("type", "record_id", "meeting_id", "title", "body", "folded")


def _search_tuple(
    type_: str, id_: int, meeting_id: int | None, title: str, *texts: str | None
) -> tuple[Any, ...]:
    """search_row's row as a tuple of SEARCH_COLUMNS."""
    body = "\n".join(t for t in texts if t)
    return (type_, id_, meeting_id, title, body, fold(title + "\n" + body))


SEARCH_TYPE = {
    "people": "person",
    "documents": "document",
    "meetings": "meeting",
    "participants": "participant",
    "directives": "directive",
    "shortcomings": "shortcoming",
    "findings": "finding",
}
_MODELS: dict[str, Any] = {
    "people": Person,
    "documents": Document,
    "meetings": Meeting,
    "participants": Participant,
    "directives": Directive,
    "shortcomings": Shortcoming,
    "findings": Finding,
    "assignees": DirectiveAssignee,
    "reviews": DirectiveReview,
}
_RECORD_KINDS = ("participants", "directives", "shortcomings", "findings")  # children with a slug


# --- what the database has ------------------------------------------------------------------------


@dataclass
class _Present:
    """The database's records that the file names, as seed records (app/export.py builds them)."""

    people: dict[str, tuple[int, PersonSeed]] = field(default_factory=dict)
    documents: dict[str, tuple[int, DocumentSeed]] = field(default_factory=dict)
    meetings: dict[str, tuple[int, MeetingSeed]] = field(default_factory=dict)
    # kind -> slug -> (id, meeting id, seed record)
    children: dict[str, dict[str, tuple[int, int, Any]]] = field(default_factory=dict)
    # meeting id -> document slug -> citation
    citations: dict[int, dict[str, CitationSeed]] = field(default_factory=dict)
    # meeting id -> person slug -> participant slug
    persons_in: dict[int, dict[str, str]] = field(default_factory=dict)
    # directive id -> its assignees (id, seed record) in id order / the slugs of the shortcomings it addresses
    assignees: dict[int, list[tuple[int, AssigneeSeed]]] = field(default_factory=dict)
    addresses: dict[int, list[str]] = field(default_factory=dict)
    # assignee slug (of the file's) -> slug of the directive it belongs to in the database
    assignee_of: dict[str, str] = field(default_factory=dict)


def _by_slug(conn: Connection, stmt: Any, slug_column: Any, slugs: Sequence[str]) -> Iterator[Any]:
    for chunk in export.chunks(sorted(set(slugs))):
        yield from conn.execute(stmt.where(slug_column.in_(chunk))).mappings()


def _present(conn: Connection, people: Sequence[PersonSeed], documents: Sequence[DocumentSeed]) -> _Present:
    """The people and documents of the file that the database has (meetings: see _present_meetings)."""
    found = _Present()
    for row in _by_slug(conn, export.PEOPLE, export.person_t.c.slug, [p.slug for p in people]):
        found.people[row["slug"]] = (row["id"], export.person_seed(row))
    for row in _by_slug(conn, export.DOCUMENTS, export.document_t.c.slug, [d.slug for d in documents]):
        found.documents[row["slug"]] = (row["id"], export.document_seed(row))
    return found


def _present_meetings(conn: Connection, found: _Present, meetings: Sequence[MeetingSeed]) -> None:
    """The database's records of a chunk of the file's meetings, in `found` (replacing the last chunk's)."""
    found.meetings, found.children, found.citations, found.persons_in = {}, {}, {}, {}
    found.assignees, found.addresses, found.assignee_of = {}, {}, {}
    for row in _by_slug(conn, export.MEETINGS, export.meeting_t.c.slug, [m.slug for m in meetings]):
        found.meetings[row["slug"]] = (row["id"], export.meeting_seed(row))
    for kind in _RECORD_KINDS:
        stmt, table, build, _ = export.CHILDREN[kind]
        slugs = [item.slug for m in meetings for item in getattr(m, kind)]
        # Which of the slugs the database has, then the whole records of those only.
        known = {row["id"] for row in _by_slug(conn, select(table.c.id, table.c.slug), table.c.slug, slugs)}
        found.children[kind] = {}
        for chunk in export.chunks(sorted(known)):
            for row in conn.execute(stmt.where(table.c.id.in_(chunk))).mappings():
                found.children[kind][row["slug"]] = (row["id"], row["meeting_id"], build(row))
    meeting_ids = [id_ for id_, _ in found.meetings.values()]
    for chunk in export.chunks(meeting_ids):
        for row in conn.execute(export.CITATIONS.where(export.citation_t.c.meeting_id.in_(chunk))).mappings():
            found.citations.setdefault(row["meeting_id"], {})[row["document_slug"]] = export.citation_seed(
                row
            )
        stmt = export.PARTICIPANTS.where(export.participant_t.c.meeting_id.in_(chunk))
        for row in conn.execute(stmt).mappings():
            found.persons_in.setdefault(row["meeting_id"], {})[row["person_slug"]] = row["slug"]
    directive_ids = sorted(id_ for id_, _, _ in found.children["directives"].values())
    found.assignees, found.addresses = export.directive_links(conn, directive_ids)
    slugs = [a.slug for m in meetings for d in m.directives for a in d.assignees if a.slug is not None]
    owner = export.directive_t
    stmt = select(export.assignee_t.c.slug, owner.c.slug.label("directive_slug")).join(
        owner, owner.c.id == export.assignee_t.c.directive_id
    )
    for row in _by_slug(conn, stmt, export.assignee_t.c.slug, slugs):
        found.assignee_of[row["slug"]] = row["directive_slug"]


def _conflicts(meetings: Sequence[MeetingSeed], present: _Present, start: int = 0) -> list[str]:
    """Records of the file that cannot be merged: a slug the database gives to a record of
    another meeting, or a person who already takes part in the meeting under another slug.
    `meetings` are a chunk of the file's, the first at index `start`."""
    problems: list[str] = []
    for m_i, m in enumerate(meetings, start):
        meeting_id = present.meetings[m.slug][0] if m.slug in present.meetings else None
        for kind in _RECORD_KINDS:
            for i, item in enumerate(getattr(m, kind)):
                there = present.children[kind].get(item.slug)
                if there is not None and there[1] != meeting_id:
                    problems.append(
                        f"meetings[{m_i}].{kind}[{i}].slug: slug '{item.slug}' already exists in the database"
                    )
        for i, d in enumerate(m.directives):
            for j, a in enumerate(d.assignees):
                owner = present.assignee_of.get(a.slug) if a.slug is not None else None
                if owner is not None and owner != d.slug:
                    problems.append(
                        f"meetings[{m_i}].directives[{i}].assignees[{j}].slug: slug '{a.slug}' already "
                        f"exists in the database (an assignee of directive '{owner}')"
                    )
        if meeting_id is None:
            continue
        taken = present.persons_in.get(meeting_id, {})
        for i, p in enumerate(m.participants):
            other = taken.get(p.person)
            if other is not None and other != p.slug:
                problems.append(
                    f"meetings[{m_i}].participants[{i}].person: '{p.person}' already takes part in "
                    f"this meeting as participant '{other}'"
                )
    return problems


# --- writing --------------------------------------------------------------------------------------


@dataclass
class _Links:
    """A merged meeting's addresses and reviews, to write once their records resolve."""

    m_i: int
    meeting_id: int  # 0: a new meeting in a dry run
    # (directive index, directive id or None in a dry run, [(index, shortcoming slug)])
    directives: list[tuple[int, int | None, list[tuple[int, str]]]]
    reviews: list[tuple[int, ReviewSeed]]
    # Waited for a later meeting: the change-feed entries of its records are written already.
    deferred: bool = False


def _reviews_of(conn: Connection, meeting_ids: Sequence[int]) -> dict[int, dict[str, list[tuple[int, Any]]]]:
    """The database's reviews by these meetings: meeting id -> directive slug -> (id, seed) in id order."""
    found: dict[int, dict[str, list[tuple[int, Any]]]] = {}
    for chunk in export.chunks(list(meeting_ids)):
        stmt = export.REVIEWS.where(export.review_t.c.meeting_id.in_(chunk)).order_by(export.review_t.c.id)
        for row in conn.execute(stmt).mappings():
            by_directive = found.setdefault(row["meeting_id"], {})
            by_directive.setdefault(row["directive_slug"], []).append((row["id"], export.review_seed(row)))
    return found


class _Merge:
    """Decides, per record, create / update / leave alone, and (unless a dry run) writes it."""

    def __init__(self, conn: Connection, present: _Present, report: LoadReport, names: dict[str, str]):
        self.conn = conn
        self.present = present
        self.report = report
        self.names = names
        self.write = not report.dry_run
        self.now = utcnow()
        self.new_search: list[tuple[Any, ...]] = []  # rows of SEARCH_COLUMNS
        # For the change feed: ids of the records updated, by collection, and the
        # (meeting id, document id) of the citations made or changed in meetings already there.
        self.updated: dict[str, list[int]] = {}
        self.citations_created: list[tuple[int, int]] = []
        self.citations_updated: list[tuple[int, int]] = []
        # The ids of the file's records by kind and slug (in a dry run, of those the database has),
        # the ids of its meetings, the directives whose links changed, and references that resolve
        # to nothing (JSON path: message).
        self.ids: dict[str, dict[str, int]] = {}
        self.meeting_ids: dict[str, int] = {}
        self.touched: set[int] = set()
        self.problems: list[str] = []
        self.old_directives = {id_ for id_, _, _ in present.children.get("directives", {}).values()}
        # Addresses and reviews not written yet (see link()); slugs of a dry run's new records;
        # new directives given addresses after their change-feed entry was written.
        self.waiting: list[_Links] = []
        self.in_file: dict[str, set[str]] = {}
        self.relinked: set[int] = set()
        self.unlinked: set[int] = set()  # ids of directives written in bulk, before link() ran
        # A load into a database without any record (_load's `fresh`): the ids of the directives
        # and shortcomings it wrote, by their slugs' hashes (unique in the file: References), for
        # link() to resolve the slugs of earlier chunks without asking the database. A look-up
        # waits for the writes in the background (app.background), the chunk's own included:
        # loading 1,000,000 directives, the loader's thread waited 29 s for them, then 25 s for
        # the reviews the meetings had (none: see link()).
        self.written: dict[str, Hashes] | None = None
        # Also in such a load: its bulk writer, which gives the reviews link() writes their ids and
        # writes them in the background, and what the change feed needs of the chunk, known here
        # rather than read back (_flush): the links link() made, and the citations of the new
        # meetings as record_seed takes them.
        self.fresh: _Bulk | None = None
        self.new_links: list[tuple[int, int]] = []
        self.new_citations: list[tuple[int, int, str, str, str | None]] = []

    def _update(self, kind: str, id_: int, values: dict[str, Any]) -> None:
        table = t(_MODELS[kind])
        self.conn.execute(update(table).where(table.c.id == id_).values(**values, updated_at=self.now))
        self.updated.setdefault(kind, []).append(id_)

    def _reindex(self, kind: str, id_: int, meeting_id: int | None, item: Any) -> None:
        doc = _search(kind, id_, meeting_id, item, self.names)
        self.conn.execute(
            update(search_t)
            .where(search_t.c.type == SEARCH_TYPE[kind], search_t.c.record_id == id_)
            .values(title=doc["title"], body=doc["body"], folded=doc["folded"])
        )

    def records(
        self,
        kind: str,
        items: Sequence[Any],
        present: dict[str, tuple[int, Any]],
        row: Any,
        meeting_id: int | None = None,
    ) -> dict[str, int]:
        """Merge records of one kind (people, documents, or one meeting's children); their ids by slug."""
        ids: dict[str, int] = {}
        new: list[Any] = []
        for item in items:
            there = present.get(item.slug)
            if there is None:
                new.append(item)
                continue
            ids[item.slug] = there[0]
            if there[-1] == _core(item):
                self.report.count("unchanged", kind)
                continue
            self.report.count("updated", kind)
            if self.write:
                self._update(kind, there[0], row(item))
                self._reindex(kind, there[0], meeting_id, item)
        self.report.count("created", kind, len(new))
        if self.write and new:
            made = _insert_many(self.conn, _MODELS[kind], [row(item) for item in new])
            for item, id_ in zip(new, made, strict=True):
                ids[item.slug] = id_
                doc = _search(kind, id_, meeting_id, item, self.names)
                self.new_search.append(tuple(doc[c] for c in SEARCH_COLUMNS))
        if kind not in ("people", "documents"):  # those the caller keeps (_load's people, documents)
            self.ids.setdefault(kind, {}).update(ids)
        return ids

    def people_renamed(self, people: dict[str, int], changed: list[str]) -> None:
        """Participants' search rows carry the person's name: rewrite those of renamed people."""
        if not self.write or not changed:
            return
        p = t(Participant)
        ids = [people[slug] for slug in changed]
        rows = self.conn.execute(
            select(p.c.id, p.c.meeting_id, p.c.title, p.c.organization, p.c.person_id).where(
                p.c.person_id.in_(ids)
            )
        ).all()
        slug_of = {people[slug]: slug for slug in changed}
        for r in rows:
            name = self.names[slug_of[r.person_id]]
            doc = search_row("participant", r.id, r.meeting_id, f"{name}, {r.title}", r.organization)
            self.conn.execute(
                update(search_t)
                .where(search_t.c.type == "participant", search_t.c.record_id == r.id)
                .values(title=doc["title"], body=doc["body"], folded=doc["folded"])
            )

    def meeting(self, m_i: int, m: MeetingSeed, people: dict[str, int], documents: dict[str, int]) -> None:
        there = self.present.meetings.get(m.slug)
        own = m.model_copy(update={kind: [] for kind in export.CHILD_KINDS})
        if there is None:
            self.report.count("created", "meetings")
            meeting_id = 0  # a dry run writes nothing: no id is needed
            if self.write:
                (meeting_id,) = _insert_many(self.conn, Meeting, [_meeting_row(m)])
                doc = _search("meetings", meeting_id, meeting_id, m, self.names)
                self.new_search.append(tuple(doc[c] for c in SEARCH_COLUMNS))
        else:
            meeting_id = there[0]
            self.report.skipped_meetings.append(m.slug)
            if there[1] == own:
                self.report.count("unchanged", "meetings")
            else:
                self.report.count("updated", "meetings")
                if self.write:
                    self._update("meetings", meeting_id, _meeting_row(m))
                    self._reindex("meetings", meeting_id, meeting_id, m)
        self.meeting_ids[m.slug] = meeting_id

        def child(kind: str) -> dict[str, tuple[int, Any]]:
            found = self.present.children[kind]
            return {item.slug: found[item.slug][::2] for item in getattr(m, kind) if item.slug in found}

        participants = self.records(
            "participants",
            m.participants,
            child("participants"),
            lambda p: _participant_row(p, meeting_id, people),
            meeting_id,
        )
        directives = self.records(
            "directives",
            m.directives,
            child("directives"),
            lambda d: _directive_row(d, meeting_id, participants),
            meeting_id,
        )
        for d_i, d in enumerate(m.directives):
            self.assignees(f"meetings[{m_i}].directives[{d_i}]", d, directives.get(d.slug), people)
        for kind in ("shortcomings", "findings"):
            self.records(kind, getattr(m, kind), child(kind), lambda x: _child_row(x, meeting_id), meeting_id)
        self.citations(m, meeting_id, documents)

    def assignees(
        self, path: str, d: DirectiveSeed, directive_id: int | None, people: dict[str, int]
    ) -> None:
        """Merge a directive's assignees: matched by slug when the file gives one, else by role and
        who (organization or person); the database's others are kept."""
        there = self.present.assignees.get(directive_id, []) if directive_id is not None else []
        by_slug = {a.slug: (id_, a) for id_, a in there if a.slug is not None}
        matched: set[int] = set()
        new: list[AssigneeSeed] = []
        for j, a in enumerate(d.assignees):
            if a.person is not None and a.person not in self.names:
                self.problems.append(f"{path}.assignees[{j}].person: unknown person '{a.person}'")
                continue
            if a.slug is not None:
                match = by_slug.get(a.slug)
            else:
                match = next(
                    (
                        (id_, b)
                        for id_, b in there
                        if id_ not in matched and _assignee_key(b) == _assignee_key(a)
                    ),
                    None,
                )
            if match is None:
                new.append(a)
                continue
            id_, b = match
            matched.add(id_)
            if a.model_copy(update={"slug": b.slug}) == b:  # a file without a slug keeps the database's
                self.report.count("unchanged", "assignees")
                continue
            self.report.count("updated", "assignees")
            if self.write and directive_id is not None:
                values = _assignee_row(a, directive_id, people)
                del values["slug"], values["directive_id"]
                self._update("assignees", id_, values)
                self._touch(directive_id)
        self.report.count("created", "assignees", len(new))
        if self.write and new and directive_id is not None:
            rows = [
                {**_assignee_row(a, directive_id, people), "created_at": self.now, "updated_at": self.now}
                for a in new
            ]
            _insert_many(self.conn, DirectiveAssignee, rows, ids=False)
            self._touch(directive_id)

    def _touch(self, directive_id: int) -> None:
        """A directive the database had whose links change: its updated_at changes (as in the API)."""
        if directive_id in self.old_directives:
            self.touched.add(directive_id)

    def citations(self, m: MeetingSeed, meeting_id: int, documents: dict[str, int]) -> None:
        cited = self.present.citations.get(meeting_id, {}) if m.slug in self.present.meetings else {}
        c_t = t(MeetingDocument)
        new = []
        for c in m.documents:
            there = cited.get(c.document)
            if there is None:
                new.append(c)
            elif there == c:
                self.report.count("unchanged", "citations")
            else:
                self.report.count("updated", "citations")
                if self.write:
                    self.conn.execute(
                        update(c_t)
                        .where(c_t.c.meeting_id == meeting_id, c_t.c.document_id == documents[c.document])
                        .values(source_quote=c.source_quote)
                    )
                    self.citations_updated.append((meeting_id, documents[c.document]))
        self.report.count("created", "citations", len(new))
        if self.write and new:
            self.conn.execute(
                insert(c_t),
                [
                    {
                        "meeting_id": meeting_id,
                        "document_id": documents[c.document],
                        "source_quote": c.source_quote,
                    }
                    for c in new
                ],
            )
            if m.slug in self.present.meetings:  # those of new meetings are found by their id
                self.citations_created.extend((meeting_id, documents[c.document]) for c in new)

    def pending(self, m_i: int, m: MeetingSeed) -> None:
        """Note a merged meeting's addresses and reviews, for link() (they may refer to a record of a
        meeting further on in the file)."""
        directives = self.ids.get("directives", {})
        item = _Links(
            m_i,
            self.meeting_ids[m.slug],
            [
                (d_i, directives.get(d.slug), list(enumerate(d.addresses)))
                for d_i, d in enumerate(m.directives)
                if d.addresses
            ],
            list(enumerate(m.reviews)),
        )
        if not self.write:  # a dry run: the records new in the file resolve to 0
            for kind in ("directives", "shortcomings"):
                self.in_file.setdefault(kind, set()).update(x.slug for x in getattr(m, kind))
        if item.directives or item.reviews:
            self.waiting.append(item)

    def link(self, *, final: bool) -> None:
        """Write the noted addresses and reviews whose records resolve (of the file's meetings
        merged so far, or else the database's); the others wait for a record further on in the
        file, and at its end (`final`) are problems."""
        items, self.waiting = self.waiting, []
        unlinked, self.unlinked = self.unlinked, set()
        if not items:
            return
        shortcomings = self._resolve(
            "shortcomings", [s for it in items for _, _, addrs in it.directives for _, s in addrs]
        )
        directives = self._resolve("directives", [r.directive for it in items for _, r in it.reviews])
        # The addresses the database has: none yet for the directives written in bulk since the
        # last link() (which are looked up no more; the others may have some of a previous file).
        # In a load into an empty database, a directive's addresses there are those an earlier
        # link() wrote, none of which is still waiting: none to look up.
        ids = sorted({d_id for it in items for _, d_id, _ in it.directives if d_id} - unlinked)
        addressed = export.directive_addresses(self.conn, ids) if self.written is None else {}
        reviewing = sorted({it.meeting_id for it in items if it.reviews and it.meeting_id})
        # A load into an empty database: a meeting's reviews there are this load's, made by an
        # earlier link() for other directives (a directive resolves once, with all its reviews).
        reviewed = {} if self.written is not None else _reviews_of(self.conn, reviewing)
        links: list[dict[str, int]] = []
        reviews: list[dict[str, Any]] = []
        for it in items:
            later = _Links(it.m_i, it.meeting_id, [], [], deferred=True)
            for d_i, directive_id, addrs in it.directives:
                there = set(addressed.get(directive_id, [])) if directive_id else set()
                wait: list[tuple[int, str]] = []
                for j, slug in addrs:
                    if slug not in shortcomings:
                        wait.append((j, slug))
                    elif slug in there:
                        self.report.count("unchanged", "addresses")
                    else:
                        there.add(slug)
                        self.report.count("created", "addresses")
                        if self.write and directive_id:
                            links.append({"directive_id": directive_id, "shortcoming_id": shortcomings[slug]})
                            self._touch(directive_id)
                            if it.deferred:  # its entry in the feed was written without this link
                                self.relinked.add(directive_id)
                if wait:
                    later.directives.append((d_i, directive_id, wait))
            had = reviewed.get(it.meeting_id, {})
            there_r = {slug: list(found) for slug, found in had.items()}
            for i, r in it.reviews:
                if r.directive not in directives:
                    later.reviews.append((i, r))
                    continue
                match = there_r[r.directive].pop(0) if there_r.get(r.directive) else None
                if match is None:
                    self.report.count("created", "reviews")
                    if self.write:
                        reviews.append(
                            {
                                "meeting_id": it.meeting_id,
                                "directive_id": directives[r.directive],
                                "outcome": r.outcome,
                                "source_quote": r.source_quote,
                                "created_at": self.now,
                                "updated_at": self.now,
                            }
                        )
                elif match[1] == r:
                    self.report.count("unchanged", "reviews")
                else:
                    self.report.count("updated", "reviews")
                    if self.write:
                        self._update(
                            "reviews", match[0], {"outcome": r.outcome, "source_quote": r.source_quote}
                        )
            if later.directives or later.reviews:
                self.waiting.append(later)
        if self.fresh is not None:  # a load into an empty database: written in the background
            self._write_links(self.fresh, links, reviews)
        else:
            if self.write and links:
                self.conn.execute(insert(t(DirectiveShortcoming)), links)
            if self.write and reviews:
                _insert_many(self.conn, DirectiveReview, reviews, ids=False)
        if final:
            for it in self.waiting:
                for d_i, _, addrs in it.directives:
                    self.problems.extend(
                        f"meetings[{it.m_i}].directives[{d_i}].addresses[{j}]: unknown shortcoming '{slug}'"
                        for j, slug in addrs
                    )
                self.problems.extend(
                    f"meetings[{it.m_i}].reviews[{i}].directive: unknown directive '{r.directive}'"
                    for i, r in it.reviews
                )
            self.waiting = []

    def _write_links(self, bulk: _Bulk, links: list[dict[str, int]], reviews: list[dict[str, Any]]) -> None:
        """link()'s rows as plain rows, in the load's background writes, the reviews with ids
        (`bulk`, the fresh load's writer): nothing waits for the writes before them."""
        stamp = self.now.isoformat()
        pairs = [(x["directive_id"], x["shortcoming_id"]) for x in links]
        bulk.insert(DirectiveShortcoming, LINK_COLUMNS, pairs)
        self.new_links.extend(pairs)
        rows = [
            (r["meeting_id"], r["directive_id"], r["outcome"], r["source_quote"], stamp, stamp, id_)
            for r, id_ in zip(reviews, bulk.ids(DirectiveReview, len(reviews)), strict=True)
        ]
        bulk.insert(DirectiveReview, REVIEW_COLUMNS, rows)

    def _resolve(self, kind: str, slugs: Sequence[str]) -> dict[str, int]:
        """Ids by slug of the records these slugs name: the file's merged so far, else the
        database's. In a dry run a record new in the file has no id yet: it resolves to 0."""
        found = {**dict.fromkeys(self.in_file.get(kind, ()), 0), **self.ids.get(kind, {})}
        missing = sorted({s for s in slugs if s not in found})
        if self.written is not None:  # the database has nothing but what this load wrote
            written = self.written[kind]
            for slug in missing:
                id_ = written.get(hash(slug))
                if id_ is not None:
                    found[slug] = id_
            return found
        table = t(_MODELS[kind])
        for row in _by_slug(self.conn, select(table.c.slug, table.c.id), table.c.slug, missing):
            found[row.slug] = row.id
        return found

    def forget(self) -> None:
        """Drop the ids of the chunk's records and meetings: link() finds those it needs (records
        of earlier chunks) in the database, where they are; memory stays bounded."""
        for kind in _RECORD_KINDS:
            self.ids.pop(kind, None)
        self.meeting_ids = {}

    def finish(self) -> None:
        """The touched directives' updated_at; the change feed sees them as updated."""
        updated = self.updated.setdefault("directives", [])
        touched = sorted(self.touched - set(updated))
        d_t = t(Directive)
        for chunk in export.chunks(touched):
            self.conn.execute(update(d_t).where(d_t.c.id.in_(chunk)).values(updated_at=self.now))
        updated.extend(touched)
        # New directives whose addresses came at the end of the file: their create entries did
        # not have them (updated_at is that of their creation).
        updated.extend(sorted(self.relinked - set(updated)))
        self.touched, self.relinked = set(), set()


# --- bulk writing: records all new to the database ------------------------------------------------
# What _Merge writes for records the database does not have, written as plain rows: for each
# table, one executemany (COPY on PostgreSQL) per chunk, with the ids the database would give
# (taken up front: the load holds the write lock). The rows, ids and search rows are those the
# record-by-record path writes (tests/test_bulkload.py compares the two).

BULK = True  # False: every record through _Merge's record-by-record path (for the comparison)


def _ids(conn: Connection, table: Table, n: int, largest: int | None = None) -> list[int]:
    """The ids the next `n` rows inserted into `table` get: on SQLite the rowids after the
    largest (no AUTOINCREMENT; `largest`, when the caller knows it, else looked up), on
    PostgreSQL the next values of the id's sequence."""
    if n == 0:
        return []
    if is_sqlite(conn.engine):
        if largest is None:
            largest = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
        start = largest + 1
        return list(range(start, start + n))
    seq = f"pg_get_serial_sequence('{table.name}', 'id')"
    rows = conn.exec_driver_sql(f"SELECT nextval({seq}) FROM generate_series(1, {int(n)})")
    return sorted(r[0] for r in rows)


def _columns(model: Any, *names: str) -> tuple[str, ...]:
    table = t(model)
    missing = [name for name in names if name not in table.c]
    if missing:
        raise KeyError(f"{table.name} has no column {missing}")
    return names


PERSON_COLUMNS = _columns(Person, "slug", "full_name", "name_folded", "id", "created_at", "updated_at")
DOCUMENT_COLUMNS = _columns(
    Document, "slug", "kind", "number", "title", "issuer", "issued_on", "id", "created_at", "updated_at"
)
MEETING_COLUMNS = _columns(
    Meeting,
    *export.MEETING_FIELDS,  # the meeting's own fields, as the seed format has them
    "source_publisher",
    "source_title",
    "source_published_at",
    "source_author",
    "source_photographer",
    "source_url",
    "source_file",
    "id",
    "created_at",
    "updated_at",
)
PARTICIPANT_COLUMNS = _columns(
    Participant,
    "slug",
    "meeting_id",
    "person_id",
    "title",
    "organization",
    "role",
    "source_quote",
    "id",
    "created_at",
    "updated_at",
)
DIRECTIVE_COLUMNS = _columns(
    Directive,
    "slug",
    "meeting_id",
    "issued_by",
    "text",
    "addressees",
    "status",
    "due_date",
    "done_on",
    "source_quote",
    "id",
    "created_at",
    "updated_at",
)
ASSIGNEE_COLUMNS = _columns(
    DirectiveAssignee,
    "slug",
    "directive_id",
    "role",
    "person_id",
    "organization",
    "organization_folded",
    "source_quote",
    "created_at",
    "updated_at",
    "id",
)
SHORTCOMING_COLUMNS = _columns(
    Shortcoming, "slug", "meeting_id", "text", "concerns", "source_quote", "id", "created_at", "updated_at"
)
FINDING_COLUMNS = _columns(
    Finding, "slug", "meeting_id", "text", "source_quote", "id", "created_at", "updated_at"
)
CITATION_COLUMNS = _columns(MeetingDocument, "meeting_id", "document_id", "source_quote")
LINK_COLUMNS = _columns(DirectiveShortcoming, "directive_id", "shortcoming_id")
REVIEW_COLUMNS = _columns(
    DirectiveReview, "meeting_id", "directive_id", "outcome", "source_quote", "created_at", "updated_at", "id"
)


_MARK_NAMES = {r.table.name: r.name for r in changes.SEEDED}  # a seed mark's keys, by table


class _Bulk:
    """Rows of new records as the columns take them (what SQLAlchemy's types would bind): dates
    as ISO text on SQLite, aware datetimes as ISO text, JSON lists as JSON text (json_text), enums as
    their values."""

    def __init__(self, conn: Connection, merge: _Merge, sequences: Connection | None = None) -> None:
        self.conn = conn
        self.merge = merge
        self.sqlite = is_sqlite(conn.engine)
        # The largest id of each seeded table, by its resource's name, as _load's mark has it:
        # taken after the last write to them (_flush), so that the ids need no look-up, which
        # would wait for the writes running in the background. ids() keeps it up to date.
        self.largest: dict[str, int] = {}
        # PostgreSQL: a connection of its own for the sequences' next values (nextval is not
        # transactional), which on the load's would wait for its writes in the background.
        self.sequences = sequences

    def ids(self, model: Any, n: int) -> list[int]:
        table = t(model)
        name = _MARK_NAMES[table.name]
        made = _ids(self.sequences or self.conn, table, n, self.largest.get(name))
        if made:
            self.largest[name] = max(self.largest.get(name, 0), made[-1])
        return made

    def date(self, value: dt.date | None) -> Any:
        return value.isoformat() if self.sqlite and value is not None else value

    @staticmethod
    def when(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    def insert(self, model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        # As _insert_many: a column null in every row is left to its default (null), so that the
        # rows also fit a database at an earlier revision, without a column added since.
        keep = [i for i in range(len(columns)) if any(row[i] is not None for row in rows)]
        if len(keep) < len(columns):
            columns = tuple(columns[i] for i in keep)
            rows = [tuple(row[i] for i in keep) for row in rows]
        changes.insert_rows(self.conn, t(model).name, columns, rows)

    def people(self, batch: Sequence[PersonSeed]) -> dict[str, int]:
        merge, stamp = self.merge, utcnow().isoformat()
        ids = self.ids(Person, len(batch))
        rows = [
            (p.slug, p.full_name, fold(p.full_name), id_, stamp, stamp)
            for p, id_ in zip(batch, ids, strict=True)
        ]
        self.insert(Person, PERSON_COLUMNS, rows)
        merge.new_search.extend(
            _search_tuple("person", id_, None, p.full_name) for p, id_ in zip(batch, ids, strict=True)
        )
        merge.report.count("created", "people", len(batch))
        made = {p.slug: id_ for p, id_ in zip(batch, ids, strict=True)}
        return made

    def documents(self, batch: Sequence[DocumentSeed]) -> dict[str, int]:
        merge, stamp = self.merge, utcnow().isoformat()
        ids = self.ids(Document, len(batch))
        rows = [
            (d.slug, d.kind.value, d.number, d.title, d.issuer, self.date(d.issued_on), id_, stamp, stamp)
            for d, id_ in zip(batch, ids, strict=True)
        ]
        self.insert(Document, DOCUMENT_COLUMNS, rows)
        merge.new_search.extend(
            _search_tuple("document", id_, None, d.title, d.number, d.issuer)
            for d, id_ in zip(batch, ids, strict=True)
        )
        merge.report.count("created", "documents", len(batch))
        made = {d.slug: id_ for d, id_ in zip(batch, ids, strict=True)}
        return made

    def meetings(
        self, batch: Sequence[MeetingSeed], start: int, people: dict[str, int], documents: dict[str, int]
    ) -> None:
        """Write a chunk of meetings new to the database, with their records (as _Merge.meeting
        does for each); their addresses and reviews are left to pending() and link()."""
        merge, date, when = self.merge, self.date, self.when
        stamp, now = utcnow().isoformat(), merge.now.isoformat()
        count = {kind: sum(len(getattr(m, kind)) for m in batch) for kind in _RECORD_KINDS}
        meeting_ids = iter(self.ids(Meeting, len(batch)))
        ids = {kind: iter(self.ids(_MODELS[kind], count[kind])) for kind in _RECORD_KINDS}
        assignees = sum(len(d.assignees) for m in batch for d in m.directives)
        assignee_ids = iter(self.ids(DirectiveAssignee, assignees))  # one unused per problem
        rows: dict[str, list[tuple[Any, ...]]] = {
            k: [] for k in (*_RECORD_KINDS, "meetings", "assignees", "citations")
        }
        search = merge.new_search
        names = merge.names
        directive_ids: dict[str, int] = {}
        shortcoming_ids: dict[str, int] = {}
        for m_i, m in enumerate(batch, start):
            mid = next(meeting_ids)
            merge.meeting_ids[m.slug] = mid
            src = m.source
            rows["meetings"].append(
                (
                    m.slug,
                    m.title,
                    date(m.date),
                    when(m.starts_at),
                    m.timezone,
                    m.organizer,
                    m.format.value,
                    json_text(m.connection_points),
                    m.purpose,
                    m.summary,
                    src.publisher,
                    src.title,
                    when(src.published_at),
                    src.author,
                    src.photographer,
                    src.url,
                    src.file,
                    mid,
                    stamp,
                    stamp,
                )
            )
            search.append(_search_tuple("meeting", mid, mid, m.title, m.purpose, m.summary, m.organizer))
            participants: dict[str, int] = {}
            for p in m.participants:
                pid = participants[p.slug] = next(ids["participants"])
                rows["participants"].append(
                    (
                        p.slug,
                        mid,
                        people[p.person],
                        p.title,
                        p.organization,
                        p.role.value,
                        p.source_quote,
                        pid,
                        stamp,
                        stamp,
                    )
                )
                name = names.get(p.person, p.person)
                search.append(_search_tuple("participant", pid, mid, f"{name}, {p.title}", p.organization))
            for d_i, d in enumerate(m.directives):
                did = directive_ids[d.slug] = next(ids["directives"])
                rows["directives"].append(
                    (
                        d.slug,
                        mid,
                        participants[d.issued_by],
                        d.text,
                        json_text(d.addressees),
                        d.status.value,
                        date(d.due_date),
                        date(d.done_on),
                        d.source_quote,
                        did,
                        stamp,
                        stamp,
                    )
                )
                search.append(_search_tuple("directive", did, mid, d.text, *d.addressees))
                for j, a in enumerate(d.assignees):
                    if a.person is not None and a.person not in names:
                        merge.problems.append(
                            f"meetings[{m_i}].directives[{d_i}]"
                            f".assignees[{j}].person: unknown person '{a.person}'"
                        )
                        continue
                    merge.report.count("created", "assignees")
                    rows["assignees"].append(
                        (
                            a.slug,
                            did,
                            a.role.value,
                            people[a.person] if a.person is not None else None,
                            a.organization,
                            folded_words(a.organization) if a.organization is not None else None,
                            a.source_quote,
                            now,
                            now,
                            next(assignee_ids),
                        )
                    )
            for s in m.shortcomings:
                sid = shortcoming_ids[s.slug] = next(ids["shortcomings"])
                rows["shortcomings"].append(
                    (s.slug, mid, s.text, json_text(s.concerns), s.source_quote, sid, stamp, stamp)
                )
                search.append(_search_tuple("shortcoming", sid, mid, s.text, *s.concerns))
            for f in m.findings:
                fid = next(ids["findings"])
                rows["findings"].append((f.slug, mid, f.text, f.source_quote, fid, stamp, stamp))
                search.append(_search_tuple("finding", fid, mid, f.text))
            rows["citations"].extend((mid, documents[c.document], c.source_quote) for c in m.documents)
            if merge.fresh is not None:  # for the change feed (_flush)
                merge.new_citations.extend(
                    (mid, documents[c.document], m.slug, c.document, c.source_quote) for c in m.documents
                )
        self.insert(Meeting, MEETING_COLUMNS, rows["meetings"])
        self.insert(Participant, PARTICIPANT_COLUMNS, rows["participants"])
        self.insert(Directive, DIRECTIVE_COLUMNS, rows["directives"])
        self.insert(DirectiveAssignee, ASSIGNEE_COLUMNS, rows["assignees"])
        self.insert(Shortcoming, SHORTCOMING_COLUMNS, rows["shortcomings"])
        self.insert(Finding, FINDING_COLUMNS, rows["findings"])
        self.insert(MeetingDocument, CITATION_COLUMNS, rows["citations"])
        report = merge.report
        report.count("created", "meetings", len(batch))
        for kind in _RECORD_KINDS:
            report.count("created", kind, count[kind])
        report.count("created", "citations", len(rows["citations"]))
        merge.ids.setdefault("directives", {}).update(directive_ids)
        merge.ids.setdefault("shortcomings", {}).update(shortcoming_ids)
        if merge.written is not None:
            for kind, made in (("directives", directive_ids), ("shortcomings", shortcoming_ids)):
                written = merge.written[kind]
                for slug, id_ in made.items():
                    written.add(hash(slug), id_)
        merge.unlinked.update(directive_ids.values())


CHUNK_MEETINGS = 200  # meetings merged per round of look-ups, search rows and change entries


HEADER_CHUNK = 2000  # people or documents merged per round


def _records(seed: SeedFile | SeedStream) -> Iterator[tuple[str, Any]]:
    """(collection, record): the people and documents, then the meetings."""
    if isinstance(seed, SeedStream):
        yield from seed.records()
        return
    for kind in ("people", "documents", "meetings"):
        for record in getattr(seed, kind):
            yield kind, record


def _batched(records: Iterator[tuple[str, Any]], chunk: int) -> Iterator[tuple[str, list[Any]]]:
    """Runs of records of one collection, `chunk` meetings or HEADER_CHUNK others at most."""
    for kind, run in itertools.groupby(records, key=lambda r: str(r[0])):
        items = (record for _, record in run)
        size = chunk if kind == "meetings" else HEADER_CHUNK
        while batch := list(itertools.islice(items, size)):
            yield kind, batch


def _flush(conn: Connection, merge: _Merge, mark: dict[str, int], actor: str) -> dict[str, int]:
    """Write the search rows and the change-feed entries of the records merged since `mark`
    (the ids above it are this load's); the next mark.

    The reads come first (the next mark: the records are all written; what record_seed looks
    up), then the writes, which may run in the background (app.background) while the loader
    reads the next records. A load into an empty database (merge.fresh, its bulk writer) reads
    nothing: the next mark is the largest ids it gave, and record_seed is told what it would
    look up (_known_links), so that the loader never waits for the writes of a chunk."""
    if not merge.write:
        return mark
    relinked: dict[str, set[int]] | None = None
    new_citations: list[tuple[str, str, dict[str, Any]]] | None = None
    if merge.fresh is not None:
        after = dict(merge.fresh.largest)
        relinked, new_citations = _known_links(merge, mark)
    else:
        after = changes.seed_mark(conn)  # what follows writes no record of the seeded tables
    # an entry per record created or updated, and per citation made or changed
    changes.record_seed(
        conn,
        mark,
        actor,
        updated=merge.updated,
        citations_created=merge.citations_created,
        citations_updated=merge.citations_updated,
        fast=BULK,
        relinked=relinked,
        new_citations=new_citations,
    )
    merge.updated, merge.citations_created, merge.citations_updated = {}, [], []
    if merge.new_search:
        changes.insert_rows(conn, search_t.name, SEARCH_COLUMNS, merge.new_search)
        merge.new_search = []
    return after


def _known_links(
    merge: _Merge, mark: dict[str, int]
) -> tuple[dict[str, set[int]], list[tuple[str, str, dict[str, Any]]]]:
    """What record_seed would read after a chunk of a load into an empty database, from what the
    load wrote since `mark`: the records relinked (changes._relinked), and the new meetings'
    citations. Each assignee is written with its directive, in the same chunk: none is new to
    a directive of an earlier one. A shortcoming of an earlier chunk is relinked by an address
    from a directive of this one."""
    links, merge.new_links = merge.new_links, []
    cited, merge.new_citations = merge.new_citations, []
    directives, shortcomings = mark[DIRECTIVES.name], mark[SHORTCOMINGS.name]
    relinked = {
        changes.collection_of(DIRECTIVES): set(),
        changes.collection_of(SHORTCOMINGS): {s for d, s in links if d > directives and s <= shortcomings},
    }
    cited.sort()  # by meeting id, then document id
    return relinked, [
        (meeting, document, {"meeting_id": m_id, "document_id": d_id, "source_quote": quote})
        for m_id, d_id, meeting, document, quote in cited
    ]


def _analyze(conn: Connection) -> None:
    """PostgreSQL's statistics of the tables being filled, inside the load's transaction (whose
    own rows ANALYZE samples as live). A long load's look-ups are otherwise planned on the
    statistics of the empty tables: loading 1,000,000 directives, the SELECT of each batch's
    new records for the change feed (now inside changes._insert_created's INSERT) became
    parallel sequential scans of directive_assignee, 2 s a batch near the end. Each time the
    load's records double: a dozen times for a million, each a sample of at most 30,000 rows
    per table."""
    for table in SQLModel.metadata.sorted_tables:
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def _tune(conn: Connection) -> None:
    """A larger page cache for this connection while it loads (SQLite; undone in _untune)."""
    if is_sqlite(conn.engine):
        conn.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")


def _untune(conn: Connection) -> None:
    if is_sqlite(conn.engine):
        conn.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default (2 MiB)


LOAD_CACHE_KIB = 32 * 1024

# Writes a load may hand to the background (app.background) before the loader waits. A chunk hands
# over some twenty at its end (its tables, links, change entries, search rows), in a burst: with
# room for four, the loader waited for all but the last four of them, then read the next chunk
# while the writer ran out of work (the writer idle 7.3 of 25.9 s, loading 10,000 meetings). With
# room for 48 (more than two chunks): 1.1 of 18.7 s. At 64, peak memory 182 -> 204 MiB (10,000
# meetings), 408 -> 435 MiB (1,000,000 directives).
WRITES_QUEUED = 64

# The collector's first threshold while loads run (Python's default: 700). Reading a file makes
# and drops millions of dicts, lists, models and rows, next to none of them in a cycle, and
# every 700 more made than freed started a collection (every 10th of the older ones too): a
# quarter of the loader's CPU. The loader's thread, 10,000 meetings: 10.1 s of CPU, 7.6 s with
# the collector off, 7.7-8.0 s at this threshold; 1,000,000 directives: 241 -> 197 s, the load
# 345 -> 304 s, its peak memory 364 -> 382 MiB. Cycles are still collected.
LOAD_GC_THRESHOLD = 50_000
_GC_THRESHOLD = ProcessSetting(gc.get_threshold, lambda threshold: gc.set_threshold(*threshold))


def _fewer_collections() -> AbstractContextManager[None]:
    """LOAD_GC_THRESHOLD while any load runs in the process (the setting is the process's)."""
    return _GC_THRESHOLD.held(lambda saved: (max(LOAD_GC_THRESHOLD, saved[0]), *saved[1:]))


# A streamed file at least this large that `seed load` (bulk_journal) loads into an empty SQLite
# database goes through the rollback journal rather than WAL (_rollback_journal).
ROLLBACK_JOURNAL_MIN_BYTES = 20_000_000


def _journal(conn: Connection, mode: str | None = None) -> str:
    """The journal mode after setting it to `mode` (None: only read it), through the DB-API
    connection: outside any transaction (SQLAlchemy's would begin one, and the mode cannot change
    inside one)."""
    dbapi: Any = conn.connection.dbapi_connection
    row = dbapi.execute("PRAGMA journal_mode" if mode is None else f"PRAGMA journal_mode = {mode}").fetchone()
    return str(row[0]).lower()


def _rollback_journal(conn: Connection) -> str | None:
    """Switch an SQLite file from WAL to the rollback journal for a large load into an empty
    database; the mode to go back to after it (None: nothing was switched).

    In WAL mode a transaction larger than the page cache spills its pages to the WAL, and a page
    the load changes again (an index leaf: slugs come in no order) is appended again each time it
    spills: the WAL grew past the database's own size and the load slowed as it went (28 min for
    1,000,000 directives). The rollback journal keeps only the first copy of pages the database had
    before the load (an empty database has few) and writes the rest in place. Switching needs the
    database to itself: if any other connection, of this process or another, has it open, the load
    keeps WAL and nothing waits. Readers are locked out until the load commits (a new database
    has nobody to serve yet); the mode goes back to WAL after it, committed or not.
    """
    if not is_sqlite(conn.engine) or is_memory_sqlite(conn.engine):
        return None
    if _journal(conn) != "wal":
        return None
    conn.engine.pool.dispose()  # this process's idle connections would hold the database open
    dbapi: Any = conn.connection.dbapi_connection
    timeout = dbapi.execute("PRAGMA busy_timeout").fetchone()[0]
    dbapi.execute("PRAGMA busy_timeout = 0")
    try:
        mode = _journal(conn, "DELETE")
    except conn.dialect.loaded_dbapi.OperationalError:  # locked: someone else has it open
        mode = "wal"
    finally:
        dbapi.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    if mode == "wal":
        log.info("another connection has the SQLite database open: the load keeps WAL")
        return None
    return "WAL"


def load_seed(
    engine: Engine,
    seed: SeedFile | SeedStream,
    *,
    only_if_empty: bool = False,
    file: str | Path | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK_MEETINGS,
    bulk_journal: bool = False,
) -> LoadReport:
    """Merge a seed file into the database by slug (stable ids).

    Records new to the database are created; records it has (same slug) whose fields
    differ from the file's are updated, with their search rows; the others are left
    untouched (their updated_at too). Records the database has and the file does not
    are kept. Everything happens in one write transaction: on any error nothing is
    kept, and loading the same file twice changes nothing the second time.

    Links merge the same way, never deleting: a directive's assignees are matched
    by slug when the file gives one, else by role and organization or person; its
    `addresses` the file lacks are added; a meeting's reviews are matched by the
    directive reviewed. A directive whose links change gets a new updated_at, as
    through the API. Addresses and reviews may name records of any meeting of the
    file, or else of the database.

    `seed` is a whole validated file (read_seed) or a stream (open_seed), read meeting by
    meeting: the meetings are merged `chunk` at a time (one round of look-ups, then their
    links, search rows and change-feed entries), so memory stays flat whatever the file's
    size. A problem anywhere in a streamed file raises SeedError at its end, and nothing is
    kept.

    A record whose slug the database gives to a record of another meeting (an
    assignee: of another directive), a participant for a person already in the
    meeting under another slug, or a reference that resolves to nothing, raises
    SeedError naming their JSON paths (`file` is the name used in its report; by
    default the stream's path). `dry_run` counts what would be created, updated and
    left unchanged, and writes nothing. `progress` is called with 1 after each meeting.

    `bulk_journal`: a streamed file of ROLLBACK_JOURNAL_MIN_BYTES or more loaded into an empty
    SQLite database may go through the rollback journal (see _rollback_journal), which locks
    readers out until the load ends: for `seed load`, the command, not for a server's start.
    """
    stream = seed if isinstance(seed, SeedStream) else None
    if file is None:
        file = stream.path if stream is not None else "<seed>"
    actor = f"seed:{Path(file).name}"
    report = LoadReport(dry_run=dry_run)
    big = bulk_journal and stream is not None and stream.size >= ROLLBACK_JOURNAL_MIN_BYTES
    with (engine if dry_run else writer(engine)).connect() as conn:
        journal = _rollback_journal(conn) if big and not dry_run and is_empty(engine) else None
        try:
            with conn.begin():
                _lock(conn)
                if only_if_empty and conn.execute(select(func.count()).select_from(t(Meeting))).scalar_one():
                    return report
                _tune(conn)
                try:
                    # the writes of one chunk run while the next is read (app.background)
                    with (
                        _fewer_collections(),
                        nullcontext() if dry_run else background_writes(conn, WRITES_QUEUED),
                    ):
                        _load(conn, seed, stream, report, file, actor, progress, chunk)
                finally:
                    _untune(conn)
        finally:
            if journal is not None:
                _journal(conn, journal)
    if not dry_run and not is_sqlite(engine) and sum(report.created.values()) >= ANALYZE_AFTER:
        # The planner's statistics of the tables just filled: without them PostgreSQL guesses
        # (status = 'open' judged to keep 24 of 6,000 directives) and picks slow plans until
        # autovacuum comes round to the tables. VACUUM also sets their visibility map, without
        # which no index-only scan: the total of /directives?status=open counted 29,500 rows of
        # 60,000 in 39 ms by a sequential scan, and in 8.7 ms from the index once vacuumed.
        # (VACUUM runs outside a transaction: after the load's commit.)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as auto:
            for table in SQLModel.metadata.sorted_tables:
                auto.exec_driver_sql(f"VACUUM (ANALYZE) {table.name}")
    return report


@contextmanager
def _fresh_postgresql(conn: Connection, fresh: bool) -> Iterator[Connection | None]:
    """A load into an empty PostgreSQL database (`fresh`): its per-row triggers off if they may be
    (checked at the end instead), and a connection for the sequences, whose next values give its
    ids (_Bulk). Anything else: nothing to do (None)."""
    if not fresh or is_sqlite(conn.engine):
        yield None
        return
    unchecked = _without_reference_triggers(conn)
    with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as sequences:
        yield sequences
    if unchecked:
        _check_references(conn)


def _load(
    conn: Connection,
    seed: SeedFile | SeedStream,
    stream: SeedStream | None,
    report: LoadReport,
    file: str | Path,
    actor: str,
    progress: Callable[[int], None] | None,
    chunk: int,
) -> None:
    """load_seed's body, in its transaction."""
    mark = changes.seed_mark(conn)  # the change feed: see _flush
    # A stream's slugs are unique in the file (References): loaded into a database without any
    # record, none of them can be there. Else each chunk's are looked up.
    fresh = BULK and stream is not None and not report.dry_run and not any(mark.values())
    with _fresh_postgresql(conn, fresh) as sequences:
        merge = _Merge(conn, _Present(), report, {})
        bulk = _Bulk(conn, merge, sequences) if BULK and merge.write else None
        if bulk is not None and fresh:
            merge.written = {kind: Hashes(values="q") for kind in ("directives", "shortcomings")}
            merge.fresh = bulk
        if fresh and is_sqlite(conn.engine):
            search_index.sqlite_defer_merges(conn)  # merged at the end: sqlite_merge_all
        people: dict[str, int] = {}
        documents: dict[str, int] = {}
        conflicts: list[str] = []
        done = 0
        analyzed = ANALYZE_AFTER // 2  # records created at the last ANALYZE (see _analyze)
        for kind, batch in _batched(_records(seed), chunk):
            if stream is not None and stream.problems:
                continue  # read on for the file's other problems; nothing more is written
            if bulk is not None:
                bulk.largest = dict(mark)  # current: each batch ends with _flush, which takes the next
            if kind == "people":
                merge.present = present = _Present() if fresh else _present(conn, batch, [])
                merge.names.update((p.slug, p.full_name) for p in batch)
                if bulk is not None and not present.people:
                    people.update(bulk.people(batch))
                else:
                    ids = merge.records("people", batch, present.people, _person_row)
                    renamed = [
                        p.slug for p in batch if p.slug in present.people and present.people[p.slug][1] != p
                    ]
                    merge.people_renamed(ids, renamed)
                    people.update(ids)
            elif kind == "documents":
                merge.present = present = _Present() if fresh else _present(conn, [], batch)
                if bulk is not None and not present.documents:
                    documents.update(bulk.documents(batch))
                else:
                    documents.update(merge.records("documents", batch, present.documents, _document_row))
            else:
                if fresh:
                    merge.present = _Present(children={k: {} for k in _RECORD_KINDS})
                else:
                    _present_meetings(conn, merge.present, batch)
                found = merge.present
                merge.old_directives.update(id_ for id_, _, _ in found.children["directives"].values())
                conflicts += _conflicts(batch, found, done)
                if conflicts:
                    done += len(batch)
                    continue  # look on for other conflicts; nothing more is written
                new = not found.meetings and not found.assignee_of and not any(found.children.values())
                if bulk is not None and new:
                    bulk.meetings(batch, done, people, documents)
                for m_i, m in enumerate(batch, done):
                    if bulk is None or not new:
                        merge.meeting(m_i, m, people, documents)
                    merge.pending(m_i, m)
                    if progress is not None:
                        progress(1)
                done += len(batch)
                merge.link(final=False)
                merge.forget()
            mark = _flush(conn, merge, mark, actor)
            created = sum(report.created.values())
            if created >= 2 * analyzed and merge.write and not is_sqlite(conn.engine):
                _analyze(conn)
                analyzed = created
        if stream is not None:
            stream.finish()  # SeedError if any problem: the transaction is rolled back
        if conflicts:
            raise SeedError(file, conflicts)
        merge.link(final=True)
        if merge.problems:
            raise SeedError(file, merge.problems)
        merge.finish()
        _flush(conn, merge, mark, actor)
        if fresh and is_sqlite(conn.engine):
            search_index.sqlite_merge_all(conn)


# PostgreSQL checks a foreign key with a trigger per row written, which looks the parent up and
# locks it (FOR KEY SHARE): loading 10,000 meetings, 35.4-37.2 s of the server's CPU, and
# 27.4-28.7 s without them (the load 40.9-42.8 -> 33.4-34.2 s). A load into an empty database
# can skip them: its rows refer to the records it wrote, by ids it gave them, and to nothing
# else; every reference of the file was resolved before (References, link()). Its tables are
# then checked once, at its end (_check_references). The setting turns off every trigger and
# rule: it is used only where the schema has none but the foreign keys' own.
REPLICA_ROLE = "SET LOCAL session_replication_role = replica"
OWN_TRIGGERS = """SELECT EXISTS (
    SELECT FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
) OR EXISTS (
    SELECT FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
    WHERE c.relnamespace = current_schema()::regnamespace AND r.rulename <> '_RETURN'
)"""


def _without_reference_triggers(conn: Connection) -> bool:
    """PostgreSQL: the per-row triggers off until the load's transaction ends (foreign keys
    included); False if the schema's tables have triggers or rules of their own (someone
    added them: they fire), or if the database's role may not turn them off (a superuser, or
    one granted SET on session_replication_role, may): the load then goes on with them."""
    if conn.exec_driver_sql(OWN_TRIGGERS).scalar_one():
        log.info("foreign keys checked row by row: the schema has triggers or rules of its own")
        return False
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(REPLICA_ROLE)
    except DBAPIError as exc:
        log.info("foreign keys checked row by row (session_replication_role: %s)", exc.orig)
        return False
    return True


def _check_references(conn: Connection) -> None:
    """Every foreign key of every table, checked over all its rows: one anti-join each. A row
    referring to nothing is a fault of the loader's (the file's references were checked): it
    raises, and the load's transaction is rolled back."""
    faults: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        for constraint in table.foreign_key_constraints:
            pairs = [(element.parent, element.column) for element in constraint.elements]
            parent = pairs[0][1].table
            missing = ~exists(select(1).select_from(parent).where(and_(*(p == c for c, p in pairs))))
            present = and_(*(c.is_not(None) for c, _ in pairs))
            row = conn.execute(select(*(c for c, _ in pairs)).where(present, missing).limit(1)).first()
            if row is not None:
                names = ", ".join(c.name for c, _ in pairs)
                faults.append(f"{table.name}({names}) = {tuple(row)} refers to no row of {parent.name}")
    if faults:
        raise RuntimeError("the load wrote references to nothing: " + "; ".join(faults))
