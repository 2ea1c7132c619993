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
from app.models.finding import FindingPublic
from app.openapi_docs import LIST, READ
from app.resources import FINDINGS
from app.routers.filters import meeting_filters

router = APIRouter(prefix="/findings", tags=["findings"])


@router.get("", responses=LIST, summary="List findings")
def read_findings(
    session: SessionDep,
    request: Request,
    response: Response,
    meeting_id: IdFilter = None,
    document_id: Annotated[
        IdFilter, Query(description="Only findings of meetings citing this document.")
    ] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    q: TextQuery = None,
    sort: Annotated[str | None, sort_param(FINDINGS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[FindingPublic]:
    where = meeting_filters(FINDINGS.table, meeting_id, document_id, date_from, date_to)
    return list_page(
        session, FINDINGS, request, response, where=where, q=q, sort=sort, cursor=cursor, limit=limit
    )


@router.get("/{ref}", responses=READ, summary="Read one finding")
def read_finding(ref: RecordRef, session: SessionDep) -> FindingPublic:
    finding: FindingPublic = FINDINGS.get(session, ref)
    return finding
