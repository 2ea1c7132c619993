"""Links between records: directive_assignee, directive_shortcoming, directive_review

Revision ID: c5d1e7a9f203
Revises: d7e2f4b8c1a6
Create Date: 2026-11-26 09:30:00+00:00

directive_assignee: who must act on a directive (an organization, or a person),
and in what role (lead, coordinating, monitoring). directive_shortcoming: the
shortcomings a directive answers. directive_review: a later meeting reviewing
an earlier directive. Three new tables; nothing else changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c5d1e7a9f203"
down_revision: str | Sequence[str] | None = "d7e2f4b8c1a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.String(12)  # the longest AssigneeRole value ("coordinating")
OFFSET_DATETIME = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "directive_assignee",
        sa.Column("created_at", OFFSET_DATETIME, nullable=False),
        sa.Column("updated_at", OFFSET_DATETIME, nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(120), nullable=True),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("organization", sa.String(500), nullable=True),
        sa.Column("organization_folded", sa.String(2000), nullable=True),
        sa.Column("source_quote", sa.String(20_000), nullable=True),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
            name="directive_assignee_directive_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="directive_assignee_person_id_fkey", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name="directive_assignee_pkey"),
        sa.UniqueConstraint("slug", name="directive_assignee_slug_key"),
    )
    op.create_index("ix_directive_assignee_directive_id_id", "directive_assignee", ["directive_id", "id"])
    op.create_index("ix_directive_assignee_person_id", "directive_assignee", ["person_id"])

    op.create_table(
        "directive_shortcoming",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("shortcoming_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
            name="directive_shortcoming_directive_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shortcoming_id"],
            ["shortcoming.id"],
            name="directive_shortcoming_shortcoming_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("directive_id", "shortcoming_id", name="directive_shortcoming_pkey"),
    )
    op.create_index("ix_directive_shortcoming_shortcoming_id", "directive_shortcoming", ["shortcoming_id"])

    op.create_table(
        "directive_review",
        sa.Column("created_at", OFFSET_DATETIME, nullable=False),
        sa.Column("updated_at", OFFSET_DATETIME, nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(20_000), nullable=False),
        sa.Column("source_quote", sa.String(20_000), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="directive_review_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["directive_id"], ["directive.id"], name="directive_review_directive_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="directive_review_pkey"),
    )
    op.create_index("ix_directive_review_meeting_id_id", "directive_review", ["meeting_id", "id"])
    op.create_index("ix_directive_review_directive_id_id", "directive_review", ["directive_id", "id"])


def downgrade() -> None:
    op.drop_table("directive_review")  # their indexes go with them
    op.drop_table("directive_shortcoming")
    op.drop_table("directive_assignee")
