"""Creating, changing and deleting records, each in one write transaction.

Every write runs in `writer(engine).begin()`: BEGIN IMMEDIATE on SQLite (the
write lock is taken before the record is read), and SELECT ... FOR UPDATE of
the record's row on PostgreSQL. The If-Match precondition is checked against
the record's ETag recomputed inside that transaction, so of two editors
holding the same ETag exactly one wins and the other gets 412.

The record's search_document row is rewritten in the same transaction, and
so is the change feed (app.changes): each write adds its entry (with the
record's public JSON, or a tombstone for a delete) as its last statement, and a
delete adds one for every record deleted with it (WriteSpec.cascade). And
foreign-key, uniqueness and size problems are reported as 422 or 409 before
the database would raise them; an IntegrityError that still slips through
(a concurrent insert of the same slug on PostgreSQL) becomes 409, never 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, String, delete, exists, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from app import changes, clock
from app.auth import Principal
from app.db import is_sqlite, writer
from app.errors import AppError, InvalidParameter, NotFound
from app.etag import if_match_satisfied, record_etag
from app.models import (
    Directive,
    DirectiveEvent,
    Document,
    IdempotentRequest,
    Meeting,
    MeetingDocument,
    Participant,
    Person,
    SearchDocument,
)
from app.models.change import ChangeAction
from app.models.common import utcnow
from app.models.directive import TRANSITIONS
from app.models.links import folded_words
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
    shortcoming_t,
    table,
)
from app.search_index import search_row
from app.seed_schema import DirectiveStatus
from app.text import fold

search_t = table(SearchDocument)
idempotent_t = table(IdempotentRequest)


class Conflict(AppError):
    status = 409
    slug = "conflict"


class PreconditionRequired(AppError):
    status = 428
    slug = "precondition-required"


class PreconditionFailed(AppError):
    status = 412
    slug = "precondition-failed"


def invalid(name: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"body.{name}", reason)


# Deletes the records that go with a parent being deleted, and returns their change entries
# (arguments: the connection, the parent's public model, the actor).
Cascade = Callable[[Connection, Any, str], list[dict[str, Any]]]
# Records whose public JSON a write changes through their links (an assignee's directive),
# with their update entries (arguments: the connection, the record before the write (None
# for a create), after it (None for a delete), the actor, the write's time). Called after
# the write's own statements, before its entries are recorded.
Affects = Callable[[Connection, Any, Any, str, dt.datetime], list[dict[str, Any]]]


@dataclass(frozen=True)
class WriteSpec:
    resource: Resource
    # The record's search_document row; None for records not searched on their own.
    search: Callable[[Any], dict[str, Any] | None]
    check: Callable[[Connection, dict[str, Any]], None] = lambda _conn, _values: None
    derived: Callable[[dict[str, Any]], dict[str, Any]] = lambda _values: {}
    before_delete: Callable[[Connection, Any], None] = lambda _conn, _public: None
    after_update: Callable[[Connection, Any, dict[str, Any]], None] = lambda _c, _p, _ch: None
    # Before the UPDATE, in its transaction: returns the column changes to make (fields of the
    # body that are no columns removed), and may write other rows (a directive's history).
    before_update: Callable[[Connection, Any, dict[str, Any], Principal | None], dict[str, Any]] = (
        lambda _c, _cur, changes, _who: changes
    )
    not_null: frozenset[str] = field(default_factory=frozenset)
    # Records deleted with this one, in this order, each with its own delete entry in the
    # change feed: `children(SPEC, "parent_id")` for a WriteSpec'd child (grandchildren
    # follow its own cascade). Run after before_delete, before the record's own DELETE.
    cascade: tuple[Cascade, ...] = ()
    # The feed's name for the collection; default: the last segment of the resource's path.
    collection_name: str | None = None
    # app.replay: after a record's row is written from a feed entry, write what else its
    # public JSON carries (rows of link tables). Arguments: connection, public model.
    replay: Callable[[Connection, Any], None] = lambda _conn, _public: None
    # After the INSERT, in its transaction, with the new id and the whole body: writes the
    # fields of the body that are no columns (a directive's `addresses`) to their tables.
    after_insert: Callable[[Connection, int, dict[str, Any]], None] = lambda _c, _id, _v: None
    # The new record's URL, for records read under their parent (default: /{collection}/{id}).
    location: Callable[[Any], str] | None = None
    # Other records this write changes through their links: see Affects. Not run for records
    # deleted by a cascade (their parents' cascades unlink what they must).
    affects: Affects = lambda _conn, _before, _after, _actor, _now: []

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def collection(self) -> str:
        return self.collection_name or self.resource.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Written:
    """A write's outcome: the record (None after a delete) and the response to send."""

    public: Any
    etag: str | None
    status: int = 200
    body: bytes | None = None
    location: str | None = None
    replayed: bool = False


