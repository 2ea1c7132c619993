"""Enum columns as plain VARCHAR; the api_key and idempotent_request tables

Revision ID: 7cf4d153f78d
Revises: 6a1f3c9e2b7d
Create Date: 2026-11-26 07:51:20.523477+00:00

Enum columns (document.kind, meeting.format, participant.role,
directive.status, search_document.type) were native ENUM types on PostgreSQL
and VARCHAR on SQLite, so they sorted differently (declaration order against
alphabetical) and could not be compared with text on PostgreSQL. They become
VARCHAR(n) on PostgreSQL too, n being the longest value (the width SQLite has
had from the start), and the enum types are dropped. Nothing changes on SQLite
for them.

api_key and idempotent_request (app.models.apikey, app.models.idempotency) are
created on both back ends, unless already there: a database that create_all
made with them, before there were migrations, is stamped at the baseline and
comes through here; its api_key.scope is then made VARCHAR like the others.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7cf4d153f78d"
down_revision: str | Sequence[str] | None = "6a1f3c9e2b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps with their own UTC offset, kept as ISO 8601 text (app.models.types.OffsetDateTime).
OFFSET_DATETIME = sa.String(40)

# (table, column) -> (PostgreSQL enum type of the previous revision, its labels in order).
ENUM_COLUMNS = {
    ("document", "kind"): (
        "documentkind",
        ("resolution", "action_programme", "plan", "decision", "directive", "project", "other"),
    ),
    ("meeting", "format"): ("meetingformat", ("in_person", "online", "hybrid")),
    ("participant", "role"): ("participantrole", ("chair", "attendee", "speaker", "rapporteur")),
    ("directive", "status"): ("directivestatus", ("open", "in_progress", "done", "cancelled")),
    ("search_document", "type"): (
        "hittype",
        ("meeting", "person", "participant", "directive", "shortcoming", "finding", "document"),
    ),
}
# api_key.scope, native only in a database that create_all made before there were migrations.
SCOPE = ("scope", ("read", "write", "admin"))


def width(labels: Sequence[str]) -> int:
    return max(len(label) for label in labels)


def has_table(name: str) -> bool:
    if op.get_context().as_sql:  # `alembic upgrade --sql`: nothing to look at
        return False
    return sa.inspect(op.get_bind()).has_table(name)


def to_varchar(table: str, column: str, enum_name: str, labels: Sequence[str]) -> None:
    op.execute(
        f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR({width(labels)}) USING {column}::text"
    )
    op.execute(f"DROP TYPE IF EXISTS {enum_name}")


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    if postgresql:
        for (table, column), (enum_name, labels) in ENUM_COLUMNS.items():
            to_varchar(table, column, enum_name, labels)

    if not has_table("api_key"):
        op.create_table(
            "api_key",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("scope", sa.String(width(SCOPE[1])), nullable=False),
            sa.Column("prefix", sa.String(32), nullable=False),
            sa.Column("secret_sha256", sa.String(64), nullable=False),
            sa.Column("created_at", OFFSET_DATETIME, nullable=False),
            sa.Column("revoked_at", OFFSET_DATETIME, nullable=True),
            sa.PrimaryKeyConstraint("id", name="api_key_pkey"),
        )
        op.create_index("ix_api_key_prefix", "api_key", ["prefix"], unique=True)
    elif postgresql:
        to_varchar("api_key", "scope", *SCOPE)

    if not has_table("idempotent_request"):
        op.create_table(
            "idempotent_request",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("api_key_id", sa.Integer(), nullable=False),
            sa.Column("key", sa.String(200), nullable=False),
            sa.Column("request_sha256", sa.String(64), nullable=False),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("location", sa.String(2000), nullable=True),
            sa.Column("etag", sa.String(100), nullable=True),
            sa.Column("body", sa.String(), nullable=False),
            sa.Column("created_at", OFFSET_DATETIME, nullable=False),
            sa.ForeignKeyConstraint(
                ["api_key_id"], ["api_key.id"], name="idempotent_request_api_key_id_fkey", ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("id", name="idempotent_request_pkey"),
            sa.UniqueConstraint("api_key_id", "key", name="idempotent_request_api_key_id_key_key"),
        )


def downgrade() -> None:
    op.drop_table("idempotent_request")
    op.drop_table("api_key")  # its index goes with it

    if op.get_context().dialect.name == "postgresql":
        for (table, column), (enum_name, labels) in ENUM_COLUMNS.items():
            quoted = ", ".join(f"'{label}'" for label in labels)
            op.execute(f"CREATE TYPE {enum_name} AS ENUM ({quoted})")
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {enum_name} USING {column}::{enum_name}"
            )
