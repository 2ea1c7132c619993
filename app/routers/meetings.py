from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.engine import Dialect

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
    UpdatedSince,
    list_or_stream,
    sort_param,
)
from app.fastread import (
    Filters,
    OneStatement,
    RawQuery,
    dumps,
    json_array,
    json_array_agg,
    json_response,
    raw_cursor,
)
from app.loopreads import read_small
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
    """The records of one meeting, with the columns of the public model (the fast read path)."""
    column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id
    return resource.fast_select.where(column == bindparam("meeting_id")).order_by(resource.table.c.id)


@router.get(
    "", responses=list_responses(MEETINGS), response_model=Page[MeetingPublic], summary="List meetings"
)
def read_meetings(
    engine: EngineDep,
    request: Request,
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
    where = Filters()
    if date_from is not None:
        where.add("date_from", lambda p: meeting_t.c.date >= p, date_from)
    if date_to is not None:
        where.add("date_to", lambda p: meeting_t.c.date <= p, date_to)
    if document_id is not None:
        where.add(
            "document_id",
            lambda p: meeting_t.c.id.in_(
                select(citation_t.c.meeting_id).where(citation_t.c.document_id == p)
            ),
            document_id,
        )
    if person_id is not None:
        where.add(
            "person_id",
            lambda p: meeting_t.c.id.in_(
                select(participant_t.c.meeting_id).where(participant_t.c.person_id == p)
            ),
            person_id,
        )
    return list_or_stream(
        engine,
        MEETINGS,
        request,
        where=where,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        fmt=format,
        updated_since=updated_since,
    )


# The fast read path (app/fastread.py): the same statements with the columns of the public models.
_FAST_INCLUDES = {
    name: (resource.shape, RawQuery(_include_stmt(resource))) for name, resource in INCLUDABLE.items()
}


def _included_rows(resource: Resource) -> ColumnElement[Any]:
    """The records of the meeting of the enclosing SELECT as one JSON array of rows, each row
    a JSON array of the columns of `_include_stmt` (keys would only be parsed and dropped), in
    the same order; `[]` for none."""
    column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id
    stmt = resource.fast_select.where(column == meeting_t.c.id)
    rows = json_array_agg(json_array(*stmt.selected_columns), resource.table.c.id)
    return stmt.with_only_columns(rows).scalar_subquery()


@cache  # 2 × 31 statements at most: by id or slug, for each set of lists
def _with_includes(names: tuple[str, ...], by_id: bool) -> RawQuery:
    """On PostgreSQL, the meeting and the included lists in one statement: one round trip
    instead of one per list (and one statement to plan, or to prepare, instead of several).
    Each list is a column of JSON rows that `Shape.records` makes what the separate statements
    give: the JSON of every value reads back as the value itself (text, integers, booleans,
    JSON columns and the directives' own aggregates), except dates, which come back as their
    ISO text, and that is the JSON pydantic writes for a date. It runs on SQLite too (where a
    statement costs no round trip, and the route keeps one per list): tests/test_fastread.py
    compares the two ways on both back ends."""
    meeting = MEETINGS.fast_by_id if by_id else MEETINGS.fast_by_slug
    lists = [_included_rows(INCLUDABLE[name]).label(name) for name in names]
    return RawQuery(meeting.stmt.add_columns(*lists))


def _meeting_statement(ref: str, names: list[str]) -> OneStatement[dict[str, Any]]:
    """The meeting and its included lists in one statement (_with_includes)."""
    by_id, value = MEETINGS.fast_ref(ref)
    ordered = tuple(name for name in INCLUDABLE if name in names)  # one statement per set

    def finish(rows: list[Any]) -> dict[str, Any]:
        if not rows:
            raise MEETINGS.not_found(ref)
        row = rows[0]
        data = MEETINGS.shape.record(row)
        first = len(MEETINGS.shape.fields)
        lists = dict(zip(ordered, row[first:], strict=True))
        for name in names:  # in the order asked for, as the separate statements give them
            items = lists[name]
            if isinstance(items, str):  # SQLite gives JSON as text (psycopg parses it)
                items = orjson.loads(items)
            data[name] = INCLUDABLE[name].shape.records(items)
        return data

    return OneStatement(_with_includes(ordered, by_id), {"ref": value}, finish)


def _read_meeting_one_statement(cur: Any, dialect: Dialect, ref: str, names: list[str]) -> dict[str, Any]:
    return _meeting_statement(ref, names).reader(dialect)(cur)


def _read_meeting_statements(cur: Any, dialect: Dialect, ref: str, names: list[str]) -> dict[str, Any]:
    """The meeting, then each included list in a statement of its own (SQLite: no round trips)."""
    data = MEETINGS.fast_get(cur, dialect, ref)
    # Without include=, the record alone: its ETag is the one If-Match is checked against.
    for name in names:
        shape, query = _FAST_INCLUDES[name]
        data[name] = shape.records(query.run(cur, dialect, meeting_id=data["id"]))
    return data


@router.get(
    "/{ref}",
    responses=READ,
    summary="Read one meeting",
    response_model=MeetingDetail,
    response_model_exclude_unset=True,
)
async def read_meeting(ref: RecordRef, engine: EngineDep, include: Include = None) -> Any:
    dialect = engine.dialect
    names = list(dict.fromkeys(include.split(","))) if include else []
    # On PostgreSQL one statement answers, with or without include= (see _with_includes), awaited
    # on the event loop; on SQLite one per list, on the event loop too (app.loopreads).
    if dialect.name == "postgresql":
        data = await read_small(
            engine, _meeting_statement(ref, names) if names else MEETINGS.fast_statement(ref)
        )
    else:
        data = await read_small(engine, lambda cur: _read_meeting_statements(cur, dialect, ref, names))
    return json_response(dumps(data))


def _nested(resource: Resource, public: Any, summary: str) -> None:
    column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id

    def handler(
        ref: RecordRef,
        engine: EngineDep,
        request: Request,
        q: TextQuery = None,
        updated_since: UpdatedSince = None,
        sort: Annotated[str | None, sort_param(resource)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
        format: FormatParam = None,
    ) -> Any:
        with raw_cursor(engine) as cur:
            meeting = MEETINGS.fast_get(cur, engine.dialect, ref)
            where = Filters()
            where.add("meeting_id", lambda p: column == p, meeting["id"])
            return list_or_stream(
                engine,
                resource,
                request,
                where=where,
                q=q,
                sort=sort,
                cursor=cursor,
                limit=limit,
                fmt=format,
                updated_since=updated_since,
                cur=cur,
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
