"""Seed-format records built from database rows, and the whole-database export.

This module is the one place that turns rows into seed models (app/seed_schema.py):
the export writes them, and the merging loader (app/seeding.py) compares a file's
records with them to tell what changed. A field added to the seed format is added
here (and to the loader's row builders), nowhere else.

The export is streamed: people and documents in keyset batches by id, then the
meetings in keyset batches, each batch's records fetched with one query per kind.
Memory stays flat whatever the size of the database; everything is read in one
transaction (REPEATABLE READ on PostgreSQL), so the file is one consistent state.
Records refer to each other by slug, as in every seed file.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select, select

from app.db import is_sqlite
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
    Shortcoming,
)
from app.seed_schema import (
    SCHEMA_VERSION,
    AssigneeSeed,
    CitationSeed,
    DirectiveSeed,
    DocumentSeed,
    FindingSeed,
    MeetingSeed,
    ParticipantSeed,
    PersonSeed,
    ReviewSeed,
    ShortcomingSeed,
    SourceSeed,
)

BATCH = 200
CHUNK = 500  # values per IN (...) list

person_t = Person.__table__  # type: ignore[attr-defined]
document_t = Document.__table__  # type: ignore[attr-defined]
meeting_t = Meeting.__table__  # type: ignore[attr-defined]
participant_t = Participant.__table__  # type: ignore[attr-defined]
directive_t = Directive.__table__  # type: ignore[attr-defined]
shortcoming_t = Shortcoming.__table__  # type: ignore[attr-defined]
finding_t = Finding.__table__  # type: ignore[attr-defined]
citation_t = MeetingDocument.__table__  # type: ignore[attr-defined]
assignee_t = DirectiveAssignee.__table__  # type: ignore[attr-defined]
addresses_t = DirectiveShortcoming.__table__  # type: ignore[attr-defined]
review_t = DirectiveReview.__table__  # type: ignore[attr-defined]

# The kinds of records that belong to one meeting, as the seed format names them.
CHILD_KINDS = ("participants", "directives", "shortcomings", "findings", "documents", "reviews")


# --- rows -> seed models --------------------------------------------------------------------------


def person_seed(row: RowMapping) -> PersonSeed:
    return PersonSeed(slug=row["slug"], full_name=row["full_name"])


def document_seed(row: RowMapping) -> DocumentSeed:
    return DocumentSeed.model_validate(
        {k: row[k] for k in ("slug", "kind", "number", "title", "issuer", "issued_on")}
    )


def participant_seed(row: RowMapping) -> ParticipantSeed:
    """`row` from PARTICIPANTS (it carries the person's slug)."""
    return ParticipantSeed.model_validate(
        {
            **{k: row[k] for k in ("slug", "title", "organization", "role", "source_quote")},
            "person": row["person_slug"],
        }
    )


def directive_seed(
    row: RowMapping, assignees: Sequence[AssigneeSeed] = (), addresses: Sequence[str] = ()
) -> DirectiveSeed:
    """`row` from DIRECTIVES (it carries the issuing participant's slug); without its links
    (assignees, addresses) unless given."""
    keys = ("slug", "text", "addressees", "status", "due_date", "done_on", "source_quote")
    return DirectiveSeed.model_validate(
        {
            **{k: row[k] for k in keys},
            "issued_by": row["issued_by_slug"],
            "assignees": list(assignees),
            "addresses": list(addresses),
        }
    )


def assignee_seed(row: RowMapping) -> AssigneeSeed:
    """`row` from ASSIGNEES (it carries the person's slug, if a person)."""
    return AssigneeSeed.model_validate(
        {
            **{k: row[k] for k in ("slug", "role", "organization", "source_quote")},
            "person": row["person_slug"],
        }
    )


def review_seed(row: RowMapping) -> ReviewSeed:
    """`row` from REVIEWS (it carries the reviewed directive's slug)."""
    return ReviewSeed(
        directive=row["directive_slug"], outcome=row["outcome"], source_quote=row["source_quote"]
    )


def shortcoming_seed(row: RowMapping) -> ShortcomingSeed:
    return ShortcomingSeed.model_validate({k: row[k] for k in ("slug", "text", "concerns", "source_quote")})


def finding_seed(row: RowMapping) -> FindingSeed:
    return FindingSeed.model_validate({k: row[k] for k in ("slug", "text", "source_quote")})


def citation_seed(row: RowMapping) -> CitationSeed:
    """`row` from CITATIONS (it carries the document's slug)."""
    return CitationSeed(document=row["document_slug"], source_quote=row["source_quote"])


MEETING_FIELDS = (
    "slug",
    "title",
    "date",
    "starts_at",
    "timezone",
    "organizer",
    "format",
    "connection_points",
    "purpose",
    "summary",
)
SOURCE_FIELDS = ("publisher", "title", "published_at", "author", "photographer", "url", "file")


def meeting_seed(row: RowMapping, children: dict[str, list[Any]] | None = None) -> MeetingSeed:
    """The meeting of `row`; `children` maps CHILD_KINDS to its seed records (none by default)."""
    source = SourceSeed.model_validate({k: row[f"source_{k}"] for k in SOURCE_FIELDS})
    return MeetingSeed.model_validate(
        {**{k: row[k] for k in MEETING_FIELDS}, "source": source, **(children or {})}
    )


# The SELECTs the builders above read, with the slugs they refer by. Callers add WHERE.
PEOPLE: Select[Any] = select(*person_t.c)
DOCUMENTS: Select[Any] = select(*document_t.c)
MEETINGS: Select[Any] = select(*meeting_t.c)
PARTICIPANTS: Select[Any] = select(*participant_t.c, person_t.c.slug.label("person_slug")).join(
    person_t, person_t.c.id == participant_t.c.person_id
)
_issuer = participant_t.alias("issuer")
DIRECTIVES: Select[Any] = select(*directive_t.c, _issuer.c.slug.label("issued_by_slug")).join(
    _issuer, _issuer.c.id == directive_t.c.issued_by
)
SHORTCOMINGS: Select[Any] = select(*shortcoming_t.c)
FINDINGS: Select[Any] = select(*finding_t.c)
CITATIONS: Select[Any] = select(*citation_t.c, document_t.c.slug.label("document_slug")).join(
    document_t, document_t.c.id == citation_t.c.document_id
)
ASSIGNEES: Select[Any] = select(*assignee_t.c, person_t.c.slug.label("person_slug")).outerjoin(
    person_t, person_t.c.id == assignee_t.c.person_id
)
ADDRESSES: Select[Any] = select(*addresses_t.c, shortcoming_t.c.slug.label("shortcoming_slug")).join(
    shortcoming_t, shortcoming_t.c.id == addresses_t.c.shortcoming_id
)
REVIEWS: Select[Any] = select(*review_t.c, directive_t.c.slug.label("directive_slug")).join(
    directive_t, directive_t.c.id == review_t.c.directive_id
)

# kind -> (SELECT, its table, builder, ORDER BY within a meeting)
CHILDREN: dict[str, tuple[Select[Any], Any, Any, Any]] = {
    "participants": (PARTICIPANTS, participant_t, participant_seed, participant_t.c.id),
    "directives": (DIRECTIVES, directive_t, directive_seed, directive_t.c.id),
    "shortcomings": (SHORTCOMINGS, shortcoming_t, shortcoming_seed, shortcoming_t.c.id),
    "findings": (FINDINGS, finding_t, finding_seed, finding_t.c.id),
    "documents": (CITATIONS, citation_t, citation_seed, citation_t.c.document_id),
    "reviews": (REVIEWS, review_t, review_seed, review_t.c.id),
}


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield list(values[i : i + size])


def directive_links(
    conn: Connection, directive_ids: Sequence[int]
) -> tuple[dict[int, list[tuple[int, AssigneeSeed]]], dict[int, list[str]]]:
    """Each directive's assignees (with their ids, in id order) and the slugs of the shortcomings
    it addresses (in shortcoming id order), by directive id."""
    assignees: dict[int, list[tuple[int, AssigneeSeed]]] = defaultdict(list)
    for ids in chunks(directive_ids):
        stmt = ASSIGNEES.where(assignee_t.c.directive_id.in_(ids)).order_by(assignee_t.c.id)
        for row in conn.execute(stmt).mappings():
            assignees[row["directive_id"]].append((row["id"], assignee_seed(row)))
    return assignees, directive_addresses(conn, directive_ids)


def directive_addresses(conn: Connection, directive_ids: Sequence[int]) -> dict[int, list[str]]:
    """The slugs of the shortcomings each directive addresses (in shortcoming id order), by id."""
    addresses: dict[int, list[str]] = defaultdict(list)
    for ids in chunks(directive_ids):
        stmt = ADDRESSES.where(addresses_t.c.directive_id.in_(ids)).order_by(addresses_t.c.shortcoming_id)
        for row in conn.execute(stmt).mappings():
            addresses[row["directive_id"]].append(row["shortcoming_slug"])
    return addresses


def meeting_children(conn: Connection, meeting_ids: Sequence[int]) -> dict[int, dict[str, list[Any]]]:
    """The seed records of each meeting's children, by meeting id, in id order (directives with
    their assignees and addresses)."""
    out: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {k: [] for k in CHILD_KINDS})
    for ids in chunks(meeting_ids):
        for kind, (stmt, table, build, order) in CHILDREN.items():
            rows = list(conn.execute(stmt.where(table.c.meeting_id.in_(ids)).order_by(order)).mappings())
            if kind == "directives":
                assignees, addresses = directive_links(conn, [r["id"] for r in rows])
                for row in rows:
                    links = [a for _, a in assignees.get(row["id"], [])]
                    seed = directive_seed(row, links, addresses.get(row["id"], []))
                    out[row["meeting_id"]][kind].append(seed)
                continue
            for row in rows:
                out[row["meeting_id"]][kind].append(build(row))
    return out


