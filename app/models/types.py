"""Column types and constrained field types shared by the models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field
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


def _clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return nfc(value)


# Text as the API takes it: normalised to NFC, no NUL, bounded.
ShortStr = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_clean_text)]
LongStr = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_clean_text)]
