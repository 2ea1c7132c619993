"""Links between records: a directive's assignees, later meetings' reviews of a
directive, and the documents a meeting cites (writes; the reads are in meetings.py).

Writes go through app/writes.py (assignees, reviews) or app/link_writes.py (citations):
an API key with scope write, Idempotency-Key on POST, If-Match on PATCH and DELETE.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import Engine, select

from app import openapi_docs as docs
from app.auth import WriterDep
from app.db import EngineDep, SessionDep
from app.deps import DEFAULT_LIMIT, Cursor, Limit, RecordRef, list_page, sort_param
from app.errors import NotFound
from app.etag import set_record_etag
from app.fastread import Filters, raw_cursor
from app.link_writes import cite, load_citation, uncite
from app.models.common import Page
from app.models.document import CitationPublic
from app.models.links import AssigneePublic, ReviewPublic
from app.openapi_docs import READ
from app.resources import (
    ASSIGNEES,
    DIRECTIVES,
    DOCUMENTS,
    MAX_ID,
    MEETINGS,
    REVIEWS,
    Resource,
    assignee_t,
    review_t,
)
from app.routers.writes import IdempotencyKey, IfMatch, _changed, _created
from app.write_models import (
    AssigneeCreate,
    AssigneeInsert,
    AssigneeUpdate,
    CitationCreate,
    ReviewCreate,
    ReviewInsert,
)
from app.writes import ASSIGNEE_WRITES, REVIEW_WRITES, create, modify, remove

router = APIRouter()

AssigneeRef = Annotated[
    str,
    Path(
        pattern=r"^(?:[1-9][0-9]{0,17}|[a-z0-9]+(?:-[a-z0-9]+)*)$",
        max_length=120,
        description="The assignee's integer id, or its slug.",
        examples=["3"],
    ),
]
ReviewId = Annotated[int, Path(ge=1, le=MAX_ID, description="The review's id.", examples=[1])]
DocumentRef = Annotated[
    str,
    Path(
        pattern=r"^(?:[1-9][0-9]{0,17}|[a-z0-9]+(?:-[a-z0-9]+)*)$",
        max_length=120,
        description="The cited document's integer id, or its slug.",
        examples=["1"],
    ),
]

CREATED = {201: docs.CREATED, **docs.NESTED_CREATE}
CHANGED = {200: docs.CHANGED, **docs.PATCH}
DELETED = {204: docs.DELETED, **docs.DELETE}


def parent_id(conn: Any, resource: Resource, ref: str) -> int:
    """The id of the record `ref` names (id or slug), or 404."""
    found = conn.execute(select(resource.table.c.id).where(resource.ref_clause(ref))).scalar()
    if found is None:
        raise NotFound(f"No {resource.name} with id or slug {ref!r}.")
    return int(found)


def _parent(engine: Engine, resource: Resource, ref: str) -> int:
    with engine.connect() as conn:
        return parent_id(conn, resource, ref)


def _assignee_id(conn: Any, directive_id: int, ref: str) -> int:
    found = conn.execute(
        select(assignee_t.c.id).where(ASSIGNEES.ref_clause(ref), assignee_t.c.directive_id == directive_id)
    ).scalar()
    if found is None:
        raise NotFound(f"Directive {directive_id} has no assignee with id or slug {ref!r}.")
    return int(found)


# --- assignees ------------------------------------------------------------------------------------


@router.get(
    "/directives/{ref}/assignees",
    responses=READ,
    summary="List a directive's assignees",
    tags=["directives"],
    response_model=Page[AssigneePublic],
)
def read_directive_assignees(
    ref: RecordRef,
    engine: EngineDep,
    request: Request,
    sort: Annotated[str | None, sort_param(ASSIGNEES)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Who must act on the directive: organizations or people, each as `lead` (chủ trì),
    `coordinating` (phối hợp) or `monitoring` (theo dõi)."""
    return _children(
        engine, request, DIRECTIVES, ref, ASSIGNEES, assignee_t.c.directive_id, sort, cursor, limit
    )


