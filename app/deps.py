"""Typed, constrained parameters and the helpers that list and load records."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from pydantic import BeforeValidator
from sqlalchemy import ColumnElement, Connection, Engine, Select

from app.config import get_settings
from app.etag import etag_for
from app.fastread import JSON_MEDIA_TYPE, dumps, page_bytes, raw_cursor
from app.pagination import paginate
from app.resources import MAX_ID, Resource
from app.search import SEARCHABLE_PATTERN, matching_record_ids

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


def _iso_date(value: Any) -> Any:
    """Only YYYY-MM-DD, as the document says (format: date): pydantic alone would also
    take a Unix timestamp ("0") or a datetime for a date."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("Input should be a date in the form YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DateFrom = Annotated[
    dt.date | None, BeforeValidator(_iso_date), Query(description="Meetings on or after this day.")
]
DateTo = Annotated[
    dt.date | None, BeforeValidator(_iso_date), Query(description="Meetings on or before this day.")
]
DEFAULT_LIMIT = _settings.page_size_default


def sort_param(resource: Resource) -> Any:
    return Query(
        pattern=resource.sorting.pattern(),
        max_length=200,
        description=resource.sorting.description(),
    )


def list_page(
    conn: Connection,
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
) -> Response:
    """One page of `resource` as the JSON response (the fast read path: app/fastread.py).

    The rows go from the connection straight to JSON bytes shaped by the public
    model; the route keeps `response_model=Page[...]` for its documentation.
    """
    stmt = resource.fast_select if stmt is None else stmt
    count = resource.count()
    if q is not None:
        where = [*where, resource.table.c.id.in_(matching_record_ids(conn, resource.name, q))]
    if where:
        stmt = stmt.where(*where)
        count = count.where(*where)
    result = paginate(conn, stmt, resource.sorting, sort=sort, cursor=cursor, limit=limit, count=count)
    out = Response(
        page_bytes(resource.shape.records(result.rows), result.total, result.next_cursor),
        media_type=JSON_MEDIA_TYPE,
    )
    if result.next_cursor:
        set_next_link(request, out, result.next_cursor)
    return out


def set_next_link(request: Request, response: Response, cursor: str) -> None:
    url = request.url.include_query_params(cursor=cursor)
    base = _settings.public_base_url
    link = f"{base.rstrip('/')}{url.path}?{url.query}" if base else str(url)
    response.headers["Link"] = f'<{link}>; rel="next"'


def record_response(engine: Engine, resource: Resource, ref: str) -> Response:
    """One record by id or slug (or 404), with its ETag: the fast read path of GET /{collection}/{ref}.

    The ETag is the hash of the body, which is the record's public JSON: the
    same tag writes check If-Match against (app.etag.record_etag).
    """
    with raw_cursor(engine) as cur:
        data = resource.fast_get(cur, engine.dialect, ref)
    body = dumps(data)
    return Response(
        body, media_type=JSON_MEDIA_TYPE, headers={"ETag": etag_for(body), "Cache-Control": "no-cache"}
    )
