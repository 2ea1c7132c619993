"""API keys: who may write. Only a hash of each key's secret is stored."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.models.common import utcnow
from app.models.types import OffsetDateTime, enum_string


class Scope(StrEnum):
    read = "read"
    write = "write"
    admin = "admin"


SCOPE_RANK = {Scope.read: 0, Scope.write: 1, Scope.admin: 2}


class ApiKey(SQLModel, table=True):
    """A key is `mr_<prefix>_<secret>`: the prefix finds the row, the secret's sha256 proves it."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    scope: Scope = Field(max_length=10, sa_type=enum_string(Scope))
    prefix: str = Field(max_length=32, unique=True, index=True)
    secret_sha256: str = Field(max_length=64, description="Hex sha256 of the secret part of the key.")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=OffsetDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=OffsetDateTime)
