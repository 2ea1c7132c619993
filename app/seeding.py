"""Creating the schema and loading seed files, in one transaction each."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import app.search_index  # noqa: F401  (registers the full-text DDL)
from app import migrations
from app.db import is_sqlite, writer
from app.models import (
    Directive,
    Document,
    Finding,
    Meeting,
    MeetingDocument,
    Participant,
    Person,
    SearchDocument,
    Shortcoming,
)
from app.search_index import search_row
from app.seed_schema import SeedError, SeedFile
from app.text import fold

# Records a load must create for PostgreSQL's statistics to be refreshed at its end.
ANALYZE_AFTER = 1000


def t(model: Any) -> Table:
    table: Table = model.__table__
    return table


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    skipped_meetings: list[str] = field(default_factory=list)

    def add(self, kind: str, n: int) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    def summary(self) -> str:
        made = ", ".join(f"{n} {k}" for k, n in self.created.items() if n) or "nothing new"
        skipped = (
            f"; {len(self.skipped_meetings)} meeting(s) already present" if self.skipped_meetings else ""
        )
        return f"created {made}{skipped}"


def _lock(conn: Connection) -> None:
    """Serialise schema creation and seeding between workers starting together."""
    if not is_sqlite(conn.engine):
        conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))


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


def _insert_many(conn: Connection, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = t(model)
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows))
    return [r[0] for r in result]


def _existing(conn: Connection, model: Any, slugs: Sequence[str]) -> dict[str, int]:
    if not slugs:
        return {}
    table = t(model)
    found: dict[str, int] = {}
    for i in range(0, len(slugs), 500):
        chunk = list(slugs[i : i + 500])
        rows = conn.execute(select(table.c.slug, table.c.id).where(table.c.slug.in_(chunk)))
        found.update({slug: id_ for slug, id_ in rows})
    return found


_CHILDREN: tuple[tuple[str, Any], ...] = (
    ("participants", Participant),
    ("directives", Directive),
    ("shortcomings", Shortcoming),
    ("findings", Finding),
)


def _slug_conflicts(conn: Connection, seed: SeedFile, present: dict[str, int]) -> list[str]:
    """Slugs of a new meeting's records that the database already has (under another meeting)."""
    problems: list[str] = []
    for m_i, m in enumerate(seed.meetings):
        if m.slug in present:
            continue
        for kind, model in _CHILDREN:
            items = getattr(m, kind)
            taken = _existing(conn, model, [item.slug for item in items])
            problems.extend(
                f"meetings[{m_i}].{kind}[{i}].slug: slug '{item.slug}' already exists in the database"
                for i, item in enumerate(items)
                if item.slug in taken
            )
    return problems


