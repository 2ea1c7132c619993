from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.db import EngineDep
from app.deps import DEFAULT_LIMIT, Cursor, IdFilter, Limit, set_next_link
from app.fastread import json_response, page_bytes, raw_cursor
from app.models.common import Page
from app.models.search import HitType, SearchHit
from app.openapi_docs import LIST
from app.search import SEARCHABLE_PATTERN, query_tokens, search
from app.text import snippet

router = APIRouter(tags=["search"])

_PATHS = {
    HitType.meeting: "meetings",
    HitType.person: "people",
    HitType.participant: "participants",
    HitType.directive: "directives",
    HitType.shortcoming: "shortcomings",
    HitType.finding: "findings",
    HitType.document: "documents",
}


@router.get(
    "/search",
    responses=LIST,
    summary="Search every kind of record",
    description="Ranked full-text search over meetings, people, participations, directives, "
    "shortcomings, findings and documents. The newest 1,000 matching records are ranked "
    "(so a search costs the same on a large database); `total` counts the hits that can be "
    "paged through. Narrow a broad query with more words, `type` or `meeting_id`.",
    response_model=Page[SearchHit],
)
def search_records(
    engine: EngineDep,
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            pattern=SEARCHABLE_PATTERN,
            description="Words to find. Case, diacritics (đ/d too) and Unicode normal form do not "
            "matter: `dang ky` finds `đăng ký`. Every word must match; the last may be a prefix. "
            "Needs a Latin letter (with or without diacritics) or a digit.",
            examples=["dang ky"],
        ),
    ],
    type: Annotated[list[HitType] | None, Query(description="Only hits of these types (repeatable).")] = None,
    meeting_id: Annotated[IdFilter, Query(description="Only records of this meeting.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    toks = query_tokens(q)
    with raw_cursor(engine) as cur:
        result = search(
            cur,
            engine.dialect,
            q,
            types=[t.value for t in type] if type else None,
            meeting_id=meeting_id,
            cursor=cursor,
            limit=limit,
        )
    # SearchHit's fields, in its order (the fast read path: app/fastread.py).
    items = [
        {
            "type": row["type"],
            "id": row["record_id"],
            "meeting_id": row["meeting_id"],
            "title": row["title"],
            "snippet": snippet(row["title"] + "\n" + row["body"] if row["body"] else row["title"], toks),
            "url": f"/api/v1/{_PATHS[HitType(row['type'])]}/{row['record_id']}",
            "score": round(float(row["score"]), 6),
        }
        for row in result.rows
    ]
    out = json_response(page_bytes(items, result.total, result.next_cursor))
    if result.next_cursor:
        set_next_link(request, out, result.next_cursor)
    return out
