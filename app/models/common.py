"""Shapes shared by every resource: the list envelope and the problem body."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.models.types import OffsetDateTime

T = TypeVar("T")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Timestamps(SQLModel):
    created_at: dt.datetime = SQLField(default_factory=utcnow, sa_type=OffsetDateTime)
    # Indexed for `updated_since` (UTC ISO 8601 text of one width: text order is time order).
    updated_at: dt.datetime = SQLField(default_factory=utcnow, sa_type=OffsetDateTime, index=True)


def _page_example(schema: dict[str, Any], cls: type[Any]) -> None:
    """Page[X]'s example: a page holding X's example."""
    args = getattr(cls, "__pydantic_generic_metadata__", {}).get("args", ())
    config = getattr(args[0], "model_config", {}) if args else {}
    extra = config.get("json_schema_extra")
    if isinstance(extra, dict) and isinstance(extra.get("examples"), list) and extra["examples"]:
        schema["examples"] = [{"items": [extra["examples"][0]], "total": 1, "next_cursor": None}]


class Page(BaseModel, Generic[T]):
    """One page of a collection. Follow `next_cursor` (or the Link header) for the next."""

    model_config = ConfigDict(json_schema_extra=_page_example)

    items: list[T]
    total: int = Field(description="Number of records matching the filters, on all pages.")
    next_cursor: str | None = Field(description="Opaque cursor for the next page; null on the last page.")


class InvalidParam(BaseModel):
    name: str = Field(description="Dotted location of the field, e.g. query.limit.")
    reason: str
    type: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem detail (media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No meeting with id or slug '999'."])
    instance: str | None = Field(default=None, examples=["/api/v1/meetings/999"])
    invalid_params: list[InvalidParam] | None = Field(
        default=None, description="For 422: each invalid field and why."
    )


def problem_example(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
