"""How each resource is read: its SELECT (plain columns, no ORM objects), sort
keys, public model and search type. Routers build on these."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app import clock
from app.errors import NotFound
from app.fastread import OneStatement, RawQuery, Shape, columns_for, json_array_agg, model_object
from app.models import (
    Directive,
    DirectiveAssignee,
    DirectiveEvent,
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
from app.models.directive import DirectiveEventPublic, DirectivePublic, Progress
from app.models.document import CitationPublic, DocumentPublic
from app.models.finding import FindingPublic
from app.models.links import AssigneePublic, ReviewPublic
from app.models.meeting import MeetingPublic
from app.models.participant import ParticipantPublic
from app.models.person import PersonPublic
from app.models.shortcoming import ShortcomingPublic
from app.pagination import Sorting, SortKey

MAX_ID = 2**31 - 1  # ids are INTEGER columns on both back ends


def table(model: Any) -> Table:
    t: Table = model.__table__
    return t


meeting_t = table(Meeting)
person_t = table(Person)
participant_t = table(Participant)
directive_t = table(Directive)
shortcoming_t = table(Shortcoming)
finding_t = table(Finding)
document_t = table(Document)
citation_t = table(MeetingDocument)
event_t = table(DirectiveEvent)
assignee_t = table(DirectiveAssignee)
addresses_t = table(DirectiveShortcoming)
review_t = table(DirectiveReview)


@dataclass(frozen=True)
class Resource:
    name: str  # singular, as in error messages and search hit types
    path: str  # collection path under /api/v1
    table: Table
    public: type[Any]
    sorting: Sorting

    def select(self) -> Select[Any]:
        return select(*self.table.c)

    def count(self) -> Select[Any]:
        """Counts what select() returns: filters may only name this FROM's columns.

        The joins of select() only add columns (every row has its one match), so
        counting the table alone gives the same number at a fraction of the cost.
        """
        return select(func.count()).select_from(self.table)

    @cached_property
    def shape(self) -> Shape:
        """The JSON shape of `public`, for the fast read path (app/fastread.py)."""
        return Shape(self.public)

    def links(self) -> list[ColumnElement[Any]]:
        """The public model's fields of linked records, as labelled SQL (JSON aggregates), for the
        fast read path; the slow paths load them in `publics` instead."""
        return []

    @cached_property
    def fast_select(self) -> Select[Any]:
        """select() with exactly the columns of the public model, in its field order (built once:
        building the SELECT of directives costs more than running it)."""
        return columns_for(self.shape, self.select().add_columns(*self.links()))

    @cached_property
    def fast_by_id(self) -> RawQuery:
        return RawQuery(self.fast_select.where(self.table.c.id == bindparam("ref")))

    @cached_property
    def fast_by_slug(self) -> RawQuery:
        return RawQuery(self.fast_select.where(self.table.c.slug == bindparam("ref")))

    def fast_ref(self, ref: str) -> tuple[bool, int | str]:
        """(by id?, the value to look for) of a record reference: an integer id or a slug; 404
        for an id no record can have."""
        if ref.isdigit():
            if int(ref) > MAX_ID:  # ids are 32-bit integers on every back end: this names nothing
                raise NotFound(f"No {self.name} with id or slug {ref!r}.")
            return True, int(ref)
        return False, ref

    def not_found(self, ref: str) -> NotFound:
        return NotFound(f"No {self.name} with id or slug {ref!r}.")

    def fast_get(self, cur: Any, dialect: Any, ref: str) -> dict[str, Any]:
        """The record named by integer id or slug, as the JSON-ready dict of its public model, or 404."""
        return self.fast_statement(ref).reader(dialect)(cur)

    def fast_statement(self, ref: str) -> OneStatement[dict[str, Any]]:
        """fast_get as one statement (app.loopreads runs it on the event loop)."""
        by_id, value = self.fast_ref(ref)

        def finish(rows: list[Any]) -> dict[str, Any]:
            if not rows:
                raise self.not_found(ref)
            return self.shape.record(rows[0])

        return OneStatement(self.fast_by_id if by_id else self.fast_by_slug, {"ref": value}, finish)

    def to_public(self, row: Any) -> Any:
        # pydantic's own validator: SQLModel's model_validate wrapper costs about
        # as much again per row, for table models only, which these are not.
        return self.public.__pydantic_validator__.validate_python(dict(row))

    def publics(self, conn: Any, rows: Any) -> list[Any]:
        """The public records of these rows; resources with linked records (a directive's
        assignees) load those for all the rows at once here, in one query per link."""
        return [self.to_public(r) for r in rows]

    @cached_property
    def _by_id(self) -> Select[Any]:
        return self.select().where(self.table.c.id == bindparam("ref"))

    @cached_property
    def _by_slug(self) -> Select[Any]:
        return self.select().where(self.table.c.slug == bindparam("ref"))

    def get(self, session: Session | Connection, ref: str) -> Any:
        """Load by integer id or slug, or raise 404."""
        value: int | str
        if ref.isdigit():
            if int(ref) > MAX_ID:  # ids are 32-bit integers on every back end: this names nothing
                raise NotFound(f"No {self.name} with id or slug {ref!r}.")
            stmt, value = self._by_id, int(ref)
        else:
            stmt, value = self._by_slug, ref
        row = session.execute(stmt, {"ref": value}).mappings().first()
        if row is None:
            raise NotFound(f"No {self.name} with id or slug {ref!r}.")
        return self.publics(session, [row])[0]

    def ref_clause(self, ref: str) -> ColumnElement[bool]:
        if ref.isdigit():
            value = int(ref)
            # Ids are 32-bit integers on every back end: a larger one names nothing.
            return self.table.c.id == value if value <= MAX_ID else false()
        return self.table.c.slug == ref


class _Participants(Resource):
    def select(self) -> Select[Any]:
        return select(*participant_t.c, person_t.c.full_name.label("person_name")).join(
            person_t, person_t.c.id == participant_t.c.person_id
        )


def _today() -> Any:
    return clock.today()


def today_param() -> Any:
    """Today (app.clock), read when the statement runs, so cached statements stay right."""
    return bindparam("today", callable_=_today, type_=Date())


def progress_clause(progress: Progress) -> ColumnElement[bool]:
    """The directives in one follow-up category, as SQL (mirrors `progress_column`)."""
    c = directive_t.c
    unfinished = c.status.not_in(("done", "cancelled"))
    on_time = or_(c.due_date.is_(None), c.done_on.is_(None), c.done_on <= c.due_date)
    if progress is Progress.overdue:
        return and_(unfinished, c.due_date.is_not(None), c.due_date < today_param())
    if progress is Progress.in_progress_on_time:
        return and_(unfinished, or_(c.due_date.is_(None), c.due_date >= today_param()))
    if progress is Progress.done_on_time:
        return and_(c.status == "done", on_time)
    return and_(c.status == "done", ~on_time)


def progress_column() -> ColumnElement[Any]:
    return case(
        (directive_t.c.status == "cancelled", null()),
        *((progress_clause(p), p.value) for p in Progress),
        else_=null(),
    ).label("progress")


class _Directives(Resource):
    def select(self) -> Select[Any]:
        return (
            select(
                *directive_t.c,
                progress_column(),
                participant_t.c.person_id.label("issued_by_person_id"),
                person_t.c.full_name.label("issued_by_name"),
            )
            .join(participant_t, participant_t.c.id == directive_t.c.issued_by)
            .join(person_t, person_t.c.id == participant_t.c.person_id)
        )

    def links(self) -> list[ColumnElement[Any]]:
        return [_assignees_json().label("assignees"), _addresses_json().label("addresses")]

    def publics(self, conn: Any, rows: Any) -> list[Any]:
        rows = [dict(r) for r in rows]
        ids = [r["id"] for r in rows]
        assignees = grouped(conn, ASSIGNEES.select(), assignee_t.c.directive_id, ids)
        addresses = linked_ids(conn, addresses_t.c.directive_id, addresses_t.c.shortcoming_id, ids)
        for r in rows:
            r["assignees"] = [dict(a) for a in assignees.get(r["id"], ())]
            r["addresses"] = addresses.get(r["id"], [])
        return [self.to_public(r) for r in rows]


class _Shortcomings(Resource):
    def links(self) -> list[ColumnElement[Any]]:
        return [_addressed_by_json().label("addressed_by")]

    def publics(self, conn: Any, rows: Any) -> list[Any]:
        rows = [dict(r) for r in rows]
        by = linked_ids(
            conn, addresses_t.c.shortcoming_id, addresses_t.c.directive_id, [r["id"] for r in rows]
        )
        for r in rows:
            r["addressed_by"] = by.get(r["id"], [])
        return [self.to_public(r) for r in rows]


class _Assignees(Resource):
    def select(self) -> Select[Any]:
        return select(*assignee_t.c, person_t.c.full_name.label("person_name")).outerjoin(
            person_t, person_t.c.id == assignee_t.c.person_id
        )


# The links as JSON aggregates (the fast read path), in the order `publics` gives them: a
# directive's assignees by id, the ids of shortcomings and directives ascending.


def _assignees_json() -> ColumnElement[Any]:
    person = person_t.alias("assignee_person")
    by_name = {
        **{c.key: c for c in assignee_t.c},
        "person_name": person.c.full_name,
    }
    return (
        select(json_array_agg(model_object(AssigneePublic, by_name), assignee_t.c.id))
        .select_from(assignee_t.outerjoin(person, person.c.id == assignee_t.c.person_id))
        .where(assignee_t.c.directive_id == directive_t.c.id)
        .correlate(directive_t)
        .scalar_subquery()
    )


def _addresses_json() -> ColumnElement[Any]:
    return (
        select(json_array_agg(addresses_t.c.shortcoming_id, addresses_t.c.shortcoming_id))
        .where(addresses_t.c.directive_id == directive_t.c.id)
        .correlate(directive_t)
        .scalar_subquery()
    )


def _addressed_by_json() -> ColumnElement[Any]:
    return (
        select(json_array_agg(addresses_t.c.directive_id, addresses_t.c.directive_id))
        .where(addresses_t.c.shortcoming_id == shortcoming_t.c.id)
        .correlate(shortcoming_t)
        .scalar_subquery()
    )


def grouped(conn: Any, stmt: Select[Any], key: Any, ids: list[int]) -> dict[int, list[Any]]:
    """The rows of `stmt` whose `key` is one of `ids`, by key, in id order: one query."""
    out: dict[int, list[Any]] = {}
    if not ids:
        return out
    for row in conn.execute(stmt.where(key.in_(ids)).order_by(key, stmt.selected_columns.id)).mappings():
        out.setdefault(row[key.name], []).append(row)
    return out


def linked_ids(conn: Any, key: Any, other: Any, ids: list[int]) -> dict[int, list[int]]:
    """For each of `ids` (values of `key`), the `other` ids linked to it, ascending: one query."""
    out: dict[int, list[int]] = {}
    if not ids:
        return out
    for k, o in conn.execute(select(key, other).where(key.in_(ids)).order_by(key, other)):
        out.setdefault(k, []).append(o)
    return out


def _sorting(t: Table, default: str, **extra: SortKey) -> Sorting:
    keys = {"id": SortKey.integer(t.c.id)}
    if "meeting_id" in t.c:
        keys["meeting_id"] = SortKey.integer(t.c.meeting_id)
    keys.update(extra)
    return Sorting(keys=keys, default=default)


MEETINGS = Resource(
    "meeting",
    "/meetings",
    meeting_t,
    MeetingPublic,
    Sorting(
        keys={
            "date": SortKey.date(meeting_t.c.date),
            "title": SortKey.text(meeting_t.c.title),
            "id": SortKey.integer(meeting_t.c.id),
        },
        default="-date",
    ),
)
PEOPLE = Resource(
    "person",
    "/people",
    person_t,
    PersonPublic,
    _sorting(person_t, "full_name", full_name=SortKey.text(person_t.c.name_folded)),
)
PARTICIPANTS = _Participants(
    "participant",
    "/participants",
    participant_t,
    ParticipantPublic,
    _sorting(participant_t, "id", role=SortKey.text(participant_t.c.role)),
)
DIRECTIVES = _Directives(
    "directive",
    "/directives",
    directive_t,
    DirectivePublic,
    _sorting(directive_t, "id", status=SortKey.text(directive_t.c.status)),
)
DIRECTIVE_EVENTS = Resource(
    "directive event",
    "/directives/{ref}/history",
    event_t,
    DirectiveEventPublic,
    Sorting(keys={"id": SortKey.integer(event_t.c.id)}, default="id"),
)
SHORTCOMINGS = _Shortcomings(
    "shortcoming", "/shortcomings", shortcoming_t, ShortcomingPublic, _sorting(shortcoming_t, "id")
)
ASSIGNEES = _Assignees(
    "assignee",
    "/directives/{ref}/assignees",
    assignee_t,
    AssigneePublic,
    _sorting(assignee_t, "id", role=SortKey.text(assignee_t.c.role)),
)
REVIEWS = Resource(
    "review",
    "/meetings/{ref}/reviews",
    review_t,
    ReviewPublic,
    _sorting(review_t, "id", directive_id=SortKey.integer(review_t.c.directive_id)),
)
FINDINGS = Resource("finding", "/findings", finding_t, FindingPublic, _sorting(finding_t, "id"))
DOCUMENTS = Resource(
    "document",
    "/documents",
    document_t,
    DocumentPublic,
    _sorting(
        document_t,
        "id",
        title=SortKey.text(document_t.c.title),
        kind=SortKey.text(document_t.c.kind),
    ),
)


class _Citations(Resource):
    def select(self) -> Select[Any]:
        return select(*document_t.c, citation_t.c.meeting_id, citation_t.c.source_quote).join(
            citation_t, citation_t.c.document_id == document_t.c.id
        )

    def count(self) -> Select[Any]:
        return (
            select(func.count())
            .select_from(document_t)
            .join(citation_t, citation_t.c.document_id == document_t.c.id)
        )


CITATIONS = _Citations(
    "document",
    "/documents",
    document_t,
    CitationPublic,
    _sorting(document_t, "id", title=SortKey.text(document_t.c.title), kind=SortKey.text(document_t.c.kind)),
)
