from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr, enum_string
from app.seed_schema import DirectiveStatus


class DirectiveBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    issued_by: int = Field(foreign_key="participant.id", ondelete="RESTRICT", description="Participant id.")
    text: str = Field(max_length=20_000, description="What the directive asks.")
    addressees: list[str] = Field(
        default_factory=list, sa_type=JSON, description="Who must act, as the source names them."
    )
    status: DirectiveStatus = Field(
        default=DirectiveStatus.open, max_length=20, sa_type=enum_string(DirectiveStatus)
    )
    due_date: dt.date | None = Field(default=None, description="Null when the source gives none.")
    source_quote: str = Field(max_length=20_000, description="The passage this comes from.")


class Directive(DirectiveBase, Timestamps, table=True):
    __table_args__ = (
        Index("ix_directive_meeting_id_id", "meeting_id", "id"),
        Index("ix_directive_issued_by_id", "issued_by", "id"),
        Index("ix_directive_status_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)


class DirectiveCreate(SQLModel):
    slug: ShortStr
    meeting_id: int
    issued_by: int
    text: LongStr
    addressees: list[ShortStr] = []
    status: DirectiveStatus = DirectiveStatus.open
    due_date: dt.date | None = None
    source_quote: LongStr


class DirectiveUpdate(SQLModel):
    text: LongStr | None = None
    addressees: list[ShortStr] | None = None
    status: DirectiveStatus | None = None
    due_date: dt.date | None = None


class DirectivePublic(DirectiveBase):
    model_config = examples.config(examples.DIRECTIVE)

    id: int
    issued_by_person_id: int
    issued_by_name: str = Field(description="Full name of the issuing participant.")
    created_at: dt.datetime
    updated_at: dt.datetime
