from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

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
    list_page,
    sort_param,
)
from app.models.common import Page
from app.models.shortcoming import ShortcomingPublic
from app.openapi_docs import LIST, READ
from app.resources import SHORTCOMINGS
from app.routers.filters import meeting_filters

router = APIRouter(prefix="/shortcomings", tags=["shortcomings"])


@router.get("", responses=LIST, summary="List shortcomings")
def read_shortcomings(
    session: SessionDep,
    request: Request,
    response: Response,
    meeting_id: IdFilter = None,
    document_id: Annotated[
        IdFilter, Query(description="Only shortcomings of meetings citing this document.")
    ] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    q: TextQuery = None,
    sort: Annotated[str | None, sort_param(SHORTCOMINGS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ShortcomingPublic]:
    where = meeting_filters(SHORTCOMINGS.table, meeting_id, document_id, date_from, date_to)
    return list_page(
        session, SHORTCOMINGS, request, response, where=where, q=q, sort=sort, cursor=cursor, limit=limit
    )


@router.get("/{ref}", responses=READ, summary="Read one shortcoming")
def read_shortcoming(ref: RecordRef, session: SessionDep) -> ShortcomingPublic:
    shortcoming: ShortcomingPublic = SHORTCOMINGS.get(session, ref)
    return shortcoming
