"""The full-text index over search_document.folded, per back end.

Both back ends index the same folded text (see app.text.fold), so a query
matches the same records on SQLite and PostgreSQL: an FTS5 table on SQLite, a
GIN index over the stored tsvector column `folded_tsv` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Connection, event

from app.models.search import SearchDocument
from app.text import fold

# prefix='1 2 3 4': FTS5 keeps a list per prefix of 1 to 4 characters, so that a query's last
# word, a prefix, reads one list instead of merging every word it begins (migration 8d3f1a6b2c4e).
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "folded, content='search_document', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4')",
    "CREATE TRIGGER IF NOT EXISTS search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER IF NOT EXISTS search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER IF NOT EXISTS search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
]
# A load into an empty SQLite database (app.seeding) writes the whole index in one transaction.
# FTS5 writes its terms as segments, and by default merges them as it goes (automerge 4: every
# 4 segments of a level into one of the next; crisismerge 16): each term is rewritten at every
# level, for 3.3 million documents (1,000,000 directives) 50 s of index writes. During such a
# load the segments are left as they come (automerge 0; crisismerge: a level is merged only
# at 512), and merged into one at its end ('optimize'): 23 + 9.5 s. One segment also reads
# faster than the levels the merges leave (a common word 0.41 -> 0.30 ms, a rare one 0.07 ->
# 0.02 ms). FTS5 also writes a segment each time its terms pending in memory pass `hashsize`
# (1 MiB by default): at 16 MiB, fewer and larger ones, the 3.3 million documents indexed in
# 39-40 + 10.5-11.4 s instead of 47 + 11.6-12.2 s (their rows copied into an empty database by
# one INSERT ... SELECT, as the load's triggers index them; the process's peak memory +18 MB).
# The defaults are set again for the writes that follow.
SQLITE_BULK_MERGES = (("automerge", 0), ("crisismerge", 512), ("hashsize", 16 * 1024 * 1024))
SQLITE_DEFAULT_MERGES = (("automerge", 4), ("crisismerge", 16), ("hashsize", 1024 * 1024))


def sqlite_defer_merges(conn: Connection) -> None:
    """Until sqlite_merge_all: FTS5 merges no segments (a bulk load into an empty database)."""
    for option, value in SQLITE_BULK_MERGES:
        conn.exec_driver_sql(f"INSERT INTO search_fts(search_fts, rank) VALUES ('{option}', {value})")


def sqlite_merge_all(conn: Connection) -> None:
    """The segments written since sqlite_defer_merges merged into one; the default merges again."""
    conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    for option, value in SQLITE_DEFAULT_MERGES:
        conn.exec_driver_sql(f"INSERT INTO search_fts(search_fts, rank) VALUES ('{option}', {value})")


# The indexed words of search_fts, one row per occurrence, for app.search to ask whether a
# longer word begins with a query's last one. A table of each connection's temp schema
# (made on connect by app.db): it stores nothing, and is no part of the schema's history.
SQLITE_TERMS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_fts_terms USING fts5vocab(main, search_fts, instance)"
)
# PostgreSQL keeps the tsvector of `folded` in a stored generated column (so that neither
# the recheck of the index nor ts_rank computes to_tsvector again), indexed with GIN. The
# column is not in the model: SQLite has no such type, and nothing writes it.
POSTGRESQL_DDL = [
    "ALTER TABLE search_document ADD COLUMN IF NOT EXISTS folded_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, folded)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_search_document_fts ON search_document USING gin (folded_tsv)",
]

_table: Any = SearchDocument.__table__  # type: ignore[attr-defined]
for _stmt in SQLITE_DDL:
    event.listen(_table, "after_create", DDL(_stmt).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]
for _stmt in POSTGRESQL_DDL:
    event.listen(_table, "after_create", DDL(_stmt).execute_if(dialect="postgresql"))  # type: ignore[no-untyped-call]


def search_row(
    type_: str, record_id: int, meeting_id: int | None, title: str, *texts: str | None
) -> dict[str, Any]:
    body = "\n".join(t for t in texts if t)
    return {
        "type": type_,
        "record_id": record_id,
        "meeting_id": meeting_id,
        "title": title,
        "body": body,
        "folded": fold(title + "\n" + body),
    }
