"""The change feed: the change table, and an index on every record's updated_at

Revision ID: d7e2f4b8c1a6
Revises: b3e8d2a41f60
Create Date: 2026-11-26 09:20:00+00:00

`change` holds one entry per create, update and delete of a record (seq is the
feed's cursor); the updated_at indexes keep `?updated_since=` cheap. Records
already in the database get no entries: the feed starts at this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d7e2f4b8c1a6"
down_revision: str | Sequence[str] | None = "b3e8d2a41f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFSET_DATETIME = sa.String(40)
RECORD_TABLES = ("meeting", "person", "participant", "directive", "shortcoming", "finding", "document")


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("record_slug", sa.String(250), nullable=True),
        sa.Column("action", sa.String(6), nullable=False),
        sa.Column("actor", sa.String(250), nullable=False),
        sa.Column("at", OFFSET_DATETIME, nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="change_pkey"),
    )
    op.create_index("ix_change_collection_seq", "change", ["collection", "seq"])
    for table in RECORD_TABLES:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"])


def downgrade() -> None:
    for table in RECORD_TABLES:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
    op.drop_table("change")  # its index goes with it