# --- reading in keyset batches --------------------------------------------------------------------


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read transaction: every query sees the same state."""
    options: dict[str, Any] = {} if is_sqlite(engine) else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


def batches(
    conn: Connection, stmt: Select[Any], id_column: Any, size: int = BATCH
) -> Iterator[list[RowMapping]]:
    """The rows of `stmt` in id order, `size` at a time (keyset: WHERE id > last)."""
    last: int | None = None
    while True:
        page = stmt if last is None else stmt.where(id_column > last)
        rows = list(conn.execute(page.order_by(id_column).limit(size)).mappings())
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1]["id"]


def seed_meetings(conn: Connection, size: int = BATCH) -> Iterator[MeetingSeed]:
    for rows in batches(conn, MEETINGS, meeting_t.c.id, size):
        children = meeting_children(conn, [r["id"] for r in rows])
        for row in rows:
            yield meeting_seed(row, children.get(row["id"]))


def _dump(record: Any) -> str:
    # exclude_none: a seed file leaves out what it does not know (every such field defaults to null).
    text: str = record.model_dump_json(exclude_none=True)
    return text


def _array(name: str, records: Iterable[Any], last: bool = False) -> Iterator[str]:
    yield f'"{name}": ['
    sep = "\n"
    for record in records:
        yield sep + _dump(record)
        sep = ",\n"
    yield "\n]" + ("" if last else ",\n")


def export_chunks(engine: Engine, size: int = BATCH) -> Iterator[str]:
    """The whole database as a seed file, in pieces of JSON text (one record a line)."""
    with snapshot(engine) as conn:
        yield f'{{"schema_version": {SCHEMA_VERSION},\n'
        people = (person_seed(r) for rows in batches(conn, PEOPLE, person_t.c.id, size) for r in rows)
        yield from _array("people", people)
        documents = (
            document_seed(r) for rows in batches(conn, DOCUMENTS, document_t.c.id, size) for r in rows
        )
        yield from _array("documents", documents)
        yield from _array("meetings", seed_meetings(conn, size), last=True)
        yield "}\n"
