"""The first response to each (API key, Idempotency-Key) pair, replayed on retries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.common import utcnow
from app.models.types import OffsetDateTime


class IdempotentRequest(SQLModel, table=True):
    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="api_key.id", ondelete="CASCADE")
    key: str = Field(max_length=200)
    request_sha256: str = Field(max_length=64, description="Hash of method, path and request body.")
    status: int
    location: str | None = Field(default=None, max_length=2000)
    etag: str | None = Field(default=None, max_length=100)
    body: str = Field(description="The response body, as first sent.")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=OffsetDateTime)