@router.get(
    "/directives/{ref}/assignees/{assignee_ref}",
    responses=READ,
    summary="Read one assignee of a directive",
    tags=["directives"],
)
def read_directive_assignee(
    ref: RecordRef, assignee_ref: AssigneeRef, session: SessionDep, response: Response
) -> AssigneePublic:
    directive_id = parent_id(session, DIRECTIVES, ref)
    assignee: AssigneePublic = ASSIGNEES.get(session, str(_assignee_id(session, directive_id, assignee_ref)))
    set_record_etag(response, assignee)
    return assignee


@router.post(
    "/directives/{ref}/assignees",
    status_code=201,
    response_model=AssigneePublic,
    responses=CREATED,
    summary="Assign a directive to an organization or a person",
    tags=["directives"],
    openapi_extra=docs.body_example(docs.ASSIGNEE_CREATE),
)
def create_directive_assignee(
    ref: RecordRef,
    body: AssigneeCreate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    idem: IdempotencyKey = None,
) -> Any:
    """Exactly one of `organization` (as the source names it) and `person_id`; 422 naming
    the field otherwise. The directive's `updated_at` (and ETag) change with its assignees."""
    directive_id = _parent(engine, DIRECTIVES, ref)
    row = AssigneeInsert(**body.model_dump(), directive_id=directive_id)
    written = create(engine, ASSIGNEE_WRITES, row, principal=key, idempotency_key=idem)
    return _created(written, response)


