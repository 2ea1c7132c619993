"""POST, PATCH and DELETE for every resource (API key with scope write)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from app import openapi_docs as docs
from app.auth import WriterDep
from app.db import EngineDep
from app.deps import RecordRef
from app.models.directive import DirectivePublic
from app.models.document import DocumentPublic
from app.models.finding import FindingPublic
from app.models.meeting import MeetingPublic
from app.models.participant import ParticipantPublic
from app.models.person import PersonPublic
from app.models.shortcoming import ShortcomingPublic
from app.write_models import (
    DirectiveCreate,
    DirectiveUpdate,
    DocumentCreate,
    DocumentUpdate,
    FindingCreate,
    FindingUpdate,
    MeetingCreate,
    MeetingUpdate,
    ParticipantCreate,
    ParticipantUpdate,
    PersonCreate,
    PersonUpdate,
    ShortcomingCreate,
    ShortcomingUpdate,
)
from app.writes import (
    DIRECTIVE_WRITES,
    DOCUMENT_WRITES,
    FINDING_WRITES,
    MEETING_WRITES,
    PARTICIPANT_WRITES,
    PERSON_WRITES,
    SHORTCOMING_WRITES,
    Written,
    create,
    modify,
    remove,
)

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

CREATE = {201: docs.CREATED, **docs.CREATE}
PATCH = {200: docs.CHANGED, **docs.PATCH}
DELETE = {204: docs.DELETED, **docs.DELETE}
PARTICIPANT_CREATE_RESPONSES = {201: docs.CREATED, **docs.PARTICIPANT_CREATE_PROBLEMS}
PARTICIPANT_DELETE_RESPONSES = {204: docs.DELETED, **docs.PARTICIPANT_DELETE_PROBLEMS}
DOCUMENT_DELETE_RESPONSES = {204: docs.DELETED, **docs.DOCUMENT_DELETE_PROBLEMS}


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
participants = APIRouter(prefix="/participants", tags=["participants"])
shortcomings = APIRouter(prefix="/shortcomings", tags=["shortcomings"])
findings = APIRouter(prefix="/findings", tags=["findings"])
documents = APIRouter(prefix="/documents", tags=["documents"])


@meetings.post(
    "",
    status_code=201,
    response_model=MeetingPublic,
    responses=CREATE,
    summary="Create a meeting",
    openapi_extra=docs.body_example(docs.MEETING_CREATE),
)
def create_meeting(
    body: MeetingCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, MEETING_WRITES, body, principal=key, idempotency_key=idem), response)


@meetings.patch(
    "/{ref}",
    response_model=MeetingPublic,
    responses=PATCH,
    summary="Change a meeting",
    openapi_extra=docs.body_example(docs.MEETING_UPDATE),
)
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


@people.post(
    "",
    status_code=201,
    response_model=PersonPublic,
    responses=CREATE,
    summary="Create a person",
    openapi_extra=docs.body_example(docs.PERSON_CREATE),
)
def create_person(
    body: PersonCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, PERSON_WRITES, body, principal=key, idempotency_key=idem), response)


@people.patch(
    "/{ref}",
    response_model=PersonPublic,
    responses=PATCH,
    summary="Change a person",
    openapi_extra=docs.body_example(docs.PERSON_UPDATE),
)
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
    "",
    status_code=201,
    response_model=DirectivePublic,
    responses=CREATE,
    summary="Create a directive",
    openapi_extra=docs.body_example(docs.DIRECTIVE_CREATE),
)
def create_directive(
    body: DirectiveCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, DIRECTIVE_WRITES, body, principal=key, idempotency_key=idem), response)


@directives.patch(
    "/{ref}",
    response_model=DirectivePublic,
    responses=PATCH,
    summary="Change a directive",
    openapi_extra=docs.body_example(docs.DIRECTIVE_UPDATE),
)
def update_directive(
    ref: RecordRef,
    body: DirectiveUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, DIRECTIVE_WRITES, ref, body, if_match, principal=key), response)


@directives.delete(
    "/{ref}", status_code=204, response_class=Response, responses=DELETE, summary="Delete a directive"
)
def delete_directive(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, DIRECTIVE_WRITES, ref, if_match)


@participants.post(
    "",
    status_code=201,
    response_model=ParticipantPublic,
    responses=PARTICIPANT_CREATE_RESPONSES,
    summary="Create a participant",
    openapi_extra=docs.body_example(docs.PARTICIPANT_CREATE),
)
def create_participant(
    body: ParticipantCreate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    idem: IdempotencyKey = None,
) -> Any:
    return _created(create(engine, PARTICIPANT_WRITES, body, principal=key, idempotency_key=idem), response)


@participants.patch(
    "/{ref}",
    response_model=ParticipantPublic,
    responses=PATCH,
    summary="Change a participant",
    openapi_extra=docs.body_example(docs.PARTICIPANT_UPDATE),
)
def update_participant(
    ref: RecordRef,
    body: ParticipantUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, PARTICIPANT_WRITES, ref, body, if_match), response)


@participants.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=PARTICIPANT_DELETE_RESPONSES,
    summary="Delete a participant who issued no directive",
)
def delete_participant(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, PARTICIPANT_WRITES, ref, if_match)


@shortcomings.post(
    "",
    status_code=201,
    response_model=ShortcomingPublic,
    responses=CREATE,
    summary="Create a shortcoming",
    openapi_extra=docs.body_example(docs.SHORTCOMING_CREATE),
)
def create_shortcoming(
    body: ShortcomingCreate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    idem: IdempotencyKey = None,
) -> Any:
    return _created(create(engine, SHORTCOMING_WRITES, body, principal=key, idempotency_key=idem), response)


@shortcomings.patch(
    "/{ref}",
    response_model=ShortcomingPublic,
    responses=PATCH,
    summary="Change a shortcoming",
    openapi_extra=docs.body_example(docs.SHORTCOMING_UPDATE),
)
def update_shortcoming(
    ref: RecordRef,
    body: ShortcomingUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, SHORTCOMING_WRITES, ref, body, if_match), response)


@shortcomings.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=DELETE,
    summary="Delete a shortcoming",
)
def delete_shortcoming(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, SHORTCOMING_WRITES, ref, if_match)


@findings.post(
    "",
    status_code=201,
    response_model=FindingPublic,
    responses=CREATE,
    summary="Create a finding",
    openapi_extra=docs.body_example(docs.FINDING_CREATE),
)
def create_finding(
    body: FindingCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, FINDING_WRITES, body, principal=key, idempotency_key=idem), response)


@findings.patch(
    "/{ref}",
    response_model=FindingPublic,
    responses=PATCH,
    summary="Change a finding",
    openapi_extra=docs.body_example(docs.FINDING_UPDATE),
)
def update_finding(
    ref: RecordRef,
    body: FindingUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, FINDING_WRITES, ref, body, if_match), response)


@findings.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=DELETE,
    summary="Delete a finding",
)
def delete_finding(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, FINDING_WRITES, ref, if_match)


@documents.post(
    "",
    status_code=201,
    response_model=DocumentPublic,
    responses=CREATE,
    summary="Create a document",
    openapi_extra=docs.body_example(docs.DOCUMENT_CREATE),
)
def create_document(
    body: DocumentCreate, engine: EngineDep, key: WriterDep, response: Response, idem: IdempotencyKey = None
) -> Any:
    return _created(create(engine, DOCUMENT_WRITES, body, principal=key, idempotency_key=idem), response)


@documents.patch(
    "/{ref}",
    response_model=DocumentPublic,
    responses=PATCH,
    summary="Change a document",
    openapi_extra=docs.body_example(docs.DOCUMENT_UPDATE),
)
def update_document(
    ref: RecordRef,
    body: DocumentUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    return _changed(modify(engine, DOCUMENT_WRITES, ref, body, if_match), response)


@documents.delete(
    "/{ref}",
    status_code=204,
    response_class=Response,
    responses=DOCUMENT_DELETE_RESPONSES,
    summary="Delete a document no meeting cites",
)
def delete_document(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
    remove(engine, DOCUMENT_WRITES, ref, if_match)


ROUTERS = (meetings, people, directives, participants, shortcomings, findings, documents)