def location_of(spec: WriteSpec, record_id: int) -> str:
    return f"/api/v1{spec.resource.path}/{record_id}"


# --- loading and checks ---------------------------------------------------------------------------


def load(conn: Connection, spec: WriteSpec, ref: str, *, lock: bool = False) -> Any:
    resource = spec.resource
    stmt = resource.select().where(resource.ref_clause(ref))
    if lock and not is_sqlite(conn.engine):  # SQLite: BEGIN IMMEDIATE already holds the write lock
        stmt = stmt.with_for_update(of=resource.table)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(f"No {spec.name} with id or slug {ref!r}.")
    return resource.publics(conn, [row])[0]


def _check_columns(spec: WriteSpec, values: dict[str, Any]) -> None:
    """Refuse nulls in NOT NULL columns and text longer than its column (PostgreSQL would raise)."""
    columns = spec.resource.table.c
    for name, value in values.items():
        if name not in columns:
            continue
        column = columns[name]
        if value is None and (name in spec.not_null or not column.nullable):
            raise invalid(name, "may not be null")
        length = getattr(column.type, "length", None)
        if isinstance(column.type, String) and length and isinstance(value, str) and len(value) > length:
            raise invalid(name, f"at most {length} characters")


def _require_if_match(if_match: str | None) -> str:
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "This request must carry If-Match with the record's current ETag (from GET)."
        )
    return if_match


def _check_if_match(if_match: str, current: Any, spec: WriteSpec) -> None:
    etag = record_etag(current)
    if not if_match_satisfied(if_match, etag):
        raise PreconditionFailed(
            f"The {spec.name} has changed since that ETag was issued; GET it again and retry.",
            current_etag=etag,
        )


def _slug_taken(conn: Connection, spec: WriteSpec, slug: str) -> bool:
    t = spec.resource.table
    return bool(conn.execute(select(exists().where(t.c.slug == slug))).scalar())


def _write_search(conn: Connection, spec: WriteSpec, public: Any) -> None:
    row = spec.search(public)
    if row is None:
        return
    conn.execute(delete(search_t).where(search_t.c.type == spec.name, search_t.c.record_id == public.id))
    conn.execute(insert(search_t).values(**row))


def _integrity(spec: WriteSpec, exc: IntegrityError) -> Conflict:
    return Conflict(f"The {spec.name} conflicts with existing records ({type(exc.orig).__name__}).")


def _data_error(spec: WriteSpec, exc: DataError) -> InvalidParameter:
    return InvalidParameter("body", f"a value does not fit the {spec.name}'s columns")


def actor_of(principal: Principal | None) -> str:
    """Who the change feed says made a change: the API key's name."""
    return principal.name if principal is not None else "unknown"


def children(child: WriteSpec, column: str) -> Cascade:
    """A cascade deleting `child` records whose `column` names the parent, with their own cascades."""

    def cascade(conn: Connection, parent: Any, actor: str) -> list[dict[str, Any]]:
        resource, t = child.resource, child.resource.table
        rows = conn.execute(resource.select().where(t.c[column] == parent.id).order_by(t.c.id)).mappings()
        publics = [resource.to_public(r) for r in rows]
        if not publics:
            return []
        entries: list[dict[str, Any]] = []
        for public in publics:
            for grandchildren in child.cascade:
                entries.extend(grandchildren(conn, public, actor))
        ids = [p.id for p in publics]
        conn.execute(delete(search_t).where(search_t.c.type == child.name, search_t.c.record_id.in_(ids)))
        conn.execute(delete(t).where(t.c.id.in_(ids)))
        now = utcnow()
        entries.extend(
            changes.entry(child.collection, ChangeAction.delete, actor, p, at=now) for p in publics
        )
        return entries

    return cascade


