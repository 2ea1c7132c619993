from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from app.models import examples
from app.models.common import Timestamps
from app.models.types import ShortStr


class PersonBase(SQLModel):
    slug: str = Field(max_length=120, unique=True, description="Stable human-readable id.")
    full_name: str = Field(max_length=500)


class Person(PersonBase, Timestamps, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name_folded: str = Field(max_length=500, index=True)


class PersonCreate(SQLModel):
    slug: ShortStr
    full_name: ShortStr


class PersonUpdate(SQLModel):
    full_name: ShortStr | None = None


class PersonPublic(PersonBase):
    model_config = examples.config(examples.PERSON)

    id: int
    created_at: dt.datetime
    updated_at: dt.datetime
