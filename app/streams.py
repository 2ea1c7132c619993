"""Whole collections as CSV or NDJSON, streamed.

A collection route answers JSON pages by default; `?format=csv|ndjson`, or an
`Accept` header asking for `text/csv` or `application/x-ndjson`, turns it into a
download of the WHOLE filtered collection in the route's sort order (the query
parameter wins over the header; `limit` and `cursor` do not apply). The rows come
from one SELECT (its filters evaluated once, one snapshot), fetched in batches and
written as they come: memory stays flat whatever the size of the collection.

CSV: UTF-8, a header row with the fields of the JSON records in the same order,
RFC 4180 quoting (CRLF line ends), an empty cell for null, and list fields
(`connection_points`, `addressees`, `concerns`) as a JSON array in one cell.
NDJSON: one JSON record a line, exactly as the JSON pages give them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine

from app.errors import AppError
from app.fastread import RawQuery, Shape, dumps

BATCH = 500


class Format(StrEnum):
    json = "json"
    csv = "csv"
    ndjson = "ndjson"


MEDIA_TYPES = {
    Format.json: "application/json",
    Format.csv: "text/csv",
    Format.ndjson: "application/x-ndjson",
}

FormatParam = Annotated[
    Format | None,
    Query(
        description="`csv` or `ndjson`: the whole filtered collection (every page, in the `sort` "
        "order; `limit` and `cursor` do not apply) as a streamed download. Wins over the `Accept` "
        "header (`text/csv`, `application/x-ndjson`). CSV: UTF-8, a header row, RFC 4180 quoting, "
        "empty cell for null, list fields as a JSON array in one cell.",
        examples=["csv"],
    ),
]


class NotAcceptable(AppError):
    status = 406
    slug = "not-acceptable"


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def _quality(media: str, ranges: list[tuple[str, float]]) -> float | None:
    """The q the most specific matching range gives `media` (None: nothing matches)."""
    kind = media.split("/")[0]
    best: tuple[int, float] | None = None
    for candidate, q in ranges:
        if candidate == media:
            rank = 2
        elif candidate == f"{kind}/*":
            rank = 1
        elif candidate == "*/*":
            rank = 0
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, q)
    return None if best is None else best[1]


def negotiate(request: Request, requested: Format | None) -> Format:
    """The format to answer in: `?format=` if given, else the best the Accept header allows.

    JSON is preferred on a tie. An Accept header that allows none of the three, and
    names no JSON type either, is a 406.
    """
    if requested is not None:
        return requested
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return Format.json
    ranges = _media_ranges(accept)
    scored = [(q, -i, fmt) for i, fmt in enumerate(Format) if (q := _quality(MEDIA_TYPES[fmt], ranges))]
    if scored:
        return max(scored)[2]
    if any("json" in media for media, _ in ranges):
        return Format.json  # application/problem+json, application/*+json, ...
    raise NotAcceptable(
        "This collection is served as application/json, text/csv or application/x-ndjson; "
        f"the Accept header allows none of them: {accept[:200]!r}.",
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_text(fields: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]) -> Iterator[str]:
    """A header row of `fields`, then each batch of rows (their values in the same order) as CSV:
    one piece of text per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes where needed, CRLF line ends

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(fields)
    for rows in batches:
        writer.writerows([[_cell(v) for v in row] for row in rows])
        yield flush()
    yield flush()


def batches_of(engine: Engine, query: RawQuery, values: dict[str, Any], size: int) -> Iterator[list[Any]]:
    """The rows of one SELECT, `size` at a time, as the database sends them.

    One statement, so its filters are evaluated once and every row comes from one snapshot:
    SQLite steps it as the rows are fetched; on PostgreSQL it is a server-side cursor (psycopg
    DECLAREs it and FETCHes `size` rows at a time), whose rows are not all held in memory. A
    download that stops early (the client went away) closes the generator, and the cursor with it.
    """
    compiled = query.compiled(engine.dialect)
    params = compiled.params(values)
    conn = engine.raw_connection()
    try:
        if compiled.sqlite:
            cur: Any = conn.cursor()
        else:
            # A cursor is planned for its first tenth by default (cursor_tuple_fraction): a plan
            # that walks the sort order's index and filters as it goes. A download reads every
            # row: ten days' directives of 1,000,000 took 1.1-1.6 s so (the primary key walked,
            # each directive's meeting looked up), 0.2-0.4 s planned for all of them (the ten
            # days' meetings by date, their directives, then sorted). For this transaction only.
            setting = conn.cursor()
            setting.execute("SET LOCAL cursor_tuple_fraction = 1.0")
            setting.close()
            cur = conn.driver_connection.cursor(name="collection_stream")  # type: ignore[union-attr]
        try:
            cur.execute(compiled.sql, params)
            while rows := cur.fetchmany(size):
                yield rows
        finally:
            cur.close()
            if not compiled.sqlite:
                conn.rollback()  # the server-side cursor's transaction: a read, nothing to keep
    finally:
        conn.close()


def stream_collection(
    engine: Engine,
    query: RawQuery,
    params: dict[str, Any],
    shape: Shape,
    fmt: Format,
    name: str,
) -> StreamingResponse:
    """The rows of `query` (the fast read path's SELECT of a collection, filtered and sorted:
    app.deps.list_or_stream) as a CSV or NDJSON download. An NDJSON line is the record's JSON as
    a page gives it (the same bytes); a CSV row has its values in the same order."""

    def ndjson() -> Iterator[bytes]:
        for rows in batches_of(engine, query, params, BATCH):
            yield b"".join([dumps(shape.record(row)) + b"\n" for row in rows])

    def values() -> Iterator[list[list[Any]]]:
        for rows in batches_of(engine, query, params, BATCH):
            yield [shape.values(row) for row in rows]

    body = csv_text(shape.fields, values()) if fmt is Format.csv else ndjson()
    media_type = MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt is Format.csv else "")
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )
