"""Whole collections as CSV or NDJSON, streamed.

A collection route answers JSON pages by default; `?format=csv|ndjson`, or an
`Accept` header asking for `text/csv` or `application/x-ndjson`, turns it into a
download of the WHOLE filtered collection in the route's sort order (the query
parameter wins over the header; `limit` and `cursor` do not apply). Rows are read
in keyset batches, in one read transaction, and written as they come: memory
stays flat whatever the size of the collection.

CSV: UTF-8, a header row with the fields of the JSON records in the same order,
RFC 4180 quoting (CRLF line ends), an empty cell for null, and list fields
(`connection_points`, `addressees`, `concerns`) as a JSON array in one cell.
NDJSON: one JSON record a line, exactly as the JSON pages give them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine, RowMapping, Select

from app.errors import AppError
from app.export import snapshot
from app.pagination import Sorting, keyset_after

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


def csv_lines(fields: list[str], records: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes where needed, CRLF line ends

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(fields)
    yield flush()
    for n, record in enumerate(records, 1):
        writer.writerow([_cell(record.get(f)) for f in fields])
        if n % 100 == 0:
            yield flush()
    yield flush()


def rows_in_order(
    engine: Engine, stmt: Select[Any], sorting: Sorting, sort: str | None, size: int = BATCH
) -> Iterator[RowMapping]:
    """Every row of `stmt` in the order of `sort`, read in keyset batches of `size`."""
    resolved = sorting.resolve(sort)
    exprs = [sorting.keys[n].expr for n, _ in resolved]
    descs = [d for _, d in resolved]
    labelled = stmt.add_columns(*[e.label(f"_k{i}") for i, e in enumerate(exprs)]).order_by(
        *[e.desc() if d else e.asc() for e, d in zip(exprs, descs, strict=True)]
    )
    with snapshot(engine) as conn:
        after: list[Any] | None = None
        while True:
            page = labelled if after is None else labelled.where(keyset_after(exprs, descs, after))
            rows = list(conn.execute(page.limit(size)).mappings())
            yield from rows
            if len(rows) < size:
                return
            after = [rows[-1][f"_k{i}"] for i in range(len(exprs))]


def stream_collection(
    engine: Engine,
    stmt: Select[Any],
    sorting: Sorting,
    sort: str | None,
    public: type[Any],
    to_public: Any,
    fmt: Format,
    name: str,
) -> StreamingResponse:
    sorting.resolve(sort)  # a bad sort is a 422 now, not a broken stream later

    def records() -> Iterator[dict[str, Any]]:
        for row in rows_in_order(engine, stmt, sorting, sort):
            record: dict[str, Any] = to_public(row).model_dump(mode="json")
            yield record

    def ndjson() -> Iterator[str]:
        lines: list[str] = []
        for row in rows_in_order(engine, stmt, sorting, sort):
            lines.append(to_public(row).model_dump_json() + "\n")
            if len(lines) == 100:
                yield "".join(lines)
                lines.clear()
        yield "".join(lines)

    body = csv_lines(list(public.model_fields), records()) if fmt is Format.csv else ndjson()
    media_type = MEDIA_TYPES[fmt] + ("; charset=utf-8" if fmt is Format.csv else "")
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )
