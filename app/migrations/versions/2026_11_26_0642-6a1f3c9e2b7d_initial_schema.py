"""The initial schema: the records, their search documents and the full-text index

Revision ID: 6a1f3c9e2b7d
Revises:
Create Date: 2026-11-26 06:42:18.485059+00:00

The schema as SQLModel.metadata.create_all made it before there were
migrations (a database made so is stamped at this revision), written out so
that it no longer depends on the models. The full-text index over
search_document.folded is the one app.search_index describes: on SQLite an
FTS5 table with external content kept in step by triggers, on PostgreSQL a GIN
index over to_tsvector('simple', folded).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6a1f3c9e2b7d"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Timestamps with their own UTC offset, kept as ISO 8601 text (app.models.types.OffsetDateTime).
OFFSET_DATETIME = sa.String(40)

# Native enum types on PostgreSQL, VARCHAR on SQLite.
ENUMS = {
    "documentkind": (
        "resolution",
        "action_programme",
        "plan",
        "decision",
        "directive",
        "project",
        "other",
    ),
    "meetingformat": ("in_person", "online", "hybrid"),
    "participantrole": ("chair", "attendee", "speaker", "rapporteur"),
    "directivestatus": ("open", "in_progress", "done", "cancelled"),
    "hittype": ("meeting", "person", "participant", "directive", "shortcoming", "finding", "document"),
}

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "folded, content='search_document', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
]
POSTGRESQL_FTS = [
    "CREATE INDEX ix_search_document_fts ON search_document USING gin (to_tsvector('simple', folded))",
]


def enum(name: str) -> sa.Enum:
    return sa.Enum(*ENUMS[name], name=name)


def timestamps() -> list[sa.Column[str]]:
    return [
        sa.Column("created_at", OFFSET_DATETIME, nullable=False),
        sa.Column("updated_at", OFFSET_DATETIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "person",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("full_name", sa.String(500), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_folded", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="person_pkey"),
        sa.UniqueConstraint("slug", name="person_slug_key"),
    )
    op.create_index("ix_person_name_folded", "person", ["name_folded"])

    op.create_table(
        "document",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("kind", enum("documentkind"), nullable=False),
        sa.Column("number", sa.String(500), nullable=True),
        sa.Column("title", sa.String(20000), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="document_pkey"),
        sa.UniqueConstraint("slug", name="document_slug_key"),
    )

    op.create_table(
        "meeting",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("title", sa.String(20000), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("starts_at", OFFSET_DATETIME, nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("organizer", sa.String(500), nullable=False),
        sa.Column("format", enum("meetingformat"), nullable=False),
        sa.Column("connection_points", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(20000), nullable=False),
        sa.Column("summary", sa.String(20000), nullable=False),
        sa.Column("source_publisher", sa.String(500), nullable=False),
        sa.Column("source_title", sa.String(20000), nullable=False),
        sa.Column("source_published_at", OFFSET_DATETIME, nullable=False),
        sa.Column("source_author", sa.String(500), nullable=True),
        sa.Column("source_photographer", sa.String(500), nullable=True),
        sa.Column("source_url", sa.String(2000), nullable=True),
        sa.Column("source_file", sa.String(500), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="meeting_pkey"),
        sa.UniqueConstraint("slug", name="meeting_slug_key"),
    )
    op.create_index("ix_meeting_date_id", "meeting", ["date", "id"])

    op.create_table(
        "participant",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("organization", sa.String(500), nullable=True),
        sa.Column("role", enum("participantrole"), nullable=False),
        sa.Column("source_quote", sa.String(20000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="participant_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name="participant_person_id_fkey", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name="participant_pkey"),
        sa.UniqueConstraint("meeting_id", "person_id", name="participant_meeting_id_person_id_key"),
        sa.UniqueConstraint("slug", name="participant_slug_key"),
    )
    op.create_index("ix_participant_person_id_id", "participant", ["person_id", "id"])

    op.create_table(
        "directive",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("addressees", sa.JSON(), nullable=False),
        sa.Column("status", enum("directivestatus"), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("source_quote", sa.String(20000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["participant.id"], name="directive_issued_by_fkey", ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="directive_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="directive_pkey"),
        sa.UniqueConstraint("slug", name="directive_slug_key"),
    )
    op.create_index("ix_directive_meeting_id_id", "directive", ["meeting_id", "id"])
    op.create_index("ix_directive_issued_by_id", "directive", ["issued_by", "id"])
    op.create_index("ix_directive_status_id", "directive", ["status", "id"])

    op.create_table(
        "shortcoming",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("concerns", sa.JSON(), nullable=False),
        sa.Column("source_quote", sa.String(20000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="shortcoming_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="shortcoming_pkey"),
        sa.UniqueConstraint("slug", name="shortcoming_slug_key"),
    )
    op.create_index("ix_shortcoming_meeting_id_id", "shortcoming", ["meeting_id", "id"])

    op.create_table(
        "finding",
        *timestamps(),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(20000), nullable=False),
        sa.Column("source_quote", sa.String(20000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="finding_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="finding_pkey"),
        sa.UniqueConstraint("slug", name="finding_slug_key"),
    )
    op.create_index("ix_finding_meeting_id_id", "finding", ["meeting_id", "id"])

    op.create_table(
        "meeting_document",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("source_quote", sa.String(20000), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="meeting_document_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name="meeting_document_document_id_fkey", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("meeting_id", "document_id", name="meeting_document_pkey"),
    )
    op.create_index("ix_meeting_document_document_id", "meeting_document", ["document_id"])

    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", enum("hittype"), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("folded", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name="search_document_meeting_id_fkey", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="search_document_pkey"),
        sa.UniqueConstraint("type", "record_id", name="search_document_type_record_id_key"),
    )
    op.create_index("ix_search_document_meeting_id", "search_document", ["meeting_id"])

    dialect = op.get_context().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRESQL_FTS}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for trigger in ("search_document_au", "search_document_ad", "search_document_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_document_fts")

    for table in (
        "search_document",
        "meeting_document",
        "finding",
        "shortcoming",
        "directive",
        "participant",
        "meeting",
        "document",
        "person",
    ):
        op.drop_table(table)  # its indexes go with it

    if dialect == "postgresql":
        for name in ENUMS:
            enum(name).drop(op.get_bind(), checkfirst=True)
