"""The full-text index over search_document.folded, per back end.

Both back ends index the same folded text (see app.text.fold), so a query
matches the same records on SQLite and PostgreSQL: an FTS5 table on SQLite, a
GIN index over the stored tsvector column `folded_tsv` on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event

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
