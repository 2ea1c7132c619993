"""Request bodies of the write API: the models' XCreate/XUpdate, made strict.

Unknown fields, and server-owned ones such as id or created_at, are refused
(extra="forbid") with a 422 naming the field. Slugs must be usable in paths,
datetimes must carry a UTC offset, and ids must fit the INTEGER columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AwareDatetime, field_validator
from pydantic import Field as PydanticField
from sqlmodel import SQLModel
from sqlmodel._compat import SQLModelConfig

from app.models import (
    Directive,
    DirectiveAssignee,
    Document,
    Finding,
    Meeting,
    Participant,
    Person,
    Shortcoming,
)
from app.models.directive import DirectiveCreate as _DirectiveCreate
from app.models.directive import DirectiveUpdate as _DirectiveUpdate
from app.models.document import DocumentCreate as _DocumentCreate
from app.models.document import DocumentUpdate as _DocumentUpdate
from app.models.finding import FindingCreate as _FindingCreate
from app.models.finding import FindingUpdate as _FindingUpdate
from app.models.links import AssigneeCreate as _AssigneeCreate
from app.models.links import AssigneeUpdate as _AssigneeUpdate
from app.models.links import CitationCreate as _CitationCreate
from app.models.links import ReviewCreate as _ReviewCreate
from app.models.meeting import MeetingCreate as _MeetingCreate
from app.models.meeting import MeetingUpdate as _MeetingUpdate
from app.models.participant import ParticipantCreate as _ParticipantCreate
from app.models.participant import ParticipantUpdate as _ParticipantUpdate
from app.models.person import PersonCreate as _PersonCreate
from app.models.person import PersonUpdate as _PersonUpdate
from app.models.shortcoming import ShortcomingCreate as _ShortcomingCreate
from app.models.shortcoming import ShortcomingUpdate as _ShortcomingUpdate
from app.resources import MAX_ID
from app.seed_schema import Slug

RecordId = Annotated[int, PydanticField(ge=1, le=MAX_ID)]
_STRICT = SQLModelConfig(extra="forbid")


def _update_config(table: type[SQLModel]) -> SQLModelConfig:
    """Strict, and documenting that a NOT NULL column's field may be left out but not null.

    The Update models type every field `X | None = None` so that a field left
    out means "no change"; their schema would then offer null for columns that
    cannot hold it, which the write answers with a 422 naming the field.
    """
    not_null = {column.name for column in table.__table__.columns if not column.nullable}  # type: ignore[attr-defined]

    def document(schema: dict[str, Any]) -> None:
        for name, prop in schema.get("properties", {}).items():
            if name not in not_null or "anyOf" not in prop:
                continue
            kinds = [kind for kind in prop.pop("anyOf") if kind.get("type") != "null"]
            prop.update(kinds[0] if len(kinds) == 1 else {"anyOf": kinds})
            if prop.get("default", ...) is None:
                del prop["default"]

    return SQLModelConfig(extra="forbid", json_schema_extra=document)


class _IsoDates(SQLModel):
    """Dates and date-times as the document says: ISO 8601 text (pydantic would also take a
    number, as seconds since 1970, which the schema does not offer)."""

    @field_validator(
        "date", "starts_at", "source_published_at", "due_date", "issued_on", mode="before", check_fields=False
    )
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | dt.date):
            raise ValueError("ISO 8601 text is needed, such as 2018-03-20 or 2018-03-20T08:00:00+07:00")
        return value


class MeetingCreate(_IsoDates, _MeetingCreate):
    model_config = _STRICT
    slug: Slug
    starts_at: AwareDatetime | None = None
    source_published_at: AwareDatetime


class MeetingUpdate(_IsoDates, _MeetingUpdate):
    model_config = _update_config(Meeting)
    starts_at: AwareDatetime | None = None


class PersonCreate(_PersonCreate):
    model_config = _STRICT
    slug: Slug


class PersonUpdate(_PersonUpdate):
    model_config = _update_config(Person)


def _never_null(schema: dict[str, Any]) -> None:
    """Documented as the field's own type: it may be left out, not null (as _update_config does)."""
    kinds = [kind for kind in schema.pop("anyOf", []) if kind.get("type") != "null"]
    if len(kinds) == 1:
        schema.update(kinds[0])
    schema.pop("default", None)


class DirectiveCreate(_IsoDates, _DirectiveCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId
    issued_by: RecordId
    addresses: list[RecordId] = PydanticField(
        default=[], max_length=1000, description="Ids of the shortcomings this directive answers."
    )


class DirectiveUpdate(_IsoDates, _DirectiveUpdate):
    model_config = _update_config(Directive)
    # Left out: no change; never null (a 422 naming it), [] for none.
    addresses: list[RecordId] | None = PydanticField(
        default=None,
        max_length=1000,
        description="Ids of the shortcomings this directive answers (replaces the list).",
        json_schema_extra=_never_null,
    )


class AssigneeCreate(_AssigneeCreate):
    """Exactly one of `person_id` (a person) and `organization` (an organization, as named)."""

    model_config = _STRICT
    slug: Slug | None = None
    person_id: RecordId | None = None


class AssigneeUpdate(_AssigneeUpdate):
    model_config = _update_config(DirectiveAssignee)
    person_id: RecordId | None = None


class AssigneeInsert(AssigneeCreate):
    """An assignee as written: the body and the directive of the path."""

    directive_id: RecordId


class ReviewCreate(_ReviewCreate):
    model_config = _STRICT
    directive_id: RecordId


class ReviewInsert(ReviewCreate):
    """A review as written: the body and the reviewing meeting of the path."""

    meeting_id: RecordId


class CitationCreate(_CitationCreate):
    model_config = _STRICT
    document_id: RecordId


class ParticipantCreate(_ParticipantCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId
    person_id: RecordId


class ParticipantUpdate(_ParticipantUpdate):
    model_config = _update_config(Participant)


class ShortcomingCreate(_ShortcomingCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId


class ShortcomingUpdate(_ShortcomingUpdate):
    model_config = _update_config(Shortcoming)


class FindingCreate(_FindingCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId


class FindingUpdate(_FindingUpdate):
    model_config = _update_config(Finding)


class DocumentCreate(_IsoDates, _DocumentCreate):
    model_config = _STRICT
    slug: Slug


class DocumentUpdate(_IsoDates, _DocumentUpdate):
    model_config = _update_config(Document)


__all__ = [
    "AssigneeCreate",
    "AssigneeInsert",
    "AssigneeUpdate",
    "CitationCreate",
    "DirectiveCreate",
    "DirectiveUpdate",
    "DocumentCreate",
    "DocumentUpdate",
    "FindingCreate",
    "FindingUpdate",
    "MeetingCreate",
    "MeetingUpdate",
    "ParticipantCreate",
    "ParticipantUpdate",
    "PersonCreate",
    "PersonUpdate",
    "ReviewCreate",
    "ReviewInsert",
    "ShortcomingCreate",
    "ShortcomingUpdate",
]
