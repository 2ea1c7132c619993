from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.types import enum_string


class HitType(StrEnum):
    meeting = "meeting"
    person = "person"
    participant = "participant"
    directive = "directive"
    shortcoming = "shortcoming"
    finding = "finding"
    document = "document"


class SearchDocument(SQLModel, table=True):
    """The searchable text of one record, with its folded copy that the index covers.

    SQLite indexes `folded` with an FTS5 table (search_fts); PostgreSQL with a
    GIN index over to_tsvector('simple', folded).
    """

    __tablename__ = "search_document"
    __table_args__ = (
        UniqueConstraint("type", "record_id"),
        Index("ix_search_document_meeting_id", "meeting_id"),
        # What a filtered search, and a ?q= filter, on SQLite look at for each match of the
        # full-text index (app.search): a small index read instead of the row with its texts.
        Index("ix_search_document_id_type_meeting_id_record_id", "id", "type", "meeting_id", "record_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: HitType = Field(max_length=20, sa_type=enum_string(HitType))
    record_id: int
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="CASCADE")
    title: str
    body: str
    folded: str


class SearchHit(SQLModel):
    model_config = examples.config(examples.SEARCH_HIT)

    type: HitType
    id: int = Field(description="Id of the record in its own collection.")
    meeting_id: int | None
    title: str
    snippet: str = Field(description="Passage around the first match, matches marked «like this».")
    url: str = Field(description="Path of the record in this API.")
    score: float = Field(
        description="Relevance, higher is better: of the record and the query alone (not of the filters, "
        "nor of the other records)."
    )
