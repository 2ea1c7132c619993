from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

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
    record_response,
    sort_param,
)
from app.fastread import Filters
from app.models.common import Page
from app.models.participant import ParticipantPublic
from app.openapi_docs import READ, list_responses
from app.resources import PARTICIPANTS, participant_t
from app.seed_schema import ParticipantRole
from app.streams import FormatParam

router = APIRouter(prefix="/participants", tags=["participants"])


@router.get(
    "",
    responses=list_responses(PARTICIPANTS),
    summary="List participations (a person at a meeting, in an office)",
    response_model=Page[ParticipantPublic],
)
def read_participants(
    engine: EngineDep,
    request: Request,
    meeting_id: IdFilter = None,
    person_id: IdFilter = None,
    role: Annotated[ParticipantRole | None, Query()] = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(PARTICIPANTS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = Filters()
    if meeting_id is not None:
        where.add("meeting_id", lambda p: participant_t.c.meeting_id == p, meeting_id)
    if person_id is not None:
        where.add("person_id", lambda p: participant_t.c.person_id == p, person_id)
    if role is not None:
        where.add("role", lambda p: participant_t.c.role == p, role.value)
    return list_or_stream(
        engine,
        PARTICIPANTS,
        request,
        where=where,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        fmt=format,
        updated_since=updated_since,
    )


@router.get("/{ref}", responses=READ, summary="Read one participation", response_model=ParticipantPublic)
async def read_participant(ref: RecordRef, engine: EngineDep) -> Any:
    return await record_response(engine, PARTICIPANTS, ref)
