"""Full-text search over the folded index, with the same semantics on both back ends."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Integer,
    Select,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)

from app.errors import InvalidParameter
from app.fastread import RawQuery
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
_tsv: ColumnElement[Any] = literal_column(
    "search_document.folded_tsv"
)  # PostgreSQL only: see app.search_index


def query_tokens(q: str) -> list[str]:
    toks = [t for t in tokens(q) if t.replace("_", "")][:MAX_TOKENS]
    toks = [t.replace("_", "") for t in toks]
    if not toks:
        raise InvalidParameter("query.q", "the query has no letters or digits to search for")
    return toks


def _fts5_query(toks: list[str]) -> str:
    """Every word must match; a word ending in "*" is a prefix (the last one: the user is still typing)."""
    return " ".join(f'"{t[:-1]}"*' if t.endswith("*") else f'"{t}"' for t in toks)


def _tsquery(toks: list[str]) -> str:
    return " & ".join([*toks[:-1], f"{toks[-1]}:*"])


def match_param(dialect: str, q: str) -> str:
    """The text query for the back end's index: an FTS5 query on SQLite, a tsquery on PostgreSQL."""
    toks = query_tokens(q)
    return _fts5_query([*toks[:-1], toks[-1] + "*"]) if dialect == "sqlite" else _tsquery(toks)


SQLITE_MATCH_INDEX = "ix_search_document_id_type_meeting_id_record_id"


def matching_record_ids(dialect: str, type_: str, query: Any) -> Select[Any]:
    """Subquery of record ids of one type whose text matches `query`, for ?q= filters.

    `query` is match_param()'s text, or a bind parameter that will hold it.
    """
    if dialect == "sqlite":
        # Each match's type and record id read from SQLITE_MATCH_INDEX, not from its row with its
        # texts, which SQLite would read by its id otherwise: with 1,000,000 directives,
        # /directives?q=triển khai (476,464 matches) counted its total in 589 -> 310 ms and cut
        # its page in 460 -> 183 ms. SQLAlchemy writes no INDEXED BY, so the FROM is text; the
        # columns are text too, or SQLAlchemy would add search_document to the FROM a second time.
        found = text(
            f"search_fts JOIN search_document INDEXED BY {SQLITE_MATCH_INDEX} "
            "ON search_document.id = search_fts.rowid"
        )
        return (
            select(literal_column("search_document.record_id"))
            .select_from(found)
            .where(
                literal_column("search_fts").op("MATCH")(query),
                literal_column("search_document.type") == literal(type_),
            )
        )
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), query)
    return select(doc_t.c.record_id).where(_tsv.op("@@")(tsquery), doc_t.c.type == type_)


SEARCH_SORTING = Sorting(
    keys={"score": SortKey.number(column("score")), "id": SortKey.integer(column("id"))}, default="-score"
)


SEARCH_CANDIDATES = 1000  # the newest matches that are ranked; see search()
# PostgreSQL: GIN gives its matches in no order, so for a common word it would fetch every
# match before keeping the newest. The newest matches are first looked for by walking the
# primary key backwards over the newest FIRST_WINDOW documents (stopping at the
# SEARCH_CANDIDATES-th match); if that is not enough, over a window sized from the density
# of matches seen, if it is at most MAX_WINDOW; else through the GIN index over all documents
# (a rare query: few matches, short posting lists). Each step's result is exact when it has
# SEARCH_CANDIDATES rows: the newest matches all lie in the window.
FIRST_WINDOW = 2_000
MAX_WINDOW = 200_000
# A page's rows (after the count, and on PostgreSQL the largest id): the hit's document and its score.
_HIT_COLUMNS = ("id", "score", "type", "record_id", "meeting_id", "title", "body")
_PG_PAGE_SQL: dict[tuple[Any, ...], RawQuery] = {}


