from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr


class FindingBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    text: str = Field(max_length=20_000, description="A positive finding the meeting reported.")
    source_quote: str = Field(max_length=20_000, description="The passage this comes from.")


class Finding(FindingBase, Timestamps, table=True):
    __table_args__ = (Index("ix_finding_meeting_id_id", "meeting_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)


class FindingCreate(SQLModel):
    slug: ShortStr
    meeting_id: int
    text: LongStr
    source_quote: LongStr


class FindingUpdate(SQLModel):
    text: LongStr | None = None


class FindingPublic(FindingBase):
    model_config = examples.config(examples.FINDING)

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
