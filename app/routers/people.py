from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import false, select

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
from app.models.person import PersonPublic
from app.openapi_docs import READ, list_responses
from app.resources import PEOPLE, participant_t, person_t
from app.streams import FormatParam
from app.text import fold

router = APIRouter(prefix="/people", tags=["people"])


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("", responses=list_responses(PEOPLE), response_model=Page[PersonPublic], summary="List people")
def read_people(
    engine: EngineDep,
    request: Request,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Part of the name; case, diacritics and đ/d are ignored.",
            examples=["vo thanh hao"],
        ),
    ] = None,
    meeting_id: Annotated[IdFilter, Query(description="Only people who took part in this meeting.")] = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(PEOPLE)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = Filters()
    if name is not None and "\x00" in name:
        # No name holds a NUL, and PostgreSQL refuses one in a text parameter (a 500).
        where.add_fixed("name=nothing", false)
    elif name is not None:
        where.add(
            "name",
            lambda p: person_t.c.name_folded.like(p, escape="\\"),
            f"%{_like_escape(fold(name))}%",
        )
    if meeting_id is not None:
        where.add(
            "meeting_id",
            lambda p: person_t.c.id.in_(
                select(participant_t.c.person_id).where(participant_t.c.meeting_id == p)
            ),
            meeting_id,
        )
    return list_or_stream(
        engine,
        PEOPLE,
        request,
        where=where,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        fmt=format,
        updated_since=updated_since,
    )


@router.get("/{ref}", responses=READ, summary="Read one person", response_model=PersonPublic)
async def read_person(ref: RecordRef, engine: EngineDep) -> Any:
    return await record_response(engine, PEOPLE, ref)
