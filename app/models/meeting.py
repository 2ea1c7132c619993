from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.directive import DirectivePublic
from app.models.document import CitationPublic
from app.models.finding import FindingPublic
from app.models.participant import ParticipantPublic
from app.models.shortcoming import ShortcomingPublic
from app.models.types import LongStr, OffsetDateTime, ShortStr, enum_string
from app.seed_schema import MeetingFormat


class MeetingBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    title: str = Field(max_length=20_000)
    date: dt.date = Field(description="Day of the meeting (local date).")
    starts_at: dt.datetime | None = Field(
        default=None, sa_type=OffsetDateTime, description="Start time with its UTC offset, if known."
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    organizer: str = Field(max_length=500)
    format: MeetingFormat = Field(max_length=20, sa_type=enum_string(MeetingFormat))
    connection_points: list[str] = Field(default_factory=list, sa_type=JSON)
    purpose: str = Field(max_length=20_000)
    summary: str = Field(max_length=20_000)
    source_publisher: str = Field(max_length=500)
    source_title: str = Field(max_length=20_000)
    source_published_at: dt.datetime = Field(sa_type=OffsetDateTime)
    source_author: str | None = Field(default=None, max_length=500)
    source_photographer: str | None = Field(default=None, max_length=500)
    source_url: str | None = Field(default=None, max_length=2000)
    source_file: str | None = Field(default=None, max_length=500)


class Meeting(MeetingBase, Timestamps, table=True):
    __table_args__ = (Index("ix_meeting_date_id", "date", "id"),)

    id: int | None = Field(default=None, primary_key=True)


class MeetingCreate(SQLModel):
    slug: ShortStr
    title: LongStr
    date: dt.date
    starts_at: dt.datetime | None = None
    timezone: ShortStr = "Asia/Ho_Chi_Minh"
    organizer: ShortStr
    format: MeetingFormat
    connection_points: list[ShortStr] = []
    purpose: LongStr
    summary: LongStr
    source_publisher: ShortStr
    source_title: LongStr
    source_published_at: dt.datetime
    source_author: ShortStr | None = None
    source_photographer: ShortStr | None = None
    source_url: ShortStr | None = None
    source_file: ShortStr | None = None


class MeetingUpdate(SQLModel):
    title: LongStr | None = None
    date: dt.date | None = None
    starts_at: dt.datetime | None = None
    timezone: ShortStr | None = None
    organizer: ShortStr | None = None
    format: MeetingFormat | None = None
    connection_points: list[ShortStr] | None = None
    purpose: LongStr | None = None
    summary: LongStr | None = None


class MeetingPublic(MeetingBase):
    model_config = examples.config(examples.MEETING)

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime


class MeetingDetail(MeetingPublic):
    """A meeting with the related records asked for with `include=`."""

    model_config = examples.config(examples.MEETING_DETAIL)

    participants: list[ParticipantPublic] | None = None
    directives: list[DirectivePublic] | None = None
    shortcomings: list[ShortcomingPublic] | None = None
    findings: list[FindingPublic] | None = None
    documents: list[CitationPublic] | None = None
