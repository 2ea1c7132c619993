"""Error responses as they appear in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import routing
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from app.models.common import problem_example
from app.models.examples import (
    ASSIGNEE,
    CITATION,
    DIRECTIVE,
    DOCUMENT,
    FINDING,
    MEETING,
    PARTICIPANT,
    PERSON,
    REVIEW,
    SHORTCOMING,
)
from app.streams import csv_text


def _phrase(status: int) -> str:
    """The title the API answers with (Python's phrase, which newer versions renamed)."""
    return HTTPStatus(status).phrase


_WWW_AUTHENTICATE = {
    "description": "The Bearer challenge (RFC 6750).",
    "required": True,
    "schema": {"type": "string", "examples": ['Bearer realm="meeting-records", error="invalid_token"']},
}
# Headers that come with a problem response.
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": _WWW_AUTHENTICATE},
    403: {"WWW-Authenticate": _WWW_AUTHENTICATE},
    429: {
        "Retry-After": {
            "description": "Seconds to wait before authenticating again.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$", "examples": ["60"]},
        }
    },
}
_MEETING_PATH = f"/api/v1/meetings/{MEETING['id']}"

_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    404: (
        "Not found",
        problem_example(
            404, "Not Found", "No meeting with id or slug '999'.", instance="/api/v1/meetings/999"
        ),
    ),
    422: (
        "Invalid parameters",
        problem_example(
            422,
            "Unprocessable Entity",
            "Invalid request: query.limit",
            instance="/api/v1/meetings",
            invalid_params=[
                {
                    "name": "query.limit",
                    "reason": "Input should be less than or equal to 100",
                    "type": "less_than_equal",
                }
            ],
        ),
    ),
    400: (
        "The body cannot be read: not UTF-8, or a Content-Length that is not a number",
        problem_example(
            400, "Bad Request", "There was an error parsing the body", instance="/api/v1/meetings"
        ),
    ),
    401: (
        "No API key, or a bad or revoked one",
        problem_example(
            401,
            "Unauthorized",
            "This request needs an API key: send `Authorization: Bearer <key>`.",
            instance="/api/v1/meetings",
        ),
    ),
    403: (
        "The API key's scope does not allow writes",
        problem_example(
            403,
            "Forbidden",
            "This API key has scope 'read'; 'write' is needed.",
            instance="/api/v1/meetings",
        ),
    ),
    409: (
        "Conflicts with other records",
        problem_example(
            409,
            "Conflict",
            f"A meeting with slug {MEETING['slug']!r} already exists.",
            instance="/api/v1/meetings",
        ),
    ),
    412: (
        "If-Match does not match the record's current ETag",
        problem_example(
            412,
            "Precondition Failed",
            "The meeting has changed since that ETag was issued; GET it again and retry.",
            instance=_MEETING_PATH,
            current_etag='"8f14e45fceea167a5a36dedd4bea2543"',
        ),
    ),
    413: (
        "Request body too large",
        problem_example(
            413,
            _phrase(413),
            "The request body is larger than the 1048576 bytes this API accepts.",
            instance="/api/v1/meetings",
        ),
    ),
    428: (
        "If-Match is missing",
        problem_example(
            428,
            "Precondition Required",
            "This request must carry If-Match with the record's current ETag (from GET).",
            instance=_MEETING_PATH,
        ),
    ),
    429: (
        "Too many failed authentications from this address (see Retry-After)",
        problem_example(
            429,
            "Too Many Requests",
            "Too many failed authentications from this address; retry in 60 s.",
            instance="/api/v1/meetings",
            retry_after=60,
        ),
    ),
    406: (
        "The Accept header allows none of application/json, text/csv, application/x-ndjson",
        problem_example(
            406,
            "Not Acceptable",
            "This collection is served as application/json, text/csv or application/x-ndjson; "
            "the Accept header allows none of them: 'text/html'.",
            instance="/api/v1/meetings",
        ),
    ),
    503: (
        "Database unavailable",
        problem_example(503, "Service Unavailable", "The database does not answer."),
    ),
}


# A write's 422 names the body field at fault.
WRITE_422 = problem_example(
    422,
    _phrase(422),
    "Invalid request: body.slug",
    instance="/api/v1/meetings",
    invalid_params=[
        {
            "name": "body.slug",
            "reason": "String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$'",
            "type": "string_pattern_mismatch",
        }
    ],
)


