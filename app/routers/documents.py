from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.db import SessionDep
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
    sort_param,
)
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
    response_model=Page[DocumentPublic],
    summary="List documents (resolutions, action programmes, ...)",
)
def read_documents(
    session: SessionDep,
    request: Request,
    response: Response,
    kind: Annotated[DocumentKind | None, Query()] = None,
    meeting_id: Annotated[IdFilter, Query(description="Only documents this meeting cites.")] = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(DOCUMENTS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = []
    if kind is not None:
        where.append(document_t.c.kind == kind.value)
    if meeting_id is not None:
        where.append(
            document_t.c.id.in_(select(citation_t.c.document_id).where(citation_t.c.meeting_id == meeting_id))
        )
    return list_or_stream(
        session,
        DOCUMENTS,
        request,
        response,
        where=where,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        fmt=format,
        updated_since=updated_since,
    )


@router.get("/{ref}", responses=READ, summary="Read one document")
def read_document(ref: RecordRef, session: SessionDep) -> DocumentPublic:
    document: DocumentPublic = DOCUMENTS.get(session, ref)
    return document


@router.get("/{ref}/meetings", responses=READ, summary="List the meetings that cite a document")
def read_document_meetings(
    ref: RecordRef,
    session: SessionDep,
    request: Request,
    response: Response,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(MEETINGS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MeetingPublic]:
    document: DocumentPublic = DOCUMENTS.get(session, ref)
    cites = meeting_t.c.id.in_(select(citation_t.c.meeting_id).where(citation_t.c.document_id == document.id))
    return list_page(
        session,
        MEETINGS,
        request,
        response,
        where=[cites],
        q=None,
        sort=sort,
        cursor=cursor,
        limit=limit,
        updated_since=updated_since,
    )
