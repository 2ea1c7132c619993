"""Request bodies of the write API: the models' XCreate/XUpdate, made strict.

Unknown fields, and server-owned ones such as id or created_at, are refused
(extra="forbid") with a 422 naming the field. Slugs must be usable in paths,
datetimes must carry a UTC offset, and ids must fit the INTEGER columns.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime
from pydantic import Field as PydanticField
from sqlmodel import SQLModel
from sqlmodel._compat import SQLModelConfig

from app.models import Directive, Document, Finding, Meeting, Participant, Person, Shortcoming
from app.models.directive import DirectiveCreate as _DirectiveCreate
from app.models.directive import DirectiveUpdate as _DirectiveUpdate
from app.models.document import DocumentCreate as _DocumentCreate
from app.models.document import DocumentUpdate as _DocumentUpdate
from app.models.finding import FindingCreate as _FindingCreate
from app.models.finding import FindingUpdate as _FindingUpdate
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


class MeetingCreate(_MeetingCreate):
    model_config = _STRICT
    slug: Slug
    starts_at: AwareDatetime | None = None
    source_published_at: AwareDatetime


class MeetingUpdate(_MeetingUpdate):
    model_config = _update_config(Meeting)
    starts_at: AwareDatetime | None = None


class PersonCreate(_PersonCreate):
    model_config = _STRICT
    slug: Slug


class PersonUpdate(_PersonUpdate):
    model_config = _update_config(Person)


class DirectiveCreate(_DirectiveCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId
    issued_by: RecordId


class DirectiveUpdate(_DirectiveUpdate):
    model_config = _update_config(Directive)


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


class DocumentCreate(_DocumentCreate):
    model_config = _STRICT
    slug: Slug


class DocumentUpdate(_DocumentUpdate):
    model_config = _update_config(Document)


__all__ = [
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
    "ShortcomingCreate",
    "ShortcomingUpdate",
]
