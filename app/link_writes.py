"""Citing a document from a meeting, and withdrawing the citation: one write transaction each.

A citation (meeting_document) has no id of its own: it is addressed by its meeting and its
document. The same rules as every write apply (app/writes.py): Idempotency-Key on POST,
If-Match on DELETE with the citation's ETag (GET /meetings/{ref}/documents/{document_ref}).
Once no meeting cites a document, DELETE /documents/{ref} can delete it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError

from app import changes
from app.auth import Principal
from app.db import is_sqlite, writer
from app.errors import NotFound
from app.etag import if_match_satisfied, record_etag
from app.models.change import ChangeAction
from app.models.common import utcnow
from app.resources import CITATIONS, citation_t, document_t, meeting_t
from app.writes import (
    Conflict,
    PreconditionFailed,
    Written,
    _replay,
    _request_hash,
    _require_if_match,
    actor_of,
    idempotent_t,
    invalid,
)

CITATION_PATH = "/meetings/{ref}/documents"


def _citation_entry(
    conn: Connection, action: ChangeAction, actor: str, citation: Any, now: Any
) -> dict[str, Any]:
    """The change feed's entry for a citation (app.changes.citation_entry), named by the two slugs."""
    meeting_slug = conn.execute(
        select(meeting_t.c.slug).where(meeting_t.c.id == citation.meeting_id)
    ).scalar_one()
    link = {
        "meeting_id": citation.meeting_id,
        "document_id": citation.id,
        "source_quote": citation.source_quote,
    }
    return changes.citation_entry(action, actor, meeting_slug, citation.slug, link, at=now)


def citation_location(meeting_id: int, document_id: int) -> str:
    return f"/api/v1/meetings/{meeting_id}/documents/{document_id}"


def load_citation(conn: Connection, meeting_id: int, document_id: int, *, lock: bool = False) -> Any:
    stmt = CITATIONS.select().where(citation_t.c.meeting_id == meeting_id, document_t.c.id == document_id)
    if lock and not is_sqlite(conn.engine):
        stmt = stmt.with_for_update(of=citation_t)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFound(f"Meeting {meeting_id} does not cite document {document_id}.")
    return CITATIONS.to_public(row)


class _CitationBody(BaseModel):
    meeting_id: int
    document_id: int
    source_quote: str


def cite(
    engine: Engine,
    meeting_id: int,
    document_id: int,
    source_quote: str,
    *,
    principal: Principal,
    idempotency_key: str | None = None,
) -> Written:
    body = _CitationBody(meeting_id=meeting_id, document_id=document_id, source_quote=source_quote)
    request_hash = _request_hash(CITATION_PATH, body)
    try:
        with writer(engine).begin() as conn:
            if idempotency_key is not None:
                replay = _replay(conn, principal, idempotency_key, request_hash)
                if replay is not None:
                    return replay
            if not conn.execute(select(exists().where(document_t.c.id == document_id))).scalar():
                raise invalid("document_id", f"no document with id {document_id}")
            cited = exists().where(
                citation_t.c.meeting_id == meeting_id, citation_t.c.document_id == document_id
            )
            if conn.execute(select(cited)).scalar():
                raise Conflict(f"Meeting {meeting_id} already cites document {document_id}.")
            conn.execute(insert(citation_t).values(**body.model_dump()))
            public = load_citation(conn, meeting_id, document_id)
            etag = record_etag(public)
            payload = public.model_dump_json().encode()
            location = citation_location(meeting_id, document_id)
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
                        created_at=utcnow(),
                    )
                )
            entry = _citation_entry(conn, ChangeAction.create, principal.name, public, utcnow())
            changes.record(conn, [entry])
    except IntegrityError as exc:  # the meeting went, or the same citation came, meanwhile
        raise Conflict(f"The citation conflicts with existing records ({type(exc.orig).__name__}).") from exc
    return Written(public, etag, 201, payload, location)


def uncite(
    engine: Engine,
    meeting_id: int,
    document_id: int,
    if_match: str | None,
    *,
    principal: Principal | None = None,
) -> None:
    if_match = _require_if_match(if_match)
    with writer(engine).begin() as conn:
        current = load_citation(conn, meeting_id, document_id, lock=True)
        etag = record_etag(current)
        if not if_match_satisfied(if_match, etag):
            raise PreconditionFailed(
                "The citation has changed since that ETag was issued; GET it again and retry.",
                current_etag=etag,
            )
        conn.execute(
            delete(citation_t).where(
                citation_t.c.meeting_id == meeting_id, citation_t.c.document_id == document_id
            )
        )
        entry = _citation_entry(conn, ChangeAction.delete, actor_of(principal), current, utcnow())
        changes.record(conn, [entry])
