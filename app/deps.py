"""Typed, constrained parameters and the helpers that list and load records."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import ColumnElement, Engine, Select, Table, false, true
from sqlalchemy.orm import Session

from app.config import get_settings
from app.models.common import Page
from app.pagination import paginate
from app.resources import MAX_ID, Resource
from app.search import SEARCHABLE_PATTERN, matching_record_ids
from app.streams import Format, negotiate, stream_collection

_settings = get_settings()

RecordRef = Annotated[
    str,
    Path(
        pattern=r"^(?:[1-9][0-9]{0,17}|[a-z0-9]+(?:-[a-z0-9]+)*)$",
        max_length=120,
        description="Integer id, or the record's slug.",
        examples=["1"],
    ),
]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=_settings.page_size_max,
        description=f"Page size (default {_settings.page_size_default}, at most {_settings.page_size_max}).",
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=2000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page.",
    ),
]
TextQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=SEARCHABLE_PATTERN,
        description="Words to match, folded like /search: case, diacritics and đ/d do not matter. "
        "Needs a Latin letter (with or without diacritics) or a digit.",
        examples=["dang ky"],
    ),
]


def iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD, as the document says (format: date): pydantic alone would also
    take a Unix timestamp ("0") or a datetime for a date."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("Input should be a date in the form YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DateFrom = Annotated[
    dt.date | None, BeforeValidator(iso_date), Query(description="Meetings on or after this day.")
]
DateTo = Annotated[
    dt.date | None, BeforeValidator(iso_date), Query(description="Meetings on or before this day.")
]
DEFAULT_LIMIT = _settings.page_size_default

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    """Only an RFC 3339 date-time with its offset: pydantic alone would also take a Unix
    timestamp, and a time without offset is ambiguous."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("Input should be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-26T08:00:00Z")
    return value


UpdatedSince = Annotated[
    AwareDatetime | None,
    BeforeValidator(_rfc3339),
    Query(
        description="Only records created or changed at or after this instant (RFC 3339 date-time "
        "with offset; `updated_at >= updated_since`). With `/changes` for deletions, this is how a "
        "copy catches up.",
        examples=["2026-11-26T08:00:00Z"],
    ),
]


def updated_since_clause(table: Table, value: dt.datetime) -> ColumnElement[bool]:
    """`updated_at >= value`. updated_at is stored as UTC ISO 8601 text to the second, all of
    one width, so text order is time order: compare with the value as the same text (a
    fraction of a second rounds up: nothing stored lies between)."""
    try:
        utc = value.astimezone(dt.UTC)
        if utc.microsecond:
            utc = utc.replace(microsecond=0) + dt.timedelta(seconds=1)
    except OverflowError:  # beyond year 1 or 9999 once in UTC: everything, or nothing
        return true() if value.year == 1 else false()
    return table.c.updated_at >= utc


def sort_param(resource: Resource) -> Any:
    return Query(
        pattern=resource.sorting.pattern(),
        max_length=200,
        description=resource.sorting.description(),
    )


def list_page(
    session: Session,
    resource: Resource,
    request: Request,
    response: Response,
    *,
    where: Sequence[ColumnElement[bool]],
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    stmt: Select[Any] | None = None,
    updated_since: dt.datetime | None = None,
) -> Page[Any]:
    stmt, count = _filtered(session, resource, where, q, stmt, updated_since)
    result = paginate(session, stmt, resource.sorting, sort=sort, cursor=cursor, limit=limit, count=count)
    if result.next_cursor:
        set_next_link(request, response, result.next_cursor)
    return Page(
        items=resource.publics(session, result.rows),
        total=result.total,
        next_cursor=result.next_cursor,
    )


def set_next_link(request: Request, response: Response, cursor: str) -> None:
    url = request.url.include_query_params(cursor=cursor)
    base = _settings.public_base_url
    link = f"{base.rstrip('/')}{url.path}?{url.query}" if base else str(url)
    response.headers["Link"] = f'<{link}>; rel="next"'


def _filtered(
    session: Session,
    resource: Resource,
    where: Sequence[ColumnElement[bool]],
    q: str | None,
    stmt: Select[Any] | None,
    updated_since: dt.datetime | None = None,
) -> tuple[Select[Any], Select[Any]]:
    """The resource's SELECT and its count, with the filters (and the `q` text match) applied."""
    stmt = resource.select() if stmt is None else stmt
    count = resource.count()
    if updated_since is not None:
        where = [*where, updated_since_clause(resource.table, updated_since)]
    if q is not None:
        where = [*where, resource.table.c.id.in_(matching_record_ids(session, resource.name, q))]
    if where:
        stmt = stmt.where(*where)
        count = count.where(*where)
    return stmt, count


def list_or_stream(
    session: Session,
    resource: Resource,
    request: Request,
    response: Response,
    *,
    where: Sequence[ColumnElement[bool]],
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    fmt: Format | None,
    updated_since: dt.datetime | None = None,
) -> Page[Any] | StreamingResponse:
    """One JSON page (list_page); or, when `fmt` or the Accept header asks for CSV or NDJSON,
    the whole filtered collection in that format, streamed (see app/streams.py)."""
    chosen = negotiate(request, fmt)
    if chosen is Format.json:
        return list_page(
            session,
            resource,
            request,
            response,
            where=where,
            q=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
            updated_since=updated_since,
        )
    stmt, _ = _filtered(session, resource, where, q, None, updated_since)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return stream_collection(
        engine,
        stmt,
        resource.sorting,
        sort,
        resource.public,
        resource.publics,
        chosen,
        resource.path.strip("/"),
    )
