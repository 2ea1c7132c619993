from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Select, bindparam, select

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
    sort_param,
)
from app.etag import set_record_etag
from app.models.common import Page
from app.models.directive import DirectivePublic
from app.models.document import CitationPublic
from app.models.finding import FindingPublic
from app.models.meeting import MeetingDetail, MeetingPublic
from app.models.participant import ParticipantPublic
from app.models.shortcoming import ShortcomingPublic
from app.openapi_docs import READ, list_responses
from app.resources import (
    CITATIONS,
    DIRECTIVES,
    FINDINGS,
    MEETINGS,
    PARTICIPANTS,
    SHORTCOMINGS,
    Resource,
    citation_t,
    meeting_t,
    participant_t,
)
from app.streams import FormatParam

router = APIRouter(prefix="/meetings", tags=["meetings"])

INCLUDABLE: dict[str, Resource] = {
    "participants": PARTICIPANTS,
    "directives": DIRECTIVES,
    "shortcomings": SHORTCOMINGS,
    "findings": FINDINGS,
    "documents": CITATIONS,
}
_names = "|".join(INCLUDABLE)
Include = Annotated[
    str | None,
    Query(
        pattern=rf"^({_names})(,({_names}))*$",
        max_length=200,
        description="Related records to embed, comma-separated: " + ", ".join(INCLUDABLE) + ".",
        examples=["participants,directives,shortcomings,documents"],
    ),
]


def _include_stmt(resource: Resource) -> Select[Any]:
    column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id
    return resource.select().where(column == bindparam("meeting_id")).order_by(resource.table.c.id)


# Built once: building a SELECT costs more than running it.
_INCLUDE_STMTS = {name: _include_stmt(resource) for name, resource in INCLUDABLE.items()}


def meeting_ref(ref: RecordRef, session: SessionDep) -> MeetingPublic:
    """Load the meeting named in the path, or answer 404."""
    meeting: MeetingPublic = MEETINGS.get(session, ref)
    return meeting


MeetingDep = Annotated[MeetingPublic, Depends(meeting_ref)]


@router.get(
    "", responses=list_responses(MEETINGS), response_model=Page[MeetingPublic], summary="List meetings"
)
def read_meetings(
    session: SessionDep,
    request: Request,
    response: Response,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    document_id: Annotated[IdFilter, Query(description="Only meetings that cite this document.")] = None,
    person_id: Annotated[IdFilter, Query(description="Only meetings this person took part in.")] = None,
    q: TextQuery = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str | None, sort_param(MEETINGS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    format: FormatParam = None,
) -> Any:
    where = []
    if date_from is not None:
        where.append(meeting_t.c.date >= date_from)
    if date_to is not None:
        where.append(meeting_t.c.date <= date_to)
    if document_id is not None:
        where.append(
            meeting_t.c.id.in_(select(citation_t.c.meeting_id).where(citation_t.c.document_id == document_id))
        )
    if person_id is not None:
        where.append(
            meeting_t.c.id.in_(
                select(participant_t.c.meeting_id).where(participant_t.c.person_id == person_id)
            )
        )
    return list_or_stream(
        session,
        MEETINGS,
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


@router.get("/{ref}", responses=READ, summary="Read one meeting", response_model_exclude_unset=True)
def read_meeting(
    meeting: MeetingDep, session: SessionDep, response: Response, include: Include = None
) -> MeetingDetail:
    if include is None:  # the record alone: its ETag is the one If-Match is checked against
        set_record_etag(response, meeting)
    data: dict[str, Any] = dict(meeting)
    for name in dict.fromkeys(include.split(",")) if include else ():
        resource, stmt = INCLUDABLE[name], _INCLUDE_STMTS[name]
        rows = session.execute(stmt, {"meeting_id": meeting.id}).mappings().all()
        data[name] = resource.publics(session, rows)
    detail: MeetingDetail = MeetingDetail.__pydantic_validator__.validate_python(data)
    return detail


def _nested(resource: Resource, public: Any, summary: str) -> None:
    column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id

    def handler(
        meeting: MeetingDep,
        session: SessionDep,
        request: Request,
        response: Response,
        q: TextQuery = None,
        updated_since: UpdatedSince = None,
        sort: Annotated[str | None, sort_param(resource)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
        format: FormatParam = None,
    ) -> Any:
        return list_or_stream(
            session,
            resource,
            request,
            response,
            where=[column == meeting.id],
            q=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
            fmt=format,
            updated_since=updated_since,
        )

    # Postponed annotations make `sort`'s annotation a string naming the local `resource`,
    # which FastAPI resolves against module globals only (a 500 on every request, and no
    # OpenAPI document): hand it the evaluated annotation instead.
    handler.__annotations__["sort"] = Annotated[str | None, sort_param(resource)]
    name = resource.path.strip("/")
    handler.__name__ = f"read_meeting_{name}"
    router.add_api_route(
        f"/{{ref}}/{name}",
        handler,
        methods=["GET"],
        response_model=Page[public],
        responses=list_responses(resource, 404),
        summary=summary,
    )


_nested(PARTICIPANTS, ParticipantPublic, "List the participants of a meeting")
_nested(DIRECTIVES, DirectivePublic, "List the directives issued at a meeting")
_nested(SHORTCOMINGS, ShortcomingPublic, "List the shortcomings a meeting found")
_nested(FINDINGS, FindingPublic, "List the positive findings a meeting reported")
_nested(CITATIONS, CitationPublic, "List the documents a meeting cites")