def without_updates_of_deleted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out the update entries of records the same write deletes (a meeting's shortcoming
    unlinked from the meeting's directive before both go): their tombstones say it all."""
    deleted = {(e["collection"], e["record_id"]) for e in entries if e["action"] == ChangeAction.delete.value}
    return [
        e
        for e in entries
        if e["action"] != ChangeAction.update.value or (e["collection"], e["record_id"]) not in deleted
    ]


def touched(
    conn: Connection, resource: Resource, ids: Any, actor: str, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Records whose public JSON changed through their links (a directive's assignees, a
    shortcoming's addressed_by): their updated_at becomes `now`, and each gets an update entry
    with its new data (read after the change, links included)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    now = now or utcnow()
    t = resource.table
    conn.execute(update(t).where(t.c.id.in_(wanted)).values(updated_at=now))
    rows = conn.execute(resource.select().where(t.c.id.in_(wanted)).order_by(t.c.id)).mappings().all()
    collection = changes.collection_of(resource)
    return [
        changes.entry(collection, ChangeAction.update, actor, p, at=now) for p in resource.publics(conn, rows)
    ]


# --- idempotency ----------------------------------------------------------------------------------


def _request_hash(path: str, body: BaseModel) -> str:
    return hashlib.sha256(f"POST {path}\n".encode() + body.model_dump_json().encode()).hexdigest()


def _replay(conn: Connection, principal: Principal, key: str, request_hash: str) -> Written | None:
    row = (
        conn.execute(
            select(idempotent_t).where(idempotent_t.c.api_key_id == principal.id, idempotent_t.c.key == key)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["request_sha256"] != request_hash:
        raise InvalidParameter(
            "header.Idempotency-Key", "already used with a different request; use a new key"
        )
    return Written(
        public=None,
        etag=row["etag"],
        status=row["status"],
        body=row["body"].encode(),
        location=row["location"],
        replayed=True,
    )


# --- the three writes -----------------------------------------------------------------------------


def create(
    engine: Engine,
    spec: WriteSpec,
    body: BaseModel,
    *,
    principal: Principal,
    idempotency_key: str | None = None,
) -> Written:
    values = body.model_dump()
    request_hash = _request_hash(spec.resource.path, body)
    try:
        with writer(engine).begin() as conn:
            if idempotency_key is not None:
                replay = _replay(conn, principal, idempotency_key, request_hash)
                if replay is not None:
                    return replay
            _check_columns(spec, values)
            if values.get("slug") is not None and _slug_taken(conn, spec, values["slug"]):
                raise Conflict(f"A {spec.name} with slug {values['slug']!r} already exists.")
            spec.check(conn, values)
            now = utcnow()
            t = spec.resource.table
            row = {**values, **spec.derived(values), "created_at": now, "updated_at": now}
            row = {name: value for name, value in row.items() if name in t.c}
            record_id = conn.execute(insert(t).values(**row).returning(t.c.id)).scalar_one()
            spec.after_insert(conn, record_id, values)
            public = load(conn, spec, str(record_id))
            _write_search(conn, spec, public)
            etag = record_etag(public)
            payload = public.model_dump_json().encode()
            location = spec.location(public) if spec.location else location_of(spec, record_id)
            if idempotency_key is not None:
                conn.execute(
                    insert(idempotent_t).values(
                        api_key_id=principal.id,
                        key=idempotency_key,
                        request_sha256=request_hash,
                        status=201,
                        location=location,
                        etag=etag,
                        body=payload.decode(),
                        created_at=now,
                    )
                )
            entries = [changes.entry(spec.collection, ChangeAction.create, principal.name, public, at=now)]
            entries.extend(spec.affects(conn, None, public, principal.name, now))
            changes.record(conn, entries)
    except IntegrityError as exc:
        raise _integrity(spec, exc) from exc
    except DataError as exc:
        raise _data_error(spec, exc) from exc
    return Written(public, etag, 201, payload, location)


def modify(
    engine: Engine,
    spec: WriteSpec,
    ref: str,
    body: BaseModel,
    if_match: str | None,
    *,
    principal: Principal | None = None,
) -> Written:
    if_match = _require_if_match(if_match)
    values = body.model_dump(exclude_unset=True)
    _check_columns(spec, values)
    try:
        with writer(engine).begin() as conn:
            current = load(conn, spec, ref, lock=True)
            _check_if_match(if_match, current, spec)
            if values:
                spec.check(conn, {**current.model_dump(), **values})
                values = spec.before_update(conn, current, values, principal)
            if values:
                t = spec.resource.table
                now = utcnow()
                conn.execute(
                    update(t)
                    .where(t.c.id == current.id)
                    .values({**values, **spec.derived(values), "updated_at": now})
                )
                public = load(conn, spec, str(current.id))
                _write_search(conn, spec, public)
                spec.after_update(conn, public, values)
                actor = actor_of(principal)
                entries = [changes.entry(spec.collection, ChangeAction.update, actor, public, at=now)]
                entries.extend(spec.affects(conn, current, public, actor, now))
                changes.record(conn, entries)
            else:
                public = current
    except IntegrityError as exc:
        raise _integrity(spec, exc) from exc
    except DataError as exc:
        raise _data_error(spec, exc) from exc
    return Written(public, record_etag(public))


def remove(
    engine: Engine, spec: WriteSpec, ref: str, if_match: str | None, *, principal: Principal | None = None
) -> None:
    if_match = _require_if_match(if_match)
    actor = actor_of(principal)
    try:
        with writer(engine).begin() as conn:
            current = load(conn, spec, ref, lock=True)
            _check_if_match(if_match, current, spec)
            spec.before_delete(conn, current)
            entries: list[dict[str, Any]] = []
            for cascade in spec.cascade:
                entries.extend(cascade(conn, current, actor))
            conn.execute(
                delete(search_t).where(search_t.c.type == spec.name, search_t.c.record_id == current.id)
            )
            t = spec.resource.table
            conn.execute(delete(t).where(t.c.id == current.id))
            now = utcnow()
            entries.append(changes.entry(spec.collection, ChangeAction.delete, actor, current, at=now))
            entries.extend(spec.affects(conn, current, None, actor, now))
            changes.record(conn, without_updates_of_deleted(entries))
    except IntegrityError as exc:
        raise Conflict(f"The {spec.name} is still referenced by other records.") from exc


# --- per resource ---------------------------------------------------------------------------------

meeting_t = table(Meeting)
person_t = table(Person)
participant_t = table(Participant)
directive_t = table(Directive)
citation_t = table(MeetingDocument)
document_t = table(Document)
event_t = table(DirectiveEvent)


def _check_meeting(conn: Connection, values: dict[str, Any]) -> None:
    tz = values.get("timezone")
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise invalid("timezone", f"unknown IANA time zone {tz!r}") from exc


def _uncite_meeting(conn: Connection, meeting: Any, actor: str) -> list[dict[str, Any]]:
    """A deleted meeting's citations, each with its delete entry (named by the two slugs)."""
    rows = conn.execute(
        select(citation_t.c.document_id, document_t.c.slug)
        .join(document_t, document_t.c.id == citation_t.c.document_id)
        .where(citation_t.c.meeting_id == meeting.id)
        .order_by(citation_t.c.document_id)
    ).all()
    conn.execute(delete(citation_t).where(citation_t.c.meeting_id == meeting.id))
    now = utcnow()
    return [
        changes.citation_entry(ChangeAction.delete, actor, meeting.slug, r.slug, {}, at=now) for r in rows
    ]


def _person_derived(values: dict[str, Any]) -> dict[str, Any]:
    return {"name_folded": fold(values["full_name"])} if values.get("full_name") else {}


def _person_in_use(conn: Connection, person: Any) -> None:
    n = conn.execute(
        select(func.count()).select_from(participant_t).where(participant_t.c.person_id == person.id)
    ).scalar_one()
    if n:
        raise Conflict(f"The person takes part in {n} meeting record(s); delete those participants first.")
    n = conn.execute(
        select(func.count()).select_from(assignee_t).where(assignee_t.c.person_id == person.id)
    ).scalar_one()
    if n:
        raise Conflict(f"The person is assigned {n} directive(s); remove those assignments first.")


def _person_renamed(conn: Connection, person: Any, changes: dict[str, Any]) -> None:
    """Participants' search rows carry the person's name: rewrite them."""
    if "full_name" not in changes:
        return
    rows = conn.execute(
        select(
            participant_t.c.id,
            participant_t.c.meeting_id,
            participant_t.c.title,
            participant_t.c.organization,
        ).where(participant_t.c.person_id == person.id)
    ).all()
    for r in rows:
        doc = search_row("participant", r.id, r.meeting_id, f"{person.full_name}, {r.title}", r.organization)
        conn.execute(
            update(search_t)
            .where(search_t.c.type == "participant", search_t.c.record_id == r.id)
            .values(title=doc["title"], body=doc["body"], folded=doc["folded"])
        )


def _require_meeting(conn: Connection, meeting_id: int) -> None:
    if not conn.execute(select(exists().where(meeting_t.c.id == meeting_id))).scalar():
        raise invalid("meeting_id", f"no meeting with id {meeting_id}")


def _check_in_meeting(conn: Connection, values: dict[str, Any]) -> None:
    """Shortcomings and findings: their meeting must exist."""
    _require_meeting(conn, values["meeting_id"])


def _check_directive(conn: Connection, values: dict[str, Any]) -> None:
    meeting_id, issued_by = values["meeting_id"], values["issued_by"]
    _require_meeting(conn, meeting_id)
    part = conn.execute(select(participant_t.c.meeting_id).where(participant_t.c.id == issued_by)).first()
    if part is None:
        raise invalid("issued_by", f"no participant with id {issued_by}")
    if part.meeting_id != meeting_id:
        raise invalid("issued_by", f"participant {issued_by} did not take part in meeting {meeting_id}")


def _directive_derived(values: dict[str, Any]) -> dict[str, Any]:
    """A directive created as done, or changed to done, is done today (app.clock)."""
    return {"done_on": clock.today()} if values.get("status") == DirectiveStatus.done else {}


def _set_addresses(conn: Connection, directive_id: int, addresses: list[int]) -> None:
    """The shortcomings a directive answers become exactly `addresses` (each must exist)."""
    wanted = list(dict.fromkeys(addresses))
    if wanted:
        found = set(conn.execute(select(shortcoming_t.c.id).where(shortcoming_t.c.id.in_(wanted))).scalars())
        missing = [i for i in wanted if i not in found]
        if missing:
            raise invalid("addresses", f"no shortcoming with id {', '.join(map(str, missing))}")
    conn.execute(delete(addresses_t).where(addresses_t.c.directive_id == directive_id))
    if wanted:
        conn.execute(
            insert(addresses_t), [{"directive_id": directive_id, "shortcoming_id": i} for i in wanted]
        )


def _directive_inserted(conn: Connection, directive_id: int, values: dict[str, Any]) -> None:
    _set_addresses(conn, directive_id, values.get("addresses") or [])


def _directive_before_update(
    conn: Connection, current: Any, changes: dict[str, Any], principal: Principal | None
) -> dict[str, Any]:
    """`addresses` (no column) replaces the directive's links; then the change of status."""
    changes = dict(changes)
    if "addresses" in changes:
        addresses = changes.pop("addresses")
        if addresses is None:
            raise invalid("addresses", "may not be null (send [] for none)")
        if sorted(set(addresses)) != sorted(current.addresses):
            _set_addresses(conn, current.id, addresses)
            changes = _directive_transition(conn, current, changes, principal)
            return {**changes, "updated_at": utcnow()}  # the record changed even if no column did
    return _directive_transition(conn, current, changes, principal)


def _directive_transition(
    conn: Connection, current: Any, changes: dict[str, Any], principal: Principal | None
) -> dict[str, Any]:
    """Check a change of status against TRANSITIONS and record it in directive_event."""
    changes = dict(changes)
    note = changes.pop("status_note", None)
    new = changes.get("status")
    old = DirectiveStatus(current.status)
    if new is None or DirectiveStatus(new) == old:
        changes.pop("status", None)
        if note is not None:
            raise invalid("status_note", "only with a change of status")
        return changes
    new = DirectiveStatus(new)
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(TRANSITIONS[old])) or "none: it is final"
        raise invalid("status", f"cannot go from {old.value} to {new.value} (allowed: {allowed})")
    conn.execute(
        insert(event_t).values(
            directive_id=current.id,
            from_status=old.value,
            to_status=new.value,
            note=note,
            made_by=principal.name if principal is not None else "",
            at=utcnow(),
        )
    )
    return changes


def _check_participant(conn: Connection, values: dict[str, Any]) -> None:
    """The meeting and the person must exist, and a person takes part in a meeting once.

    Only a create can clash: a change cannot touch meeting_id or person_id.
    """
    meeting_id, person_id = values["meeting_id"], values["person_id"]
    _require_meeting(conn, meeting_id)
    if not conn.execute(select(exists().where(person_t.c.id == person_id))).scalar():
        raise invalid("person_id", f"no person with id {person_id}")
    if "id" in values:
        return
    clash = conn.execute(
        select(participant_t.c.id).where(
            participant_t.c.meeting_id == meeting_id, participant_t.c.person_id == person_id
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"Person {person_id} already takes part in meeting {meeting_id} (participant {clash.id})."
        )


def _participant_in_use(conn: Connection, participant: Any) -> None:
    n = conn.execute(
        select(func.count()).select_from(directive_t).where(directive_t.c.issued_by == participant.id)
    ).scalar_one()
    if n:
        raise Conflict(f"The participant issued {n} directive(s); delete those directives first.")


def _document_in_use(conn: Connection, document: Any) -> None:
    n = conn.execute(
        select(func.count()).select_from(citation_t).where(citation_t.c.document_id == document.id)
    ).scalar_one()
    if n:
        raise Conflict(f"The document is cited by {n} meeting record(s); it cannot be deleted.")


def _participant_search(p: Any) -> dict[str, Any]:
    """As the seed loader builds it: the person's name and the office held, then the organization."""
    return search_row("participant", p.id, p.meeting_id, f"{p.person_name}, {p.title}", p.organization)


PERSON_WRITES = WriteSpec(
    PEOPLE,
    search=lambda p: search_row("person", p.id, None, p.full_name),
    derived=_person_derived,
    before_delete=_person_in_use,
    after_update=_person_renamed,
)
# --- links: assignees and reviews (routes in app/routers/links.py) --------------------------------


def _check_assignee(conn: Connection, values: dict[str, Any]) -> None:
    """Exactly one of person_id and organization; the directive and the person must exist."""
    person_id, organization = values.get("person_id"), values.get("organization")
    if person_id is None and organization is None:
        raise invalid("organization", "give the organization, or person_id for a person")
    if person_id is not None and organization is not None:
        raise invalid("person_id", "an assignee is an organization or a person, not both")
    if (
        person_id is not None
        and not conn.execute(select(exists().where(person_t.c.id == person_id))).scalar()
    ):
        raise invalid("person_id", f"no person with id {person_id}")
    if not conn.execute(select(exists().where(directive_t.c.id == values["directive_id"]))).scalar():
        raise NotFound(f"No directive with id {values['directive_id']}.")


def _assignee_derived(values: dict[str, Any]) -> dict[str, Any]:
    if "organization" not in values:
        return {}
    org = values["organization"]
    return {"organization_folded": folded_words(org) if org is not None else None}


def _check_review(conn: Connection, values: dict[str, Any]) -> None:
    """The directive must exist and have been issued at an earlier meeting than the reviewing one."""
    directive_id = values["directive_id"]
    issued = conn.execute(
        select(meeting_t.c.id, meeting_t.c.date)
        .join(directive_t, directive_t.c.meeting_id == meeting_t.c.id)
        .where(directive_t.c.id == directive_id)
    ).first()
    if issued is None:
        raise invalid("directive_id", f"no directive with id {directive_id}")
    reviewing = conn.execute(select(meeting_t.c.date).where(meeting_t.c.id == values["meeting_id"])).first()
    if reviewing is None:
        raise NotFound(f"No meeting with id {values['meeting_id']}.")
    if reviewing.date <= issued.date:
        raise invalid(
            "directive_id",
            f"directive {directive_id} was issued on {issued.date.isoformat()}: only a later meeting "
            f"(this one is on {reviewing.date.isoformat()}) can review it",
        )


ASSIGNEE_WRITES = WriteSpec(
    ASSIGNEES,
    search=lambda _a: None,
    check=_check_assignee,
    derived=_assignee_derived,
    affects=lambda conn, before, after, actor, now: touched(
        conn, DIRECTIVES, [(after or before).directive_id], actor, now
    ),
    location=lambda a: f"/api/v1/directives/{a.directive_id}/assignees/{a.id}",
)
REVIEW_WRITES = WriteSpec(
    REVIEWS,
    search=lambda _r: None,
    check=_check_review,
    location=lambda r: f"/api/v1/meetings/{r.meeting_id}/reviews/{r.id}",
)


def _unlink_directive(conn: Connection, directive: Any, actor: str) -> list[dict[str, Any]]:
    """A deleted directive no longer answers its shortcomings: their addressed_by change."""
    ids = list(
        conn.execute(select(addresses_t.c.shortcoming_id).where(addresses_t.c.directive_id == directive.id))
        .scalars()
        .all()
    )
    if not ids:
        return []
    conn.execute(delete(addresses_t).where(addresses_t.c.directive_id == directive.id))
    return touched(conn, SHORTCOMINGS, ids, actor)


def _directive_affects(
    conn: Connection, before: Any, after: Any, actor: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """A created or changed directive's `addresses`: the shortcomings added or dropped change."""
    if after is None:  # a delete: _unlink_directive did it
        return []
    old = set(before.addresses) if before is not None else set()
    return touched(conn, SHORTCOMINGS, old ^ set(after.addresses), actor, now)


def _replay_addresses(conn: Connection, directive: Any) -> None:
    """app.replay: the directive's `addresses` (its entry's data) become its links."""
    conn.execute(delete(addresses_t).where(addresses_t.c.directive_id == directive.id))
    if directive.addresses:
        conn.execute(
            insert(addresses_t),
            [{"directive_id": directive.id, "shortcoming_id": i} for i in directive.addresses],
        )


DIRECTIVE_WRITES = WriteSpec(
    DIRECTIVES,
    search=lambda d: search_row("directive", d.id, d.meeting_id, d.text, *d.addressees),
    check=_check_directive,
    derived=_directive_derived,
    before_update=_directive_before_update,
    after_insert=_directive_inserted,
    # Its assignees and the reviews of it go with it, each with its entry.
    cascade=(
        children(ASSIGNEE_WRITES, "directive_id"),
        children(REVIEW_WRITES, "directive_id"),
        _unlink_directive,
    ),
    affects=_directive_affects,
    replay=_replay_addresses,
)
PARTICIPANT_WRITES = WriteSpec(
    PARTICIPANTS,
    search=_participant_search,
    check=_check_participant,
    before_delete=_participant_in_use,
)


def touch_directive(conn: Connection, directive_id: int) -> None:
    """A directive's assignees and addresses are part of it: changing them changes its updated_at."""
    conn.execute(update(directive_t).where(directive_t.c.id == directive_id).values(updated_at=utcnow()))


def _unlink_shortcoming(conn: Connection, shortcoming: Any, actor: str) -> list[dict[str, Any]]:
    """The directives that answered a deleted shortcoming change (their `addresses`)."""
    ids = list(
        conn.execute(select(addresses_t.c.directive_id).where(addresses_t.c.shortcoming_id == shortcoming.id))
        .scalars()
        .all()
    )
    if not ids:
        return []
    conn.execute(delete(addresses_t).where(addresses_t.c.shortcoming_id == shortcoming.id))
    return touched(conn, DIRECTIVES, ids, actor)


SHORTCOMING_WRITES = WriteSpec(
    SHORTCOMINGS,
    search=lambda s: search_row("shortcoming", s.id, s.meeting_id, s.text, *s.concerns),
    check=_check_in_meeting,
    cascade=(_unlink_shortcoming,),
)
FINDING_WRITES = WriteSpec(
    FINDINGS,
    search=lambda f: search_row("finding", f.id, f.meeting_id, f.text),
    check=_check_in_meeting,
)
DOCUMENT_WRITES = WriteSpec(
    DOCUMENTS,
    search=lambda d: search_row("document", d.id, None, d.title, d.number, d.issuer),
    before_delete=_document_in_use,
)


MEETING_WRITES = WriteSpec(
    MEETINGS,
    search=lambda m: search_row("meeting", m.id, m.id, m.title, m.purpose, m.summary, m.organizer),
    check=_check_meeting,
    # Children first, in an order no RESTRICT key objects to (directives before participants);
    # the reviews it made of earlier directives first (those of its own directives go with them).
    cascade=(
        children(REVIEW_WRITES, "meeting_id"),
        children(DIRECTIVE_WRITES, "meeting_id"),
        children(SHORTCOMING_WRITES, "meeting_id"),
        children(FINDING_WRITES, "meeting_id"),
        _uncite_meeting,
        children(PARTICIPANT_WRITES, "meeting_id"),
    ),
)

# Every WriteSpec, parents before children: the collections of the change feed (app.replay).
ALL_WRITES = (
    PERSON_WRITES,
    DOCUMENT_WRITES,
    MEETING_WRITES,
    PARTICIPANT_WRITES,
    SHORTCOMING_WRITES,  # before the directives that address them
    DIRECTIVE_WRITES,
    FINDING_WRITES,
    ASSIGNEE_WRITES,
    REVIEW_WRITES,
)
