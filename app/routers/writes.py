"""POST, PATCH and DELETE for meetings, people and directives (API key with scope write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from app.auth import WriterDep
from app.db import EngineDep
from app.deps import RecordRef
from app.models.directive import DirectivePublic
from app.models.meeting import MeetingPublic
from app.models.person import PersonPublic
from app.write_models import (
    DirectiveCreate,
    DirectiveUpdate,
    MeetingCreate,
    MeetingUpdate,
    PersonCreate,
    PersonUpdate,
)
from app.writes import DIRECTIVE_WRITES, MEETING_WRITES, PERSON_WRITES, Written, create, modify, remove

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description="Required: the record's current ETag, from GET or the previous write.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Optional: retrying with the same key replays the first response "
        "(the same key with a different body is refused with 422).",
    ),
]

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _problems(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code[1:]): {"description": text, "content": _PROBLEM} for code, text in codes.items()}


_AUTH = {
    "_401": "No API key, or a bad or revoked one",
    "_403": "The API key's scope does not allow writes",
    "_413": "Request body too large",
    "_422": "Invalid body or field",
    "_429": "Too many failed authentications from this address (see Retry-After)",
}
CREATE = _problems(**_AUTH, _409="A record with this slug already exists")
PATCH = _problems(
    **_AUTH,
    _404="No such record",
    _409="Conflicts with other records",
    _412="If-Match does not match the current ETag",
    _428="If-Match is missing",
)
DELETE = _problems(
    **_AUTH,
    _404="No such record",
    _409="Still referenced by other records",
    _412="If-Match does not match the current ETag",
    _428="If-Match is missing",
)


def _created(written: Written, response: Response) -> Any:
    headers = {"Location": written.location or "", "ETag": written.etag or ""}
    if written.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        content=written.body, status_code=written.status, media_type="application/json", headers=headers
    )


def _changed(written: Written, response: Response) -> Any:
    response.headers["ETag"] = written.etag or ""
    return written.public


meetings = APIRouter(prefix="/meetings", tags=["meetings"])
people = APIRouter(prefix="/people", tags=["people"])
directives = APIRouter(prefix="/directives", tags=["directives"])


@meetings.post(
    "", status_code=201, response_model=MeetingPublic, responses=CREATE, summary="Create a meeting"
)
def create_meeting(
    body: MeetingCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, MEETING_WRITES, body, principal=key, idempotency_key=idem), response)


@meetings.patch("/{ref}", response_model=MeetingPublic, responses=PATCH, summary="Change a meeting")
def update_meeting(
    ref: RecordRef,
    body: MeetingUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, MEETING_WRITES, ref, body, if_match), response)


@meetings.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=DELETE,
    summary="Delete a meeting with everything recorded for it",
)
def delete_meeting(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, MEETING_WRITES, ref, if_match)


@people.post("", status_code=201, response_model=PersonPublic, responses=CREATE, summary="Create a person")
def create_person(
    body: PersonCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, PERSON_WRITES, body, principal=key, idempotency_key=idem), response)


@people.patch("/{ref}", response_model=PersonPublic, responses=PATCH, summary="Change a person")
def update_person(
    ref: RecordRef,
    body: PersonUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, PERSON_WRITES, ref, body, if_match), response)


@people.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=DELETE,
    summary="Delete a person who takes part in no meeting",
)
def delete_person(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, PERSON_WRITES, ref, if_match)


@directives.post(
    "", status_code=201, response_model=DirectivePublic, responses=CREATE, summary="Create a directive"
)
def create_directive(
    body: DirectiveCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, DIRECTIVE_WRITES, body, principal=key, idempotency_key=idem), response)


@directives.patch("/{ref}", response_model=DirectivePublic, responses=PATCH, summary="Change a directive")
def update_directive(
    ref: RecordRef,
    body: DirectiveUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, DIRECTIVE_WRITES, ref, body, if_match), response)


@directives.delete(
    "/{ref}", status_code=204, response_class=Response, responses=DELETE, summary="Delete a directive"
)
def delete_directive(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, DIRECTIVE_WRITES, ref, if_match)


ROUTERS = (meetings, people, directives)
