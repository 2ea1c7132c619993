from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr, enum_string
from app.seed_schema import ParticipantRole


class ParticipantBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    title: str = Field(max_length=500, description="Office held at the time of the meeting.")
    organization: str | None = Field(default=None, max_length=500)
    role: ParticipantRole = Field(
        max_length=20, sa_type=enum_string(ParticipantRole), description="Role at this meeting."
    )
    source_quote: str = Field(max_length=20_000, description="The passage this comes from.")


class Participant(ParticipantBase, Timestamps, table=True):
    __table_args__ = (
        UniqueConstraint("meeting_id", "person_id"),
        Index("ix_participant_person_id_id", "person_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)


class ParticipantCreate(SQLModel):
    slug: ShortStr
    meeting_id: int
    person_id: int
    title: ShortStr
    organization: ShortStr | None = None
    role: ParticipantRole
    source_quote: LongStr


class ParticipantUpdate(SQLModel):
    title: ShortStr | None = None
    organization: ShortStr | None = None
    role: ParticipantRole | None = None
    source_quote: LongStr | None = None


class ParticipantPublic(ParticipantBase):
    model_config = examples.config(examples.PARTICIPANT)

    id: int
    person_name: str = Field(description="Full name of the person.")
    created_at: dt.datetime
    updated_at: dt.datetime