def problems(
    *codes: int,
    descriptions: Mapping[int, str] | None = None,
    examples: Mapping[int, dict[str, Any]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """Problem responses for `responses=`: problem+json with an example each.

    `descriptions` and `examples` replace the defaults for some codes (what a 409
    means differs between a create and a delete).
    """
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description, example = _EXAMPLES[code]
        response: dict[str, Any] = {
            "description": (descriptions or {}).get(code, description),
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": (examples or {}).get(code, example),
                }
            },
        }
        if code in _HEADERS:
            response["headers"] = _HEADERS[code]
        out[code] = response
    return out


READ = problems(404, 422)
LIST = problems(422)


def list_responses(resource: Any, *codes: int) -> dict[int | str, dict[str, Any]]:
    """A collection route's responses: the JSON page, the CSV and NDJSON downloads of the
    whole collection (app/streams.py) with the resource's example record, and the problems."""
    example = resource.public.model_config["json_schema_extra"]["examples"][0]
    record = resource.public.model_validate(example)
    fields = list(resource.public.model_fields)
    dumped = record.model_dump(mode="json")
    csv_example = "".join(csv_text(fields, [[[dumped[f] for f in fields]]]))
    disposition = {
        "Content-Disposition": {
            "description": "With format=csv or ndjson: `attachment` and a file name.",
            "required": False,
            "schema": {"type": "string", "examples": [f'attachment; filename="{resource.path[1:]}.csv"']},
        }
    }
    return {
        200: {
            "description": "One page of the collection (JSON); or, with `format=csv|ndjson` or such an "
            "Accept header, the whole filtered collection as CSV or NDJSON, streamed.",
            "headers": disposition,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": csv_example},
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "example": record.model_dump_json() + "\n",
                },
            },
        },
        **problems(*sorted({*codes, 406, 422})),
    }


# --- writes ---------------------------------------------------------------------------------------

_ETAG = {
    "description": "The record's ETag: send it in If-Match to change or delete it.",
    "required": True,
    "schema": {"type": "string", "examples": ['"8f14e45fceea167a5a36dedd4bea2543"']},
}
CREATED: dict[str, Any] = {
    "description": "Created: the new record.",
    "headers": {
        "Location": {
            "description": "The new record's URL.",
            "required": True,
            "schema": {"type": "string", "examples": ["/api/v1/meetings/42"]},
        },
        "ETag": _ETAG,
        "Idempotent-Replayed": {
            "description": "`true` when this is the stored response to an earlier request "
            "with the same Idempotency-Key.",
            "required": False,
            "schema": {"type": "string", "enum": ["true"]},
        },
    },
}
CHANGED: dict[str, Any] = {"description": "The record as changed.", "headers": {"ETag": _ETAG}}
DELETED: dict[str, Any] = {"description": "Deleted."}

_AUTH = (400, 401, 403, 413, 422, 429)
_WRITE_EXAMPLES = {422: WRITE_422}
CREATE = problems(
    *_AUTH, 409, descriptions={409: "A record with this slug already exists"}, examples=_WRITE_EXAMPLES
)
PATCH = problems(*_AUTH, 404, 409, 412, 428, examples=_WRITE_EXAMPLES)
DELETE = problems(
    *_AUTH,
    404,
    409,
    412,
    428,
    descriptions={409: "Still referenced by other records"},
    examples=_WRITE_EXAMPLES,
)

PARTICIPANT_CREATE_PROBLEMS = problems(
    *_AUTH,
    409,
    descriptions={
        409: "A record with this slug already exists, or the person already takes part in the meeting"
    },
    examples=_WRITE_EXAMPLES,
)
PARTICIPANT_DELETE_PROBLEMS = problems(
    *_AUTH,
    404,
    409,
    412,
    428,
    descriptions={409: "The participant issued directives: delete those first"},
    examples=_WRITE_EXAMPLES,
)
DOCUMENT_DELETE_PROBLEMS = problems(
    *_AUTH,
    404,
    409,
    412,
    428,
    descriptions={409: "Meetings cite the document"},
    examples=_WRITE_EXAMPLES,
)


def _without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    """A seed record as a request body: no server-owned fields, no nulls (absent means null)."""
    dropped = {"id", "created_at", "updated_at", *names}
    return {k: v for k, v in record.items() if k not in dropped and v is not None}


