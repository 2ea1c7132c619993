from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr, enum_string
from app.seed_schema import DocumentKind


class DocumentBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    kind: DocumentKind = Field(max_length=40, sa_type=enum_string(DocumentKind))
    number: str | None = Field(default=None, max_length=500)
    title: str = Field(max_length=20_000)
    issuer: str | None = Field(default=None, max_length=500)
    issued_on: dt.date | None = None


class Document(DocumentBase, Timestamps, table=True):
    id: int | None = Field(default=None, primary_key=True)


class DocumentCreate(SQLModel):
    slug: ShortStr
    kind: DocumentKind
    number: ShortStr | None = None
    title: LongStr
    issuer: ShortStr | None = None
    issued_on: dt.date | None = None


class DocumentUpdate(SQLModel):
    kind: DocumentKind | None = None
    number: ShortStr | None = None
    title: LongStr | None = None
    issuer: ShortStr | None = None
    issued_on: dt.date | None = None


class DocumentPublic(DocumentBase):
    model_config = examples.config(examples.DOCUMENT)

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class MeetingDocument(SQLModel, table=True):
    """A meeting citing a document, with the passage that cites it."""

    __tablename__ = "meeting_document"

    meeting_id: int = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    document_id: int = Field(foreign_key="document.id", primary_key=True, index=True, ondelete="RESTRICT")
    source_quote: str = Field(max_length=20_000)


class CitationPublic(DocumentPublic):
    """A document as cited by one meeting."""

    model_config = examples.config(examples.CITATION)

    meeting_id: int
    source_quote: str = Field(description="The passage of the source that cites the document.")
