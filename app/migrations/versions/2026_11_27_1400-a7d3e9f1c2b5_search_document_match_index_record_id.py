"""search_document: the index of each match's type and meeting holds its record id too

Revision ID: a7d3e9f1c2b5
Revises: f2c8a5d1e7b3
Create Date: 2026-11-27 14:00:00+00:00

A list filtered by ?q= on SQLite keeps the record ids of the matches of the full-text
index of one type (app.search.matching_record_ids). It read each match's row, texts and
all, for its type and record id: with 1,000,000 directives, /directives?q=triển khai
(476,464 matches) took 1.4 s. ix_search_document_id_type_meeting_id, which a filtered
search reads for each match's type and meeting, now holds the record id as well (and
takes the name ix_search_document_id_type_meeting_id_record_id): the filter reads it
instead of the rows. PostgreSQL gets the same index, so that the schema is the same on
both back ends. Only an index changes: no data does.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7d3e9f1c2b5"
down_revision: str | Sequence[str] | None = "f2c8a5d1e7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_search_document_id_type_meeting_id_record_id",
        "search_document",
        ["id", "type", "meeting_id", "record_id"],
    )
    op.drop_index("ix_search_document_id_type_meeting_id", table_name="search_document")


def downgrade() -> None:
    op.create_index("ix_search_document_id_type_meeting_id", "search_document", ["id", "type", "meeting_id"])
    op.drop_index("ix_search_document_id_type_meeting_id_record_id", table_name="search_document")
