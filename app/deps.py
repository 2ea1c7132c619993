"""Typed, constrained parameters and the helpers that list and load records."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy import ColumnElement, Engine, Integer, String, Table, bindparam, false, true, type_coerce
from sqlalchemy.engine import Dialect

from app.cache import counted
from app.config import get_settings
from app.fastread import Filters, RawQuery, dumps, json_response, page_bytes, raw_cursor
from app.loopreads import read_small
from app.pagination import SortKey, decode_cursor, encode_cursor, keyset_after
from app.resources import MAX_ID, Resource
from app.search import SEARCHABLE_PATTERN, match_param, matching_record_ids
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


def _since_filter(where: Filters, resource: Resource, value: dt.datetime | None) -> None:
    """`updated_at >= value`. updated_at is stored as UTC ISO 8601 text to the second, all of
    one width, so text order is time order: compare with the value as the same text (a
    fraction of a second rounds up: nothing stored lies between)."""
    if value is None:
        return
    table = resource.table
    try:
        utc = value.astimezone(dt.UTC)
        if utc.microsecond:
            utc = utc.replace(microsecond=0) + dt.timedelta(seconds=1)
    except OverflowError:  # beyond year 1 or 9999 once in UTC: everything, or nothing
        everything = value.year == 1
        where.add_fixed(f"updated_since={'all' if everything else 'none'}", true if everything else false)
        return
    where.add("updated_since", lambda p: _updated_at(table) >= p, utc.isoformat())


def _updated_at(table: Table) -> ColumnElement[Any]:
    """updated_at as its stored text, so that the ISO 8601 text bound against it goes through as it is."""
    return type_coerce(table.c.updated_at, String())


def sort_param(resource: Resource) -> Any:
    return Query(
        pattern=resource.sorting.pattern(),
        max_length=200,
        description=resource.sorting.description(),
    )


@dataclass(frozen=True)
class ListQueries:
    """The SQL of a list request, compiled once per shape of request (app.fastread.RawQuery)."""

    page: RawQuery  # a page: the sort keys labelled _k0, _k1..., after the cursor's, LIMIT page_limit
    count: RawQuery  # the total
    whole: RawQuery  # every row, in order: the CSV and NDJSON downloads (app.streams)


# The compiled SQL of lists per back end, resource, filter names, sort and cursor or not (the back
# end too: a filter's clause may be its own, as ?q='s is).
_LIST_SQL: dict[tuple[Any, ...], ListQueries] = {}
_LIST_SQL_MAX = 4096  # combinations of filters and sorts a deployment uses: few; bounded all the same


def _list_queries(
    dialect_name: str,
    resource: Resource,
    where: Filters,
    sort_str: str,
    keys: list[SortKey],
    descs: list[bool],
    after: bool,
) -> ListQueries:
    cache_key = (dialect_name, id(resource), where.key(), sort_str, after)
    hit = _LIST_SQL.get(cache_key)
    if hit is not None:
        return hit
    clauses = where.clauses()
    exprs = [k.expr for k in keys]
    order = [e.desc() if d else e.asc() for e, d in zip(exprs, descs, strict=True)]
    whole = resource.fast_select.where(*clauses).order_by(*order)
    page = resource.fast_select.where(*clauses).add_columns(*(e.label(f"_k{i}") for i, e in enumerate(exprs)))
    if after:
        params = [bindparam(f"after_{i}", type_=e.type) for i, e in enumerate(exprs)]
        page = page.where(keyset_after(exprs, descs, params))
    page = page.order_by(*order).limit(bindparam("page_limit", type_=Integer()))
    count = resource.count().where(*clauses) if clauses else resource.count()
    hit = ListQueries(RawQuery(page), RawQuery(count), RawQuery(whole))
    if len(_LIST_SQL) >= _LIST_SQL_MAX:
        _LIST_SQL.clear()
    _LIST_SQL[cache_key] = hit
    return hit


def _sort_keys(resource: Resource, sort: str | None) -> tuple[str, list[SortKey], list[bool]]:
    """`sort` resolved (its tiebreak added; an unknown key a 422): as text, its keys, their directions."""
    resolved = resource.sorting.resolve(sort)
    sort_str = ",".join(("-" if d else "") + n for n, d in resolved)
    return sort_str, [resource.sorting.keys[n] for n, _ in resolved], [d for _, d in resolved]


def list_page(
    cur: Any,
    dialect: Dialect,
    resource: Resource,
    request: Request,
    *,
    where: Filters,
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    updated_since: dt.datetime | None = None,
) -> Response:
    """One page of `resource` as the JSON response, on a raw cursor (the fast read path: app/fastread.py).

    Keyset pagination as app.pagination describes it, on SQL compiled once per
    shape of request; the rows go straight to JSON bytes shaped by the public
    model (the route keeps `response_model=Page[...]` for its documentation).
    """
    _since_filter(where, resource, updated_since)
    _q_filter(where, dialect.name, resource, q)
    sort_str, keys, descs = _sort_keys(resource, sort)
    after = decode_cursor(cursor, sort_str, keys) if cursor else None
    queries = _list_queries(dialect.name, resource, where, sort_str, keys, descs, after is not None)
    page, count = queries.page, queries.count
    values = where.values()
    filters = dict(values)
    if after is not None:
        values.update({f"after_{i}": v for i, v in enumerate(after)})
    rows = page.run(cur, dialect, page_limit=limit + 1, **values)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        n = len(resource.shape.fields)
        next_cursor = encode_cursor(sort_str, list(rows[-1][n:]))
    if after is None and next_cursor is None:
        total = len(rows)  # the first page holds them all: nothing else to count
    else:
        # In the page's transaction: the same rows the page was cut from.
        total = counted(count.key(dialect, filters), lambda: int(count.run(cur, dialect, **filters)[0][0]))
    out = json_response(page_bytes(resource.shape.records(rows), total, next_cursor))
    if next_cursor:
        set_next_link(request, out, next_cursor)
    return out


def _q_filter(where: Filters, dialect_name: str, resource: Resource, q: str | None) -> None:
    if q is not None:
        where.add(
            "q",
            lambda p: resource.table.c.id.in_(matching_record_ids(dialect_name, resource.name, p)),
            match_param(dialect_name, q),
        )


def list_or_stream(
    engine: Engine,
    resource: Resource,
    request: Request,
    *,
    where: Filters,
    q: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
    fmt: Format | None,
    updated_since: dt.datetime | None = None,
    cur: Any = None,
) -> Response:
    """One JSON page (list_page, on `cur` if given, else on a cursor of its own); or, when `fmt`
    or the Accept header asks for CSV or NDJSON, the whole filtered collection in that format,
    streamed (see app/streams.py)."""
    chosen = negotiate(request, fmt)
    if chosen is Format.json:
        if cur is not None:
            return list_page(
                cur,
                engine.dialect,
                resource,
                request,
                where=where,
                q=q,
                sort=sort,
                cursor=cursor,
                limit=limit,
                updated_since=updated_since,
            )
        with raw_cursor(engine) as own:
            return list_page(
                own,
                engine.dialect,
                resource,
                request,
                where=where,
                q=q,
                sort=sort,
                cursor=cursor,
                limit=limit,
                updated_since=updated_since,
            )
    _since_filter(where, resource, updated_since)
    _q_filter(where, engine.dialect.name, resource, q)
    sort_str, keys, descs = _sort_keys(resource, sort)  # a bad sort: a 422 now, not a broken stream later
    queries = _list_queries(engine.dialect.name, resource, where, sort_str, keys, descs, False)
    return stream_collection(
        engine, queries.whole, where.values(), resource.shape, chosen, resource.path.strip("/")
    )


def set_next_link(request: Request, response: Response, cursor: str) -> None:
    url = request.url.include_query_params(cursor=cursor)
    base = _settings.public_base_url
    link = f"{base.rstrip('/')}{url.path}?{url.query}" if base else str(url)
    response.headers["Link"] = f'<{link}>; rel="next"'


async def record_response(engine: Engine, resource: Resource, ref: str) -> Response:
    """One record by id or slug (or 404), with its ETag: the fast read path of GET /{collection}/{ref},
    on the event loop (app.loopreads: a read of one record costs less than a threadpool hop).

    The ETag is the hash of the body, which is the record's public JSON: the
    same tag writes check If-Match against (app.etag.record_etag).
    """
    data = await read_small(engine, resource.fast_statement(ref))
    return json_response(dumps(data))
