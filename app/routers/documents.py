from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from app.db import EngineDep
from app.deps import (
    DEFAULT_LIMIT,
    Cursor,
    IdFilter,
    Limit,
    RecordRef,
    TextQuery,
    UpdatedSince,
    list_or_stream,
    list_page,
    record_response,
    sort_param,
)
from app.fastread import Filters, raw_cursor
from app.models.common import Page
from app.models.document import DocumentPublic
from app.models.meeting import MeetingPublic
from app.openapi_docs import READ, list_responses
from app.resources import DOCUMENTS, MEETINGS, citation_t, document_t, meeting_t
from app.seed_schema import DocumentKind
from app.streams import FormatParam

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get(
    "",
    responses=list_responses(DOCUMENTS),
    summary="List documents (resolutions, action programmes, ...)",
    response_model=Page[DocumentPublic],
)
def read_documents(
    engine: EngineDep,
    request: Request,
    kind: Annotated[DocumentKind | None, Query()] = None,
    meeting_id: Annotated[IdFilter, Query(description="Only documents this meeting cites.")] = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(DOCUMENTS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = Filters()
    if kind is not None:
        where.add("kind", lambda p: document_t.c.kind == p, kind.value)
    if meeting_id is not None:
        where.add(
            "meeting_id",
            lambda p: document_t.c.id.in_(
                select(citation_t.c.document_id).where(citation_t.c.meeting_id == p)
            ),
            meeting_id,
        )
    return list_or_stream(
        engine,
        DOCUMENTS,
        request,
        where=where,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        fmt=format,
        updated_since=updated_since,
    )


@router.get("/{ref}", responses=READ, summary="Read one document", response_model=DocumentPublic)
async def read_document(ref: RecordRef, engine: EngineDep) -> Any:
    return await record_response(engine, DOCUMENTS, ref)


@router.get(
    "/{ref}/meetings",
    responses=READ,
    summary="List the meetings that cite a document",
    response_model=Page[MeetingPublic],
)
def read_document_meetings(
    ref: RecordRef,
    engine: EngineDep,
    request: Request,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(MEETINGS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    with raw_cursor(engine) as cur:
        document = DOCUMENTS.fast_get(cur, engine.dialect, ref)
        where = Filters()
        where.add(
            "document_id",
            lambda p: meeting_t.c.id.in_(
                select(citation_t.c.meeting_id).where(citation_t.c.document_id == p)
            ),
            document["id"],
        )
        return list_page(
            cur,
            engine.dialect,
            MEETINGS,
            request,
            where=where,
            q=None,
            sort=sort,
            cursor=cursor,
            limit=limit,
            updated_since=updated_since,
        )
