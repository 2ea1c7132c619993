"""search_document: an index on (id, type, meeting_id) for filtered searches

Revision ID: 4b7e9d2c1f35
Revises: e9a4b6c2d8f1
Create Date: 2026-11-26 16:20:00+00:00

A search filtered by type or meeting on SQLite looks at the type and meeting of each
match of the FTS5 index, in descending id order: read from this index, not from the
search_document row with its title, body and folded text, that costs about a third
(app.search names it with INDEXED BY). PostgreSQL gets the same index, so that the
schema is the same on both back ends. Only an index is added: no data changes.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "4b7e9d2c1f35"
down_revision: str | Sequence[str] | None = "e9a4b6c2d8f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_search_document_id_type_meeting_id", "search_document", ["id", "type", "meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_search_document_id_type_meeting_id", table_name="search_document")
