"""POST, PATCH and DELETE for every resource (API key with scope write).

(No `from __future__ import annotations` here: FastAPI reads the handlers'
annotations, which name the arguments of write_routes().)
"""

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
    WriteSpec,
    Written,
    create,
    modify,
    remove,
)

# RFC 9110 If-Match: "*" or a list of entity tags ([W/]"...", no quote or control inside).
_ETAG = r'(?:W/)?"[\x21\x23-\x7e]*"'
IF_MATCH_PATTERN = rf"^[ \t]*(?:\*|{_ETAG}(?:[ \t]*,[ \t]*{_ETAG})*)[ \t]*$"
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        pattern=IF_MATCH_PATTERN,
        description="Required: the record's current ETag, from GET or the previous write "
        "(RFC 9110: `*`, or a comma-separated list of entity tags). Without it the answer is 428.",
        examples=['"3f1c0a9be2d7c54a8e6f1d2b7a9c0e11"'],
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


def write_routes(
    spec: WriteSpec,
    create_model: Any,
    update_model: Any,
    public: Any,
    *,
    create_example: Any,
    update_example: Any,
    create_responses: Any = CREATE,
    delete_responses: Any = DELETE,
    delete_summary: str | None = None,
) -> APIRouter:
    """POST /{collection}, PATCH and DELETE /{collection}/{ref} for one resource."""
    resource = spec.resource
    name = resource.name
    router = APIRouter(prefix=resource.path, tags=[resource.path.strip("/")])

    def create_one(
        body: create_model,
        engine: EngineDep,
        key: WriterDep,
        response: Response,
        idem: IdempotencyKey = None,
    ) -> Any:
        return _created(create(engine, spec, body, principal=key, idempotency_key=idem), response)

    def update_one(
        ref: RecordRef,
        body: update_model,
        engine: EngineDep,
        key: WriterDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        return _changed(modify(engine, spec, ref, body, if_match, principal=key), response)

    def delete_one(ref: RecordRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None) -> None:
        remove(engine, spec, ref, if_match)

    create_one.__name__, update_one.__name__, delete_one.__name__ = (
        f"create_{name}",
        f"update_{name}",
        f"delete_{name}",
    )
    router.add_api_route(
        "",
        create_one,
        methods=["POST"],
        status_code=201,
        response_model=public,
        responses=create_responses,
        summary=f"Create a {name}",
        openapi_extra=docs.body_example(create_example),
    )
    router.add_api_route(
        "/{ref}",
        update_one,
        methods=["PATCH"],
        response_model=public,
        responses=PATCH,
        summary=f"Change a {name}",
        openapi_extra=docs.body_example(update_example),
    )
    router.add_api_route(
        "/{ref}",
        delete_one,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        responses=delete_responses,
        summary=delete_summary or f"Delete a {name}",
    )
    return router


meetings = write_routes(
    MEETING_WRITES,
    MeetingCreate,
    MeetingUpdate,
    MeetingPublic,
    create_example=docs.MEETING_CREATE,
    update_example=docs.MEETING_UPDATE,
    delete_summary="Delete a meeting with everything recorded for it",
)
people = write_routes(
    PERSON_WRITES,
    PersonCreate,
    PersonUpdate,
    PersonPublic,
    create_example=docs.PERSON_CREATE,
    update_example=docs.PERSON_UPDATE,
    delete_summary="Delete a person who takes part in no meeting",
)
directives = write_routes(
    DIRECTIVE_WRITES,
    DirectiveCreate,
    DirectiveUpdate,
    DirectivePublic,
    create_example=docs.DIRECTIVE_CREATE,
    update_example=docs.DIRECTIVE_UPDATE,
)
participants = write_routes(
    PARTICIPANT_WRITES,
    ParticipantCreate,
    ParticipantUpdate,
    ParticipantPublic,
    create_example=docs.PARTICIPANT_CREATE,
    update_example=docs.PARTICIPANT_UPDATE,
    create_responses=PARTICIPANT_CREATE_RESPONSES,
    delete_responses=PARTICIPANT_DELETE_RESPONSES,
    delete_summary="Delete a participant who issued no directive",
)
shortcomings = write_routes(
    SHORTCOMING_WRITES,
    ShortcomingCreate,
    ShortcomingUpdate,
    ShortcomingPublic,
    create_example=docs.SHORTCOMING_CREATE,
    update_example=docs.SHORTCOMING_UPDATE,
)
findings = write_routes(
    FINDING_WRITES,
    FindingCreate,
    FindingUpdate,
    FindingPublic,
    create_example=docs.FINDING_CREATE,
    update_example=docs.FINDING_UPDATE,
)
documents = write_routes(
    DOCUMENT_WRITES,
    DocumentCreate,
    DocumentUpdate,
    DocumentPublic,
    create_example=docs.DOCUMENT_CREATE,
    update_example=docs.DOCUMENT_UPDATE,
    delete_responses=DOCUMENT_DELETE_RESPONSES,
    delete_summary="Delete a document no meeting cites",
)

ROUTERS = (meetings, people, directives, participants, shortcomings, findings, documents)
