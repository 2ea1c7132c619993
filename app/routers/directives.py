from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from app.db import EngineDep
from app.deps import (
    DEFAULT_LIMIT,
    Cursor,
    DateFrom,
    DateTo,
    IdFilter,
    Limit,
    RecordRef,
    TextQuery,
    list_or_stream,
    list_page,
    record_response,
    sort_param,
)
from app.fastread import Filters, raw_cursor
from app.models.common import Page
from app.models.directive import DirectiveEventPublic, DirectivePublic, Progress
from app.openapi_docs import READ, list_responses
from app.resources import (
    DIRECTIVE_EVENTS,
    DIRECTIVES,
    directive_t,
    event_t,
    participant_t,
    progress_clause,
)
from app.routers.filters import meeting_filters
from app.seed_schema import DirectiveStatus
from app.streams import FormatParam

router = APIRouter(prefix="/directives", tags=["directives"])


@router.get(
    "", responses=list_responses(DIRECTIVES), response_model=Page[DirectivePublic], summary="List directives"
)
def read_directives(
    engine: EngineDep,
    request: Request,
    meeting_id: IdFilter = None,
    issued_by: Annotated[IdFilter, Query(description="Participant id of the issuer.")] = None,
    person_id: Annotated[IdFilter, Query(description="Person id of the issuer.")] = None,
    status: Annotated[DirectiveStatus | None, Query()] = None,
    progress: Annotated[
        Progress | None,
        Query(description="Follow-up category, judged against today in Asia/Ho_Chi_Minh."),
    ] = None,
    document_id: Annotated[
        IdFilter, Query(description="Only directives of meetings citing this document.")
    ] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    q: TextQuery = None,
    sort: Annotated[str | None, sort_param(DIRECTIVES)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = meeting_filters(directive_t, meeting_id, document_id, date_from, date_to)
    if issued_by is not None:
        where.add("issued_by", lambda p: directive_t.c.issued_by == p, issued_by)
    if person_id is not None:
        where.add(
            "person_id",
            lambda p: directive_t.c.issued_by.in_(
                select(participant_t.c.id).where(participant_t.c.person_id == p)
            ),
            person_id,
        )
    if status is not None:
        where.add("status", lambda p: directive_t.c.status == p, status.value)
    if progress is not None:
        chosen = progress
        where.add_fixed(f"progress={chosen.value}", lambda: progress_clause(chosen))
    return list_or_stream(
        engine, DIRECTIVES, request, where=where, q=q, sort=sort, cursor=cursor, limit=limit, fmt=format
    )


@router.get("/{ref}", responses=READ, summary="Read one directive", response_model=DirectivePublic)
def read_directive(ref: RecordRef, engine: EngineDep) -> Any:
    return record_response(engine, DIRECTIVES, ref)


@router.get(
    "/{ref}/history",
    responses=READ,
    summary="A directive's changes of status",
    response_model=Page[DirectiveEventPublic],
)
def read_directive_history(
    ref: RecordRef,
    engine: EngineDep,
    request: Request,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Each change of status made through PATCH, oldest first: who made it, when, and its note."""
    with raw_cursor(engine) as cur:
        directive = DIRECTIVES.fast_get(cur, engine.dialect, ref)
        where = Filters()
        where.add("directive_id", lambda p: event_t.c.directive_id == p, directive["id"])
        return list_page(
            cur,
            engine.dialect,
            DIRECTIVE_EVENTS,
            request,
            where=where,
            q=None,
            sort=None,
            cursor=cursor,
            limit=limit,
        )