def _pg_page_query(types: tuple[str, ...], meeting: bool, windowed: bool, after: bool) -> RawQuery:
    """One statement for a page on PostgreSQL (cached per shape): the newest :candidates
    matches of :match (among the newest :window documents if `windowed`), ranked; their
    number; the largest document id; and the page of them after the cursor, with their
    documents. Always one row at least: the count and the id, with NULL for the rest when the
    page is empty. The candidates are ranked and cut to the page by the server, so only the
    page's rows come back (not every candidate, to sort here)."""
    key = (types, meeting, windowed, after)
    hit = _PG_PAGE_SQL.get(key)
    if hit is not None:
        return hit
    match: Any = bindparam("match")
    where: list[ColumnElement[bool]] = []
    if types:
        where.append(doc_t.c.type.in_(types))
    if meeting:
        where.append(doc_t.c.meeting_id == bindparam("meeting_id"))
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), match)
    top = select(func.max(doc_t.c.id)).scalar_subquery()
    if windowed:
        where.append(doc_t.c.id > top - bindparam("window", type_=Integer()))
        # Within a window the newest documents are read one by one, walking the primary key
        # backwards: ts_match_vq is @@ as a function, which no index answers. Offered @@, the
        # planner misjudges how many documents match several common words (they are not
        # independent) and intersects their long posting lists in the GIN index instead.
        matches: ColumnElement[Any] = func.ts_match_vq(_tsv, tsquery)
    else:
        matches = _tsv.op("@@")(tsquery)
    newest = (
        select(doc_t.c.id, _tsv.label("tsv"))
        .where(matches, *where)
        .order_by(doc_t.c.id.desc())
        .limit(bindparam("candidates", type_=Integer()))
        .subquery("newest")
    )
    # Ranked after the LIMIT: ts_rank for the candidates only.
    # ts_rank is a float4: cast it, or the cursor (a float8 from JSON) never equals it again.
    ranked = select(newest.c.id, cast(func.ts_rank(newest.c.tsv, tsquery), Double).label("score")).cte("c")
    page = select(ranked.c.id, ranked.c.score)
    if after:
        # Best first, ties by id: the order the cursor encodes.
        score: Any = bindparam("after_score", type_=Double())
        id_: Any = bindparam("after_id", type_=Integer())
        page = page.where(or_(ranked.c.score < score, and_(ranked.c.score == score, ranked.c.id > id_)))
    page_limit: Any = bindparam("page_limit", type_=Integer())
    picked = page.order_by(ranked.c.score.desc(), ranked.c.id).limit(page_limit).subquery("p")
    hits = (
        select(picked.c.id, picked.c.score, *(doc_t.c[name] for name in _HIT_COLUMNS[2:]))
        .join_from(picked, doc_t, doc_t.c.id == picked.c.id)
        .subquery("hits")
    )
    total = select(func.count().label("total"), top.label("top")).select_from(ranked).subquery("n")
    stmt = (
        select(total.c.total, total.c.top, *hits.c)
        .select_from(total.outerjoin(hits, true()))
        .order_by(hits.c.score.desc(), hits.c.id)
    )
    hit = RawQuery(stmt)
    _PG_PAGE_SQL[key] = hit
    return hit


# The score on SQLite: BM25's parameters, as FTS5's bm25() has them, and the length of text it
# takes as typical, in characters of folded text (the records of data/seed.json average 108;
# those of `python -m app generate`, 15 for a person to 300 for a meeting).
BM25_K1 = 1.2
BM25_B = 0.75
BM25_TYPICAL_LENGTH = 100


def _sqlite_candidates_sql(ntypes: int, meeting: bool) -> str:
    """The newest :candidates matches of :match on SQLite, as (id, tf, len): how many of the
    document's words the query matched (highlight() marks each with one character, so the
    marked text is longer by that many) and the length of its folded text."""
    measures = (
        "SELECT search_fts.rowid AS id, "
        "length(highlight(search_fts, 0, char(1), '')) - length(d.folded) AS tf, "
        "length(d.folded) AS len FROM search_fts "
    )
    if not ntypes and not meeting:
        # The FTS5 table gives its rowids (search_document's ids) newest first; only the
        # candidates are looked up in search_document (CROSS JOIN: FTS5 is the outer loop).
        return (
            f"{measures}CROSS JOIN search_document AS d ON d.id = search_fts.rowid "
            "WHERE search_fts MATCH :match ORDER BY search_fts.rowid DESC LIMIT :candidates"
        )
    where = [f"d.type IN ({', '.join(f':type{i}' for i in range(ntypes))})"] if ntypes else []
    if meeting:
        # A meeting's documents lie between its smallest and largest id (a few dozen, made
        # together): FTS5 reads only that range of its document lists, instead of joining
        # every match to search_document to look at its meeting.
        where += [
            "d.meeting_id = :meeting_id",
            "search_fts.rowid >= (SELECT min(id) FROM search_document WHERE meeting_id = :meeting_id)",
            "search_fts.rowid <= (SELECT max(id) FROM search_document WHERE meeting_id = :meeting_id)",
        ]
    # CROSS JOIN: the FTS5 table is the outer loop (else, with the bounds, SQLite may probe
    # it once per document of the meeting, each probe a whole MATCH). INDEXED BY: SQLite
    # would read each match's row by its id (the primary key), with its texts; the index
    # has the type and meeting, and is far smaller (with a rare type, every match is read);
    # the row itself is read for the candidates only (their text's length).
    return (
        f"{measures}CROSS JOIN search_document AS d INDEXED BY {SQLITE_MATCH_INDEX} "
        "ON d.id = search_fts.rowid "
        f"WHERE search_fts MATCH :match AND {' AND '.join(where)} "
        "ORDER BY search_fts.rowid DESC LIMIT :candidates"
    )


