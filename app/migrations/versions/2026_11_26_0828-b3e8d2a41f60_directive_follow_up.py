"""Directive follow-up: directive.done_on and the directive_event table

Revision ID: b3e8d2a41f60
Revises: 7cf4d153f78d
Create Date: 2026-11-26 08:28:00+00:00

directive.done_on is the date (Asia/Ho_Chi_Minh) a directive was marked done;
a directive already done gets the date of its updated_at. directive_event
records each change of status made through PATCH.

Both are added unless already there: a database that create_all made with
them, before there were migrations, is stamped at the baseline and comes
through here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b3e8d2a41f60"
down_revision: str | Sequence[str] | None = "7cf4d153f78d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = sa.String(11)  # the longest DirectiveStatus value, as directive.status
OFFSET_DATETIME = sa.String(40)


def _inspector() -> sa.Inspector | None:
    if op.get_context().as_sql:  # `alembic upgrade --sql`: nothing to look at
        return None
    return sa.inspect(op.get_bind())


def has_table(name: str) -> bool:
    inspector = _inspector()
    return inspector is not None and inspector.has_table(name)


def has_column(table: str, column: str) -> bool:
    inspector = _inspector()
    return inspector is not None and column in {c["name"] for c in inspector.get_columns(table)}


def upgrade() -> None:
    if not has_column("directive", "done_on"):
        with op.batch_alter_table("directive") as batch:
            batch.add_column(sa.Column("done_on", sa.Date(), nullable=True))
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "UPDATE directive SET done_on = ((updated_at::timestamptz) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"
            " WHERE status = 'done'"
        )
    else:
        op.execute("UPDATE directive SET done_on = date(updated_at, '+7 hours') WHERE status = 'done'")
    if has_table("directive_event"):
        return
    op.create_table(
        "directive_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("from_status", STATUS, nullable=False),
        sa.Column("to_status", STATUS, nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("made_by", sa.String(200), nullable=False),
        sa.Column("at", OFFSET_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"], ["directive.id"], name="directive_event_directive_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="directive_event_pkey"),
    )
    op.create_index("ix_directive_event_directive_id_id", "directive_event", ["directive_id", "id"])


def downgrade() -> None:
    op.drop_table("directive_event")  # its index goes with it
    with op.batch_alter_table("directive") as batch:
        batch.drop_column("done_on")