def load_seed(
    engine: Engine, seed: SeedFile, *, only_if_empty: bool = False, file: str | Path = "<seed>"
) -> LoadReport:
    """Insert what the seed has and the database lacks (matched by slug).

    Everything happens in one write transaction: on any error nothing is kept.
    Loading the same file twice creates nothing the second time. A new meeting
    whose records reuse slugs already in the database raises SeedError naming
    their JSON paths (`file` is the name used in its report).
    """
    report = LoadReport()
    with writer(engine).begin() as conn:
        _lock(conn)
        if only_if_empty and conn.execute(select(func.count()).select_from(t(Meeting))).scalar_one():
            return report
        search: list[dict[str, Any]] = []
        present = _existing(conn, Meeting, [m.slug for m in seed.meetings])
        conflicts = _slug_conflicts(conn, seed, present)
        if conflicts:
            raise SeedError(file, conflicts)

        people = _existing(conn, Person, [p.slug for p in seed.people])
        new_people = [p for p in seed.people if p.slug not in people]
        ids = _insert_many(
            conn,
            Person,
            [
                {"slug": p.slug, "full_name": p.full_name, "name_folded": fold(p.full_name)}
                for p in new_people
            ],
        )
        for p, id_ in zip(new_people, ids, strict=True):
            people[p.slug] = id_
            search.append(search_row("person", id_, None, p.full_name))
        report.add("people", len(ids))
        names = {p.slug: p.full_name for p in seed.people}

        documents = _existing(conn, Document, [d.slug for d in seed.documents])
        new_docs = [d for d in seed.documents if d.slug not in documents]
        ids = _insert_many(conn, Document, [d.model_dump() for d in new_docs])
        for doc, id_ in zip(new_docs, ids, strict=True):
            documents[doc.slug] = id_
            search.append(search_row("document", id_, None, doc.title, doc.number, doc.issuer))
        report.add("documents", len(ids))

        for m in seed.meetings:
            if m.slug in present:
                report.skipped_meetings.append(m.slug)
                continue
            (meeting_id,) = _insert_many(
                conn,
                Meeting,
                [
                    {
                        **m.model_dump(
                            include={
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
                            }
                        ),
                        "source_publisher": m.source.publisher,
                        "source_title": m.source.title,
                        "source_published_at": m.source.published_at,
                        "source_author": m.source.author,
                        "source_photographer": m.source.photographer,
                        "source_url": m.source.url,
                        "source_file": m.source.file,
                    }
                ],
            )
            report.add("meetings", 1)
            search.append(
                search_row("meeting", meeting_id, meeting_id, m.title, m.purpose, m.summary, m.organizer)
            )

            part_ids = _insert_many(
                conn,
                Participant,
                [
                    {
                        "slug": p.slug,
                        "meeting_id": meeting_id,
                        "person_id": people[p.person],
                        "title": p.title,
                        "organization": p.organization,
                        "role": p.role,
                        "source_quote": p.source_quote,
                    }
                    for p in m.participants
                ],
            )
            participants = {p.slug: id_ for p, id_ in zip(m.participants, part_ids, strict=True)}
            for part, id_ in zip(m.participants, part_ids, strict=True):
                search.append(
                    search_row(
                        "participant",
                        id_,
                        meeting_id,
                        f"{names.get(part.person, part.person)}, {part.title}",
                        part.organization,
                    )
                )
            report.add("participants", len(part_ids))

            dir_rows = [
                {
                    **d.model_dump(exclude={"issued_by"}),
                    "meeting_id": meeting_id,
                    "issued_by": participants[d.issued_by],
                }
                for d in m.directives
            ]
            for dseed, id_ in zip(m.directives, _insert_many(conn, Directive, dir_rows), strict=True):
                search.append(search_row("directive", id_, meeting_id, dseed.text, *dseed.addressees))
                report.add("directives", 1)

            sc_rows = [{**s.model_dump(), "meeting_id": meeting_id} for s in m.shortcomings]
            for s, id_ in zip(m.shortcomings, _insert_many(conn, Shortcoming, sc_rows), strict=True):
                search.append(search_row("shortcoming", id_, meeting_id, s.text, *s.concerns))
                report.add("shortcomings", 1)

            f_rows = [{**f.model_dump(), "meeting_id": meeting_id} for f in m.findings]
            for f, id_ in zip(m.findings, _insert_many(conn, Finding, f_rows), strict=True):
                search.append(search_row("finding", id_, meeting_id, f.text))
                report.add("findings", 1)

            if m.documents:
                conn.execute(
                    insert(t(MeetingDocument)),
                    [
                        {
                            "meeting_id": meeting_id,
                            "document_id": documents[c.document],
                            "source_quote": c.source_quote,
                        }
                        for c in m.documents
                    ],
                )
                report.add("citations", len(m.documents))

        if search:
            conn.execute(insert(t(SearchDocument)), search)
        if not is_sqlite(conn.engine) and sum(report.created.values()) >= ANALYZE_AFTER:
            # The planner's statistics of the tables just filled: without them PostgreSQL guesses
            # (status = 'open' judged to keep 24 of 6,000 directives) and picks slow plans until
            # autovacuum comes round to the tables.
            for table in SQLModel.metadata.sorted_tables:
                conn.exec_driver_sql(f"ANALYZE {table.name}")
    return report
