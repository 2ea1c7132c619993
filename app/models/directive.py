from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.links import AssigneePublic
from app.models.types import LongStr, OffsetDateTime, ShortStr, enum_string
from app.seed_schema import DirectiveStatus


class Progress(StrEnum):
    """Follow-up categories of Decision 42/2014/QĐ-TTg."""

    done_on_time = "done_on_time"
    done_late = "done_late"
    in_progress_on_time = "in_progress_on_time"
    overdue = "overdue"


# Allowed changes of status (PATCH); done and cancelled are final.
TRANSITIONS: dict[DirectiveStatus, frozenset[DirectiveStatus]] = {
    DirectiveStatus.open: frozenset({DirectiveStatus.in_progress, DirectiveStatus.cancelled}),
    DirectiveStatus.in_progress: frozenset({DirectiveStatus.done, DirectiveStatus.cancelled}),
    DirectiveStatus.done: frozenset(),
    DirectiveStatus.cancelled: frozenset(),
}


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
        # the columns of the follow-up category (app.resources.progress_column): ?progress= and
        # /stats count from this index alone, not from the rows and their text
        Index("ix_directive_status_due_date_done_on", "status", "due_date", "done_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    done_on: dt.date | None = Field(default=None)


class DirectiveEvent(SQLModel, table=True):
    """A change of a directive's status made through PATCH."""

    __tablename__ = "directive_event"
    __table_args__ = (Index("ix_directive_event_directive_id_id", "directive_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    directive_id: int = Field(foreign_key="directive.id", ondelete="CASCADE")
    from_status: DirectiveStatus = Field(max_length=20, sa_type=enum_string(DirectiveStatus))
    to_status: DirectiveStatus = Field(max_length=20, sa_type=enum_string(DirectiveStatus))
    note: str | None = Field(default=None, max_length=2000)
    made_by: str = Field(max_length=200)
    at: dt.datetime = Field(sa_type=OffsetDateTime)


class DirectiveEventPublic(SQLModel):
    model_config = examples.config(examples.DIRECTIVE_EVENT)

    id: int
    directive_id: int
    from_status: DirectiveStatus
    to_status: DirectiveStatus
    note: str | None = Field(description="The `status_note` sent with the change, if any.")
    made_by: str = Field(description="Name of the API key that made the change.")
    at: dt.datetime = Field(description="When the change was made (UTC).")


class DirectiveCreate(SQLModel):
    slug: ShortStr
    meeting_id: int
    issued_by: int
    text: LongStr
    addressees: list[ShortStr] = []
    status: DirectiveStatus = DirectiveStatus.open
    due_date: dt.date | None = None
    source_quote: LongStr
    addresses: list[int] = Field(default=[], description="Ids of the shortcomings this directive answers.")


class DirectiveUpdate(SQLModel):
    text: LongStr | None = None
    addressees: list[ShortStr] | None = None
    status: DirectiveStatus | None = None
    due_date: dt.date | None = None
    addresses: list[int] | None = Field(
        default=None, description="Ids of the shortcomings this directive answers (replaces the list)."
    )
    status_note: str | None = Field(
        default=None,
        max_length=2000,
        description="Optional note recorded in the history with a change of status.",
    )


class DirectivePublic(DirectiveBase):
    model_config = examples.config(examples.DIRECTIVE)

    id: int
    issued_by_person_id: int
    issued_by_name: str = Field(description="Full name of the issuing participant.")
    done_on: dt.date | None = Field(
        default=None, description="Date (Asia/Ho_Chi_Minh) the directive was marked done."
    )
    progress: Progress | None = Field(
        default=None,
        description="Follow-up category (Decision 42/2014/QĐ-TTg), judged against today in "
        "Asia/Ho_Chi_Minh; null for a cancelled directive.",
    )
    assignees: list[AssigneePublic] = Field(
        default_factory=list, description="Who must act, each with a role (chủ trì, phối hợp, theo dõi)."
    )
    addresses: list[int] = Field(
        default_factory=list, description="Ids of the shortcomings this directive answers."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
