"""Error responses as they appear in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import routing
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from app.models.common import problem_example

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
    503: (
        "Database unavailable",
        problem_example(503, "Service Unavailable", "The database does not answer."),
    ),
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description, example = _EXAMPLES[code]
        out[code] = {
            "description": description,
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": example,
                }
            },
        }
    return out


READ = problems(404, 422)
LIST = problems(422)


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