_SQLITE_PAGE: dict[tuple[int, bool, bool], str] = {}


def _sqlite_page_sql(ntypes: int, meeting: bool, after: bool) -> str:
    """One statement for a page on SQLite: the candidates, scored, ranked and cut to the page
    by SQLite, the page's documents, and the total (the number of candidates).

    The score is BM25 with each query word weighted alike: the words the query matched (tf),
    saturated (k1), against the text's length relative to a typical one (b). It depends on
    the record and the query only, as ts_rank does on PostgreSQL: not on the filters, nor on
    what else is stored. FTS5's bm25() also weighs each word by its rarity in the whole
    index, which it counts on every query by reading the document lists of the query's
    words in full: 32.5 ms for `trien khai` among 3.3 million documents, whose newest 1,000
    candidates take 0.4 ms. Every candidate holds every word of the query: that weight would
    only trade one word's occurrences for another's."""
    key = (ntypes, meeting, after)
    hit = _SQLITE_PAGE.get(key)
    if hit is None:
        # Best first, ties by id: the order the cursor encodes. The page is cut before the
        # join, so that only its documents are read.
        keyset = "WHERE c.score < :score OR (c.score = :score AND c.id > :id) " if after else ""
        k1, b, typical = BM25_K1, BM25_B, float(BM25_TYPICAL_LENGTH)
        hit = _SQLITE_PAGE[key] = (
            f"WITH m AS MATERIALIZED ({_sqlite_candidates_sql(ntypes, meeting)}), "
            f"c AS MATERIALIZED (SELECT m.id, m.tf * {k1 + 1} / (m.tf + {k1} * "
            f"({1 - b} + {b} * m.len / {typical})) AS score FROM m) "
            "SELECT (SELECT count(*) FROM c), p.id, p.score, d.type, d.record_id, d.meeting_id, "
            "d.title, d.body "
            f"FROM (SELECT c.id, c.score FROM c {keyset}ORDER BY c.score DESC, c.id LIMIT :limit) AS p "
            "JOIN search_document AS d ON d.id = p.id ORDER BY p.score DESC, p.id"
        )
    return hit