# Request bodies from the seed. A create's slug is new (the seed's are taken), so
# the example creates a record; a change applies to the seed record of the examples.
MEETING_CREATE = {**_without(MEETING), "slug": f"{MEETING['slug']}-2"}
MEETING_UPDATE = {"format": "hybrid", "connection_points": MEETING["connection_points"]}
PERSON_CREATE = {**_without(PERSON), "slug": f"{PERSON['slug']}-2"}
PERSON_UPDATE = {"full_name": PERSON["full_name"]}
DIRECTIVE_CREATE = {
    **_without(DIRECTIVE, "issued_by_person_id", "issued_by_name", "done_on", "progress", "assignees"),
    "slug": f"{DIRECTIVE['slug']}-2",
}
DIRECTIVE_UPDATE = {
    "status": "in_progress",
    "addressees": DIRECTIVE["addressees"],
}
# A person takes part in a meeting once, and every person of the seed is in its one
# meeting: the example puts the seed's person into the meeting MEETING_CREATE creates
# (the next id after the seed's).
PARTICIPANT_CREATE = {
    **_without(PARTICIPANT, "person_name"),
    "slug": f"{PARTICIPANT['slug']}-2",
    "meeting_id": MEETING["id"] + 1,
}
PARTICIPANT_UPDATE = {"role": "attendee", "title": PARTICIPANT["title"]}
SHORTCOMING_CREATE = {**_without(SHORTCOMING, "addressed_by"), "slug": f"{SHORTCOMING['slug']}-2"}
SHORTCOMING_UPDATE = {"concerns": SHORTCOMING["concerns"]}
FINDING_CREATE = {**_without(FINDING), "slug": f"{FINDING['slug']}-2"}
FINDING_UPDATE = {"text": FINDING["text"]}
DOCUMENT_CREATE = {**_without(DOCUMENT), "slug": f"{DOCUMENT['slug']}-2"}
DOCUMENT_UPDATE = {"kind": DOCUMENT["kind"], "number": DOCUMENT["number"]}


# Links between records (app/routers/links.py). Under a parent path, a create can also
# answer 404 (no such parent); a write to one link, 404/412/428 like any record write.
NESTED_CREATE = problems(
    *_AUTH,
    404,
    409,
    descriptions={404: "No such parent record", 409: "Conflicts with existing records"},
    examples=_WRITE_EXAMPLES,
)
CITATION_CREATE_PROBLEMS = problems(
    *_AUTH,
    404,
    409,
    descriptions={404: "No such meeting", 409: "The meeting already cites the document"},
    examples=_WRITE_EXAMPLES,
)
ASSIGNEE_CREATE = {
    k: v for k, v in _without(ASSIGNEE, "directive_id", "person_name").items() if k != "slug"
} | {"slug": f"{ASSIGNEE['slug']}-2"}
ASSIGNEE_UPDATE = {"role": "monitoring"}
# A later meeting (id 2) reviews a directive of the seed.
REVIEW_CREATE = _without(REVIEW, "meeting_id")
# Another meeting (id 2, as MEETING_CREATE makes) cites a document of the seed.
CITATION_CREATE = {"document_id": CITATION["id"], "source_quote": CITATION["source_quote"]}


def body_example(example: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` of a write: the request body's example (merged into FastAPI's)."""
    return {"requestBody": {"content": {"application/json": {"example": example}}}}


def restore_examples(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Put the models' examples back into the document as they are, nulls included.

    FastAPI writes the document with exclude_none, which also strips every null
    from the examples: a page's `next_cursor: null` (a required property) or a
    meeting's `starts_at: null`, leaving examples that do not match their schemas.
    """
    models = {
        route.original_route.response_model
        for route in routing.iter_route_contexts(routes)
        if isinstance(route.original_route, routing.APIRoute) and route.original_route.include_in_schema
    }
    pairs = [(m, "serialization") for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
    _, generated = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    components = schema.get("components", {}).get("schemas", {})
    for name, definition in generated.get("$defs", {}).items():
        target = components.get(name)
        if "examples" in definition and target is not None and target.get("title") == definition.get("title"):
            target["examples"] = definition["examples"]


def require_if_match(schema: dict[str, Any]) -> None:
    """Document If-Match as required on every operation that takes it.

    The contract is that a change or delete must carry the record's ETag. The
    route itself takes the header as optional so that its absence is answered
    with 428 Precondition Required (RFC 6585), which the operation documents,
    rather than with the generic 422 of a missing parameter.
    """
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == "If-Match":
                    parameter["required"] = True
                    schema_ = parameter["schema"]
                    kinds = [kind for kind in schema_.pop("anyOf", []) if kind.get("type") != "null"]
                    if kinds:
                        schema_.update(kinds[0])
