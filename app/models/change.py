"""The change feed: one row per create, update and delete of a record, in commit order."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Page
from app.models.types import OffsetDateTime, enum_string


class ChangeAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


class Change(SQLModel, table=True):
    """An entry of the change feed (and the audit log), written in the write's own transaction."""

    __tablename__ = "change"
    __table_args__ = (Index("ix_change_collection_seq", "collection", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    collection: str = Field(max_length=40)
    record_id: int | None = Field(default=None)
    record_slug: str | None = Field(default=None, max_length=250)
    action: ChangeAction = Field(max_length=6, sa_type=enum_string(ChangeAction))
    actor: str = Field(max_length=250)
    at: dt.datetime = Field(sa_type=OffsetDateTime)
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ChangePublic(SQLModel):
    model_config = examples.config(examples.CHANGE)

    seq: int = Field(description="Position in the feed: strictly increasing in commit order, with gaps.")
    collection: str = Field(
        description="The collection of the record (`meetings`, `people`, `participants`, `directives`, "
        "`shortcomings`, `findings`, `documents`, `assignees` (a directive's), `reviews` (a meeting's)), "
        "or `citations` for a meeting citing a document."
    )
    record_id: int | None = Field(description="The record's id (null for a citation, which has none).")
    record_slug: str | None = Field(
        description="The record's slug (null for a review, which has none); for a citation "
        "`<meeting slug>/<document slug>`."
    )
    action: ChangeAction
    actor: str = Field(description="Name of the API key that made the change, or `seed:<file>` for a load.")
    at: dt.datetime = Field(description="When the change was made (UTC).")
    data: dict[str, Any] | None = Field(
        description="The record as the API answered it after the change; null for a delete (the tombstone)."
    )


class ChangePage(Page[ChangePublic]):
    """A page of the change feed, oldest first."""

    model_config = examples.config(examples.CHANGE_PAGE)

    last_seq: int = Field(
        description="The seq of the last entry on this page (or `since` when the page is empty): "
        "ask again with `since=last_seq` to resume."
    )