def _sqlite_search(
    cur: Any, q: str, types: list[str], meeting_id: int | None, after: list[Any] | None, limit: int
) -> PageResult:
    values: dict[str, Any] = {
        "match": _fts5_query(_sqlite_tokens(cur, query_tokens(q))),
        "candidates": SEARCH_CANDIDATES,
        "limit": limit + 1,
        **{f"type{i}": t for i, t in enumerate(types)},
    }
    if meeting_id is not None:
        values["meeting_id"] = meeting_id
    if after is not None:
        values["score"], values["id"] = after
    cur.execute(_sqlite_page_sql(len(types), meeting_id is not None, after is not None), values)
    rows = cur.fetchall()
    if rows:
        total = rows[0][0]
    elif after is None:
        total = 0
    else:  # past the last hit: the total alone
        cur.execute(
            f"SELECT count(*) FROM ({_sqlite_candidates_sql(len(types), meeting_id is not None)})", values
        )
        total = cur.fetchone()[0]
    page = [dict(zip(_HIT_COLUMNS, r[1:], strict=True)) for r in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor("-score,id", [page[-1]["score"], page[-1]["id"]]) if more else None
    return PageResult(page, total, next_cursor)


# temp.search_fts_terms: see app.search_index.SQLITE_TERMS_DDL.
_LONGER_TERM = "SELECT 1 FROM temp.search_fts_terms WHERE term >= ? AND term < ? LIMIT 1"
_PLAIN = re.compile(r"[0-9a-z]+")


def _sqlite_tokens(cur: Any, toks: list[str]) -> list[str]:
    """The tokens for FTS5, the last one marked as a prefix ("khai*") unless no longer word begins with it.

    FTS5 answers a prefix query by merging the document lists of every indexed word with
    that prefix, in full, before it returns a row; a word alone is read only as far as
    needed. When the index holds no longer word with the prefix, the word alone matches the
    same documents with the same score (the same occurrences), so it is asked for instead.
    Only for words of [0-9a-z], which the FTS5 tokenizer keeps as they are, so that the
    index's words compare as given.
    The check reads the first occurrence of the first longer word, if any: a few µs.
    """
    last = toks[-1]
    if _PLAIN.fullmatch(last):
        # "\x01": past `last` itself, before any longer word ([0-9a-z] follow it in the index).
        cur.execute(_LONGER_TERM, (last + "\x01", last[:-1] + chr(ord(last[-1]) + 1)))
        if cur.fetchone() is None:
            return [*toks[:-1], last]
    return [*toks[:-1], last + "*"]


def _pg_search(
    cur: Any,
    q: str,
    types: tuple[str, ...],
    meeting_id: int | None,
    after: list[Any] | None,
    limit: int,
    raw_dialect: Any,
) -> PageResult:
    """PostgreSQL's page (SQLite: _sqlite_search), from the first step of the windows (see
    FIRST_WINDOW) that holds SEARCH_CANDIDATES matches or every document, else from the index
    over everything: one statement for a common word, two or three for a rarer one."""
    values: dict[str, Any] = {
        "match": match_param("postgresql", q),
        "candidates": SEARCH_CANDIDATES,
        "page_limit": limit + 1,
    }
    if meeting_id is not None:
        values["meeting_id"] = meeting_id
    if after is not None:
        values["after_score"], values["after_id"] = after
    meeting, cut = meeting_id is not None, after is not None
    windowed = _pg_page_query(types, meeting, True, cut)
    first = windowed.run(cur, raw_dialect, window=FIRST_WINDOW, **values)
    rows: list[Any] | None = first
    found, top = first[0][0], first[0][1] or 0
    if found < SEARCH_CANDIDATES and top > FIRST_WINDOW:
        # Sparser matches: a wider window if they are dense enough to fill it, else the index.
        density = max(found, 1) / FIRST_WINDOW
        window = int(SEARCH_CANDIDATES / density * 1.5)
        rows = None
        if window <= MAX_WINDOW:
            rows = windowed.run(cur, raw_dialect, window=window, **values)
            if rows[0][0] < SEARCH_CANDIDATES and window < top:
                rows = None
    if rows is None:
        rows = _pg_page_query(types, meeting, False, cut).run(cur, raw_dialect, **values)
    total = int(rows[0][0])
    page = [dict(zip(_HIT_COLUMNS, r[2:], strict=True)) for r in rows if r[2] is not None][:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor("-score,id", [page[-1]["score"], page[-1]["id"]]) if more else None
    return PageResult(page, total, next_cursor)


def search(
    cur: Any,
    raw_dialect: Any,
    q: str,
    *,
    types: list[str] | None,
    meeting_id: int | None,
    cursor: str | None,
    limit: int,
) -> PageResult:
    """Rank the newest SEARCH_CANDIDATES matching records and return one page of them.

    Ranking every match of a common word costs time in proportion to the number
    of matches; taking the newest matches first lets both indexes stop early, and
    the score reads nothing but the candidate and the query (see _sqlite_page_sql),
    so a search of whole words costs about the same at a thousand or a million
    records. `total` counts the hits that can be paged through.

    Runs on a raw DB-API cursor (app.fastread): the rows are dicts of
    search_document's id, type, record_id, meeting_id, title and body, with score.
    """
    dialect = raw_dialect.name
    # Validate the cursor before any query.
    after = (
        decode_cursor(cursor, "-score,id", [SEARCH_SORTING.keys["score"], SEARCH_SORTING.keys["id"]])
        if cursor
        else None
    )
    if dialect == "sqlite":
        return _sqlite_search(cur, q, sorted(types or ()), meeting_id, after, limit)
    return _pg_search(cur, q, tuple(sorted(types or ())), meeting_id, after, limit, raw_dialect)
