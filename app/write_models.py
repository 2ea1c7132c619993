"""Request bodies of the write API: the models' XCreate/XUpdate, made strict.

Unknown fields, and server-owned ones such as id or created_at, are refused
(extra="forbid") with a 422 naming the field. Slugs must be usable in paths,
datetimes must carry a UTC offset, and ids must fit the INTEGER columns.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic import Field as PydanticField
from sqlmodel._compat import SQLModelConfig

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


def _not_all_digits(value: str) -> str:
    if value.isdigit():
        raise ValueError("a slug cannot be all digits (it would read as an id)")
    return value


Slug = Annotated[
    str,
    PydanticField(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
    AfterValidator(_not_all_digits),
]
RecordId = Annotated[int, PydanticField(ge=1, le=MAX_ID)]
_STRICT = SQLModelConfig(extra="forbid")


class MeetingCreate(_MeetingCreate):
    model_config = _STRICT
    slug: Slug
    starts_at: AwareDatetime | None = None
    source_published_at: AwareDatetime


class MeetingUpdate(_MeetingUpdate):
    model_config = _STRICT
    starts_at: AwareDatetime | None = None


class PersonCreate(_PersonCreate):
    model_config = _STRICT
    slug: Slug


class PersonUpdate(_PersonUpdate):
    model_config = _STRICT


class DirectiveCreate(_DirectiveCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId
    issued_by: RecordId


class DirectiveUpdate(_DirectiveUpdate):
    model_config = _STRICT


class ParticipantCreate(_ParticipantCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId
    person_id: RecordId


class ParticipantUpdate(_ParticipantUpdate):
    model_config = _STRICT


class ShortcomingCreate(_ShortcomingCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId


class ShortcomingUpdate(_ShortcomingUpdate):
    model_config = _STRICT


class FindingCreate(_FindingCreate):
    model_config = _STRICT
    slug: Slug
    meeting_id: RecordId


class FindingUpdate(_FindingUpdate):
    model_config = _STRICT


class DocumentCreate(_DocumentCreate):
    model_config = _STRICT
    slug: Slug


class DocumentUpdate(_DocumentUpdate):
    model_config = _STRICT


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
