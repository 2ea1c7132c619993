"""Filters shared by the records that belong to a meeting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Table, select

from app.resources import citation_t, meeting_t


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def meeting_filters(
    table: Table,
    meeting_id: int | None,
    document_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> list[ColumnElement[Any]]:
    where: list[ColumnElement[Any]] = []
    if meeting_id is not None:
        where.append(table.c.meeting_id == meeting_id)
    if document_id is not None:
        where.append(
            table.c.meeting_id.in_(
                select(citation_t.c.meeting_id).where(citation_t.c.document_id == document_id)
            )
        )
    if date_from is not None or date_to is not None:
        meetings = select(meeting_t.c.id)
        if date_from is not None:
            meetings = meetings.where(meeting_t.c.date >= date_from)
        if date_to is not None:
            meetings = meetings.where(meeting_t.c.date <= date_to)
        where.append(table.c.meeting_id.in_(meetings))
    return where
