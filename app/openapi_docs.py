"""Error responses as they appear in the OpenAPI document."""

from __future__ import annotations

from typing import Any

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
