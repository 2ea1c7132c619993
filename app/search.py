"""Full-text search over the folded index, with the same semantics on both back ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Select,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from app.errors import InvalidParameter
from app.models.search import SearchDocument
from app.pagination import PageResult, Sorting, SortKey, decode_cursor, encode_cursor
from app.text import tokens

MAX_TOKENS = 16
# What a query must contain to have something to search for: a Latin letter (with
# or without diacritics, as Vietnamese is written) or a digit. The API checks q
# against it, so that the document states what query_tokens() accepts: every string
# with one of these characters folds to at least one token.
SEARCHABLE_PATTERN = "[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]"
doc_t: Any = SearchDocument.__table__  # type: ignore[attr-defined]
fts_t = table("search_fts", column("rowid"), column("folded"))


def query_tokens(q: str) -> list[str]:
    toks = [t for t in tokens(q) if t.replace("_", "")][:MAX_TOKENS]
    toks = [t.replace("_", "") for t in toks]
    if not toks:
        raise InvalidParameter("query.q", "the query has no letters or digits to search for")
    return toks


def _fts5_query(toks: list[str]) -> str:
    # Every word must match; the last one may be a prefix (the user is still typing).
    return " ".join(f'"{t}"' for t in toks[:-1]) + (" " if len(toks) > 1 else "") + f'"{toks[-1]}"*'


def _tsquery(toks: list[str]) -> str:
    return " & ".join([*toks[:-1], f"{toks[-1]}:*"])


def _matches(dialect: str, toks: list[str]) -> tuple[Select[Any], ColumnElement[Any]]:
    """A SELECT of matching search_document rows and its score (higher is better)."""
    if dialect == "sqlite":
        score = (-func.bm25(literal_column("search_fts"))).label("score")
        stmt = (
            select(doc_t.c.id)
            .select_from(fts_t.join(doc_t, doc_t.c.id == fts_t.c.rowid))
            .where(text("search_fts MATCH :fts").bindparams(fts=_fts5_query(toks)))
        )
        return stmt, score
    vector = func.to_tsvector(literal_column("'simple'::regconfig"), doc_t.c.folded)
    query = func.to_tsquery(literal_column("'simple'::regconfig"), _tsquery(toks))
    # ts_rank is a float4: cast it, or the cursor (a float8 from JSON) never equals it again.
    score = cast(func.ts_rank(vector, query), Double).label("score")
    return select(doc_t.c.id).where(vector.op("@@")(query)), score


def matching_record_ids(conn: Session | Connection, type_: str, q: str) -> Select[Any]:
    """Subquery of record ids of one type whose text matches q (for ?q= filters)."""
    toks = query_tokens(q)
    dialect = conn.dialect.name if isinstance(conn, Connection) else conn.get_bind().dialect.name
    stmt, _ = _matches(dialect, toks)
    return stmt.with_only_columns(doc_t.c.record_id).where(doc_t.c.type == type_)


SEARCH_SORTING = Sorting(
    keys={"score": SortKey.number(column("score")), "id": SortKey.integer(column("id"))}, default="-score"
)


SEARCH_CANDIDATES = 1000  # the newest matches that are ranked; see search()


def search(
    session: Session,
    q: str,
    *,
    types: list[str] | None,
    meeting_id: int | None,
    cursor: str | None,
    limit: int,
) -> PageResult:
    """Rank the newest SEARCH_CANDIDATES matching records and return one page of them.

    Ranking every match of a common word costs time in proportion to the number
    of matches (bm25 or ts_rank for each); taking the newest matches first lets
    both indexes stop early, so a search costs about the same at a thousand or a
    million records. `total` counts the hits that can be paged through.
    """
    toks = query_tokens(q)
    dialect = session.get_bind().dialect.name
    stmt, score = _matches(dialect, toks)
    stmt = stmt.add_columns(score)
    if types:
        stmt = stmt.where(doc_t.c.type.in_(types))
    if meeting_id is not None:
        stmt = stmt.where(doc_t.c.meeting_id == meeting_id)
    order_id = fts_t.c.rowid if dialect == "sqlite" else doc_t.c.id
    stmt = stmt.order_by(order_id.desc()).limit(SEARCH_CANDIDATES)
    # Best first, ties by id: the same order the cursor encodes.
    hits = sorted(((float(r[1]), int(r[0])) for r in session.execute(stmt)), key=lambda h: (-h[0], h[1]))
    total = len(hits)
    if cursor:
        keys = [SEARCH_SORTING.keys["score"], SEARCH_SORTING.keys["id"]]
        after_score, after_id = decode_cursor(cursor, "-score,id", keys)
        hits = [h for h in hits if (-h[0], h[1]) > (-after_score, after_id)]
    page, more = hits[:limit], len(hits) > limit
    docs = {}
    if page:
        rows = session.execute(
            select(
                doc_t.c.id, doc_t.c.type, doc_t.c.record_id, doc_t.c.meeting_id, doc_t.c.title, doc_t.c.body
            ).where(doc_t.c.id.in_([h[1] for h in page]))
        ).mappings()
        docs = {r["id"]: r for r in rows}
    result = [{**docs[id_], "score": sc} for sc, id_ in page if id_ in docs]
    next_cursor = encode_cursor("-score,id", [page[-1][0], page[-1][1]]) if more else None
    return PageResult(result, total, next_cursor)
