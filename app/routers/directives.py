from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import false, select

from app.db import SessionDep
from app.deps import (
    DEFAULT_LIMIT,
    Cursor,
    DateFrom,
    DateTo,
    IdFilter,
    Limit,
    RecordRef,
    TextQuery,
    UpdatedSince,
    list_or_stream,
    list_page,
    sort_param,
)
from app.etag import set_record_etag
from app.models.common import Page
from app.models.directive import DirectiveEventPublic, DirectivePublic, Progress
from app.models.links import folded_words
from app.openapi_docs import READ, list_responses
from app.resources import (
    DIRECTIVE_EVENTS,
    DIRECTIVES,
    assignee_t,
    directive_t,
    event_t,
    participant_t,
    person_t,
    progress_clause,
)
from app.routers.filters import like_escape, meeting_filters
from app.seed_schema import AssigneeRole, DirectiveStatus
from app.streams import FormatParam

router = APIRouter(prefix="/directives", tags=["directives"])


@router.get(
    "", responses=list_responses(DIRECTIVES), response_model=Page[DirectivePublic], summary="List directives"
)
def read_directives(
    session: SessionDep,
    request: Request,
    response: Response,
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
    assignee: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only directives assigned to an organization or a person whose name "
            "contains this text; case, diacritics and đ/d are ignored.",
            examples=["don vi dia phuong"],
        ),
    ] = None,
    role: Annotated[
        AssigneeRole | None,
        Query(
            description="Only directives with an assignee in this role (the one `assignee` names, if given)."
        ),
    ] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(DIRECTIVES)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = meeting_filters(directive_t, meeting_id, document_id, date_from, date_to)
    if issued_by is not None:
        where.append(directive_t.c.issued_by == issued_by)
    if person_id is not None:
        issuers = select(participant_t.c.id).where(participant_t.c.person_id == person_id)
        where.append(directive_t.c.issued_by.in_(issuers))
    if status is not None:
        where.append(directive_t.c.status == status.value)
    if progress is not None:
        where.append(progress_clause(progress))
    if assignee is not None or role is not None:
        assigned = select(assignee_t.c.directive_id)
        words = folded_words(assignee) if assignee is not None else ""
        if assignee is not None and not words:  # no letter nor digit: no name matches
            where.append(false())
        elif assignee is not None:
            pattern = f"%{like_escape(words)}%"
            named = select(person_t.c.id).where(person_t.c.name_folded.like(pattern, escape="\\"))
            assigned = assigned.where(
                assignee_t.c.organization_folded.like(pattern, escape="\\")
                | assignee_t.c.person_id.in_(named)
            )
        if role is not None:
            assigned = assigned.where(assignee_t.c.role == role.value)
        where.append(directive_t.c.id.in_(assigned))
    return list_or_stream(
        session,
        DIRECTIVES,
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


@router.get("/{ref}", responses=READ, summary="Read one directive")
def read_directive(ref: RecordRef, session: SessionDep, response: Response) -> DirectivePublic:
    directive: DirectivePublic = DIRECTIVES.get(session, ref)
    set_record_etag(response, directive)
    return directive


@router.get("/{ref}/history", responses=READ, summary="A directive's changes of status")
def read_directive_history(
    ref: RecordRef,
    session: SessionDep,
    request: Request,
    response: Response,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DirectiveEventPublic]:
    """Each change of status made through PATCH, oldest first: who made it, when, and its note."""
    directive: DirectivePublic = DIRECTIVES.get(session, ref)
    return list_page(
        session,
        DIRECTIVE_EVENTS,
        request,
        response,
        where=[event_t.c.directive_id == directive.id],
        q=None,
        sort=None,
        cursor=cursor,
        limit=limit,
    )
