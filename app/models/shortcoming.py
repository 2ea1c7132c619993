from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr


class ShortcomingBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    text: str = Field(max_length=20_000, description="The problem the meeting found.")
    concerns: list[str] = Field(
        default_factory=list, sa_type=JSON, description="Whom it concerns, as the source names them."
    )
    source_quote: str = Field(max_length=20_000, description="The passage this comes from.")


class Shortcoming(ShortcomingBase, Timestamps, table=True):
    __table_args__ = (Index("ix_shortcoming_meeting_id_id", "meeting_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)


class ShortcomingCreate(SQLModel):
    slug: ShortStr
    meeting_id: int
    text: LongStr
    concerns: list[ShortStr] = []
    source_quote: LongStr


class ShortcomingUpdate(SQLModel):
    text: LongStr | None = None
    concerns: list[ShortStr] | None = None


class ShortcomingPublic(ShortcomingBase):
    model_config = examples.config(examples.SHORTCOMING)

    id: int
    addressed_by: list[int] = Field(
        default_factory=list, description="Ids of the directives that answer this shortcoming."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
