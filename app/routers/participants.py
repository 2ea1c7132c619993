from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

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
    sort_param,
)
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
    response_model=Page[ParticipantPublic],
    summary="List participations (a person at a meeting, in an office)",
)
def read_participants(
    session: SessionDep,
    request: Request,
    response: Response,
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
    where = []
    if meeting_id is not None:
        where.append(participant_t.c.meeting_id == meeting_id)
    if person_id is not None:
        where.append(participant_t.c.person_id == person_id)
    if role is not None:
        where.append(participant_t.c.role == role.value)
    return list_or_stream(
        session,
        PARTICIPANTS,
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


@router.get("/{ref}", responses=READ, summary="Read one participation")
def read_participant(ref: RecordRef, session: SessionDep) -> ParticipantPublic:
    participant: ParticipantPublic = PARTICIPANTS.get(session, ref)
    return participant
