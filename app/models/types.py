"""Column types and constrained field types shared by the models."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import Enum as SAEnum
from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect

from app.text import nfc


class OffsetDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime kept with its own UTC offset (ISO 8601 text).

    SQLite has no time zone type, and a local time such as a meeting's start
    must come back with the offset it was given (+07:00), not converted.
    """

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetime needs a UTC offset")
        return value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromisoformat(value)


def enum_string(enum: type[Enum]) -> SAEnum:
    """An enum column kept as plain VARCHAR on every back end, holding the members' values.

    Not a native PostgreSQL ENUM, so it sorts alphabetically and compares with
    text as on SQLite. No CHECK constraint: the API models validate the values.
    Rows come back as members of `enum`. The width is that of the longest value
    (what these columns have had on SQLite from the start): a new, longer member
    needs a migration, which `alembic check` points out.
    """
    return SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        values_callable=lambda members: [m.value for m in members],
    )


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return nfc(value)


# Text as the API takes it: normalised to NFC, no NUL, bounded.
NO_NUL = r"^[^\x00]*$"
ShortStr = Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL), AfterValidator(_clean_text)]
LongStr = Annotated[str, Field(min_length=1, max_length=20_000, pattern=NO_NUL), AfterValidator(_clean_text)]
