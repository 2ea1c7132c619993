"""Downloads: the whole database in the seed format, and the calendar of meetings and deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator
from sqlalchemy import Engine

from app.calendar import CalendarFilter, calendar_chunks, example_calendar
from app.config import ROOT, get_settings
from app.db import EngineDep, SessionDep
from app.deps import iso_date
from app.export import export_chunks
from app.openapi_docs import problems
from app.resources import MEETINGS
from app.seed_schema import SeedFile

router = APIRouter(tags=["exports"])


class CalendarResponse(StreamingResponse):
    media_type = "text/calendar"


def _seed_example() -> dict[str, Any]:
    """data/seed.json cut to one record of each kind, references kept whole."""
    seed = SeedFile.model_validate_json((ROOT / "data" / "seed.json").read_bytes())
    meeting = seed.meetings[0]
    participant = meeting.participants[0]
    directives = [d for d in meeting.directives if d.issued_by == participant.slug][:1]
    citation = meeting.documents[0]
    small = meeting.model_copy(
        update={
            "participants": [participant],
            "directives": directives,
            "shortcomings": meeting.shortcomings[:1],
            "findings": meeting.findings[:1],
            "documents": [citation],
        }
    )
    example = SeedFile(
        people=[p for p in seed.people if p.slug == participant.person],
        documents=[d for d in seed.documents if d.slug == citation.document],
        meetings=[small],
    )
    dumped: dict[str, Any] = example.model_dump(mode="json", exclude_none=True)
    return dumped


_ATTACHMENT = {
    "Content-Disposition": {
        "description": "`attachment` with a file name.",
        "required": True,
        "schema": {"type": "string", "examples": ['attachment; filename="meeting-records.json"']},
    }
}


@router.get(
    "/export",
    summary="Export the whole database as a seed file",
    response_model=SeedFile,  # documents the body; the handler streams it (a Response passes through)
    responses={
        200: {
            "description": "Every person, document and meeting (with its records) in the seed format "
            "(`python -m app seed schema`), streamed. `python -m app seed load` of this file into an "
            "empty database gives the same API answers (ids included; timestamps are those of the load).",
            "headers": _ATTACHMENT,
            "content": {"application/json": {"example": _seed_example()}},
        },
        **problems(503),
    },
)
def export_database(engine: EngineDep) -> Any:
    """The same document as `python -m app seed export`. Records refer to each other by slug."""
    return StreamingResponse(
        export_chunks(engine),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="meeting-records.json"'},
    )


def _base_url(request: Request) -> str:
    base = get_settings().public_base_url
    return (base or str(request.base_url)).rstrip("/")


@router.get(
    "/calendar.ics",
    summary="Meeting dates and directive deadlines as iCalendar",
    response_class=CalendarResponse,
    responses={
        200: {
            "description": "A VEVENT per meeting (at its start time in its time zone, or all day) and a "
            "VTODO per directive with a due date (DUE, STATUS: NEEDS-ACTION, IN-PROCESS, COMPLETED "
            "or CANCELLED). UIDs are stable: `meeting-<slug>@<host>`, `directive-<slug>@<host>`.",
            "headers": {
                "Content-Disposition": {
                    **_ATTACHMENT["Content-Disposition"],
                    "schema": {"type": "string", "examples": ['attachment; filename="meetings.ics"']},
                }
            },
            "content": {"text/calendar": {"schema": {"type": "string"}, "example": example_calendar()}},
        },
        **problems(404, 422),
    },
)
def read_calendar(
    request: Request,
    session: SessionDep,
    meeting: Annotated[
        str | None,
        Query(
            pattern=r"^(?:[1-9][0-9]{0,17}|[a-z0-9]+(?:-[a-z0-9]+)*)$",
            max_length=120,
            description="Only this meeting (id or slug) and its directives' deadlines.",
            examples=["ben-tre-2018-03-20-nq18-19"],
        ),
    ] = None,
    date_from: Annotated[
        dt.date | None,
        BeforeValidator(iso_date),
        Query(alias="from", description="Meetings and deadlines on or after this day (YYYY-MM-DD)."),
    ] = None,
    date_to: Annotated[
        dt.date | None,
        BeforeValidator(iso_date),
        Query(alias="to", description="Meetings and deadlines on or before this day (YYYY-MM-DD)."),
    ] = None,
) -> Any:
    meeting_id = MEETINGS.get(session, meeting).id if meeting is not None else None
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    base = _base_url(request)
    host = urlsplit(base).hostname or "localhost"
    chunks = calendar_chunks(engine, CalendarFilter(meeting_id, date_from, date_to), host, base)
    return CalendarResponse(chunks, headers={"Content-Disposition": 'attachment; filename="meetings.ics"'})
