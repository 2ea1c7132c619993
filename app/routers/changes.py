"""GET /changes: every create, update and delete, in commit order (the change feed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select

from app.changes import change_t
from app.db import SessionDep
from app.deps import DEFAULT_LIMIT, Cursor, Limit, set_next_link
from app.models.change import ChangePage, ChangePublic
from app.openapi_docs import LIST
from app.pagination import Sorting, SortKey, paginate
from app.resources import MAX_ID

router = APIRouter(tags=["changes"])

SEQ = Sorting(keys={"seq": SortKey.integer(change_t.c.seq)}, default="seq", tiebreak="seq")


@router.get(
    "/changes",
    responses=LIST,
    summary="The change feed: every create, update and delete, oldest first",
    description="Every write to a record, in the order the writes were committed: its collection, "
    "id and slug, the action, who made it (the API key's name, or `seed:<file>` for a seed load), "
    "when, and the record as the API answered it after the change (`data`; null for a delete, "
    "which leaves this tombstone). Page with `since` (the `last_seq` of the previous answer: "
    "entries after it) or with `next_cursor` / the `Link` header. `seq` only grows, with gaps "
    "(a write that failed), and an entry is never committed after one with a higher `seq`, so "
    "resuming from `last_seq` misses nothing. Replaying the feed from `since=0` into an empty "
    "database (`python -m app changes replay --from URL`) gives the same records.",
)
def read_changes(
    session: SessionDep,
    request: Request,
    response: Response,
    since: Annotated[
        int,
        Query(ge=0, le=MAX_ID, description="Only entries with a higher `seq`: 0 for the whole feed."),
    ] = 0,
    collection: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z_]+$",
            max_length=40,
            description="Only the entries of this collection (`meetings`, `people`, `participants`, "
            "`directives`, `shortcomings`, `findings`, `documents`, `assignees`, `reviews`, `citations`).",
            examples=["directives"],
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ChangePage:
    where = [change_t.c.seq > since]
    if collection is not None:
        where.append(change_t.c.collection == collection)
    stmt = select(*change_t.c).where(*where)
    count = select(func.count()).select_from(change_t).where(*where)
    result = paginate(session, stmt, SEQ, sort=None, cursor=cursor, limit=limit, count=count)
    if result.next_cursor:
        set_next_link(request, response, result.next_cursor)
    items = [ChangePublic.model_validate(dict(r._mapping)) for r in result.rows]
    return ChangePage(
        items=items,
        total=result.total,
        next_cursor=result.next_cursor,
        last_seq=items[-1].seq if items else since,
    )