@router.patch(
    "/directives/{ref}/assignees/{assignee_ref}",
    response_model=AssigneePublic,
    responses=CHANGED,
    summary="Change an assignee of a directive",
    tags=["directives"],
    openapi_extra=docs.body_example(docs.ASSIGNEE_UPDATE),
)
def update_directive_assignee(
    ref: RecordRef,
    assignee_ref: AssigneeRef,
    body: AssigneeUpdate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    with engine.connect() as conn:
        assignee_id = _assignee_id(conn, parent_id(conn, DIRECTIVES, ref), assignee_ref)
    written = modify(engine, ASSIGNEE_WRITES, str(assignee_id), body, if_match, principal=key)
    return _changed(written, response)


@router.delete(
    "/directives/{ref}/assignees/{assignee_ref}",
    status_code=204,
    response_class=Response,
    responses=DELETED,
    summary="Remove an assignee from a directive",
    tags=["directives"],
)
def delete_directive_assignee(
    ref: RecordRef, assignee_ref: AssigneeRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None
) -> None:
    with engine.connect() as conn:
        assignee_id = _assignee_id(conn, parent_id(conn, DIRECTIVES, ref), assignee_ref)
    remove(engine, ASSIGNEE_WRITES, str(assignee_id), if_match, principal=key)


# --- reviews --------------------------------------------------------------------------------------


def _children(
    engine: Engine,
    request: Request,
    parent: Resource,
    ref: str,
    resource: Resource,
    column: Any,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> Response:
    """A page of `resource`'s records whose `column` is the id of the `parent` record `ref` names
    (or 404), on the fast read path."""
    with raw_cursor(engine) as cur:
        parent_record = parent.fast_get(cur, engine.dialect, ref)
        where = Filters()
        where.add(f"{parent.table.name}_id", lambda p: column == p, parent_record["id"])
        return list_page(
            cur, engine.dialect, resource, request, where=where, q=None, sort=sort, cursor=cursor, limit=limit
        )


@router.get(
    "/meetings/{ref}/reviews",
    responses=READ,
    summary="List the directives of earlier meetings a meeting reviewed",
    tags=["meetings"],
    response_model=Page[ReviewPublic],
)
def read_meeting_reviews(
    ref: RecordRef,
    engine: EngineDep,
    request: Request,
    sort: Annotated[str | None, sort_param(REVIEWS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    return _children(engine, request, MEETINGS, ref, REVIEWS, review_t.c.meeting_id, sort, cursor, limit)


@router.get(
    "/directives/{ref}/reviews",
    responses=READ,
    summary="List the later meetings' reviews of a directive",
    tags=["directives"],
    response_model=Page[ReviewPublic],
)
def read_directive_reviews(
    ref: RecordRef,
    engine: EngineDep,
    request: Request,
    sort: Annotated[str | None, sort_param(REVIEWS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Any:
    return _children(engine, request, DIRECTIVES, ref, REVIEWS, review_t.c.directive_id, sort, cursor, limit)


def _review_id(conn: Any, meeting_id: int, review_id: int) -> int:
    found = conn.execute(
        select(review_t.c.id).where(review_t.c.id == review_id, review_t.c.meeting_id == meeting_id)
    ).scalar()
    if found is None:
        raise NotFound(f"Meeting {meeting_id} has no review with id {review_id}.")
    return int(found)


@router.get(
    "/meetings/{ref}/reviews/{review_id}",
    responses=READ,
    summary="Read one review a meeting made",
    tags=["meetings"],
)
def read_meeting_review(
    ref: RecordRef, review_id: ReviewId, session: SessionDep, response: Response
) -> ReviewPublic:
    found = _review_id(session, parent_id(session, MEETINGS, ref), review_id)
    review: ReviewPublic = REVIEWS.get(session, str(found))
    set_record_etag(response, review)
    return review


@router.post(
    "/meetings/{ref}/reviews",
    status_code=201,
    response_model=ReviewPublic,
    responses=CREATED,
    summary="Record that a meeting reviewed a directive of an earlier meeting",
    tags=["meetings"],
    openapi_extra=docs.body_example(docs.REVIEW_CREATE),
)
def create_meeting_review(
    ref: RecordRef,
    body: ReviewCreate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    idem: IdempotencyKey = None,
) -> Any:
    """The directive must have been issued at a meeting dated before this one (422 otherwise)."""
    meeting_id = _parent(engine, MEETINGS, ref)
    row = ReviewInsert(**body.model_dump(), meeting_id=meeting_id)
    return _created(create(engine, REVIEW_WRITES, row, principal=key, idempotency_key=idem), response)


@router.delete(
    "/meetings/{ref}/reviews/{review_id}",
    status_code=204,
    response_class=Response,
    responses=DELETED,
    summary="Delete a review",
    tags=["meetings"],
)
def delete_meeting_review(
    ref: RecordRef, review_id: ReviewId, engine: EngineDep, key: WriterDep, if_match: IfMatch = None
) -> None:
    with engine.connect() as conn:
        found = _review_id(conn, parent_id(conn, MEETINGS, ref), review_id)
    remove(engine, REVIEW_WRITES, str(found), if_match, principal=key)


# --- citations ------------------------------------------------------------------------------------


@router.get(
    "/meetings/{ref}/documents/{document_ref}",
    responses=READ,
    summary="Read one document as a meeting cites it",
    tags=["meetings"],
)
def read_meeting_document(
    ref: RecordRef, document_ref: DocumentRef, session: SessionDep, response: Response
) -> CitationPublic:
    meeting_id = parent_id(session, MEETINGS, ref)
    citation: CitationPublic = load_citation(
        session.connection(), meeting_id, parent_id(session, DOCUMENTS, document_ref)
    )
    set_record_etag(response, citation)
    return citation


@router.post(
    "/meetings/{ref}/documents",
    status_code=201,
    response_model=CitationPublic,
    responses={201: docs.CREATED, **docs.CITATION_CREATE_PROBLEMS},
    summary="Cite a document from a meeting",
    tags=["meetings"],
    openapi_extra=docs.body_example(docs.CITATION_CREATE),
)
def create_meeting_document(
    ref: RecordRef,
    body: CitationCreate,
    engine: EngineDep,
    key: WriterDep,
    response: Response,
    idem: IdempotencyKey = None,
) -> Any:
    meeting_id = _parent(engine, MEETINGS, ref)
    written = cite(
        engine, meeting_id, body.document_id, body.source_quote, principal=key, idempotency_key=idem
    )
    return _created(written, response)


@router.delete(
    "/meetings/{ref}/documents/{document_ref}",
    status_code=204,
    response_class=Response,
    responses=DELETED,
    summary="Withdraw a meeting's citation of a document",
    tags=["meetings"],
)
def delete_meeting_document(
    ref: RecordRef, document_ref: DocumentRef, engine: EngineDep, key: WriterDep, if_match: IfMatch = None
) -> None:
    """The document itself stays; once no meeting cites it, DELETE /documents/{ref} can delete it."""
    with engine.connect() as conn:
        meeting_id = parent_id(conn, MEETINGS, ref)
        document_id = parent_id(conn, DOCUMENTS, document_ref)
    uncite(engine, meeting_id, document_id, if_match, principal=key)
