"""Search on PostgreSQL: a stored tsvector column with the GIN index

Revision ID: e9a4b6c2d8f1
Revises: c5d1e7a9f203
Create Date: 2026-11-26 09:30:00+00:00

search_document.folded_tsv holds to_tsvector('simple', folded), generated and
stored by PostgreSQL, and ix_search_document_fts indexes it instead of the
expression: the index's recheck and ts_rank read the stored vector rather than
parsing the text again. Nothing changes on SQLite (FTS5 already stores its index).
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e9a4b6c2d8f1"
down_revision: str | Sequence[str] | None = "c5d1e7a9f203"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_document_fts")
    op.execute(
        "ALTER TABLE search_document ADD COLUMN IF NOT EXISTS folded_tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, folded)) STORED"
    )
    op.execute("CREATE INDEX ix_search_document_fts ON search_document USING gin (folded_tsv)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_document_fts")
    op.execute("ALTER TABLE search_document DROP COLUMN IF EXISTS folded_tsv")
    op.execute(
        "CREATE INDEX ix_search_document_fts ON search_document USING gin (to_tsvector('simple', folded))"
    )
