"""Links between records: a directive's assignees, the shortcomings a directive
answers, and the later meetings that review a directive."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import LongStr, ShortStr, enum_string
from app.seed_schema import AssigneeRole
from app.text import tokens


def folded_words(text: str) -> str:
    """The folded words of a text, one space apart: what `?assignee=` matches and /stats groups
    by ('Các sở, ngành' -> 'cac so nganh'), whatever the case, diacritics and punctuation."""
    return " ".join(tokens(text))


class DirectiveAssignee(Timestamps, table=True):
    """Who must act on a directive, and in what role: an organization or a person, never both."""

    __tablename__ = "directive_assignee"
    __table_args__ = (
        Index("ix_directive_assignee_directive_id_id", "directive_id", "id"),
        # /stats groups by (organization, role) and (person, role), counting directives: from
        # these indexes alone, already in group order (the person's is also the one by person_id)
        Index("ix_directive_assignee_person_id_role", "person_id", "role", "directive_id"),
        Index(
            "ix_directive_assignee_organization_folded_role",
            "organization_folded",
            "role",
            "directive_id",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str | None = Field(default=None, max_length=120, unique=True)
    directive_id: int = Field(foreign_key="directive.id", ondelete="CASCADE")
    role: AssigneeRole = Field(max_length=12, sa_type=enum_string(AssigneeRole))
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="RESTRICT")
    organization: str | None = Field(default=None, max_length=500)
    organization_folded: str | None = Field(default=None, max_length=2000)
    source_quote: str | None = Field(default=None, max_length=20_000)


class AssigneePublic(SQLModel):
    model_config = examples.config(examples.ASSIGNEE)

    id: int
    slug: str | None = Field(description="Stable human-readable id, if one was given.")
    directive_id: int
    role: AssigneeRole = Field(
        description="`lead` (chủ trì), `coordinating` (phối hợp) or `monitoring` (theo dõi)."
    )
    person_id: int | None = Field(description="The person assigned; null for an organization.")
    person_name: str | None = Field(description="Full name of that person.")
    organization: str | None = Field(description="The organization assigned; null for a person.")
    source_quote: str | None = Field(description="The passage this comes from, if any.")
    created_at: dt.datetime
    updated_at: dt.datetime


class AssigneeCreate(SQLModel):
    """Exactly one of `person_id` and `organization`."""

    slug: ShortStr | None = None
    role: AssigneeRole
    person_id: int | None = None
    organization: ShortStr | None = None
    source_quote: LongStr | None = None


class AssigneeUpdate(SQLModel):
    role: AssigneeRole | None = None
    person_id: int | None = None
    organization: ShortStr | None = None
    source_quote: LongStr | None = None


class DirectiveShortcoming(SQLModel, table=True):
    """A directive that answers a shortcoming (`addresses`)."""

    __tablename__ = "directive_shortcoming"

    directive_id: int = Field(foreign_key="directive.id", primary_key=True, ondelete="CASCADE")
    shortcoming_id: int = Field(
        foreign_key="shortcoming.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class DirectiveReview(Timestamps, table=True):
    """A later meeting reviewing how an earlier directive was carried out."""

    __tablename__ = "directive_review"
    __table_args__ = (
        Index("ix_directive_review_meeting_id_id", "meeting_id", "id"),
        Index("ix_directive_review_directive_id_id", "directive_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    directive_id: int = Field(foreign_key="directive.id", ondelete="CASCADE")
    outcome: str = Field(max_length=20_000)
    source_quote: str | None = Field(default=None, max_length=20_000)


class ReviewPublic(SQLModel):
    model_config = examples.config(examples.REVIEW)

    id: int
    meeting_id: int = Field(description="The reviewing meeting.")
    directive_id: int = Field(description="The directive reviewed, issued at an earlier meeting.")
    outcome: str = Field(description="What the reviewing meeting found or decided.")
    source_quote: str | None = Field(description="The passage this comes from, if any.")
    created_at: dt.datetime
    updated_at: dt.datetime


class ReviewCreate(SQLModel):
    directive_id: int
    outcome: LongStr
    source_quote: LongStr | None = None


class CitationCreate(SQLModel):
    document_id: int
    source_quote: LongStr
