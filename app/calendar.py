"""Meeting dates and directive deadlines as iCalendar (RFC 5545), streamed.

One VEVENT per meeting (at `starts_at` in the meeting's time zone when the source
gives a time, else an all-day event on its date) and one VTODO per directive with
a due date (DUE on that day, STATUS from the directive's status). UIDs are built
from slugs, so a calendar client that subscribes sees the same items update in
place: `meeting-<slug>@<host>`, `directive-<slug>@<host>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from sqlalchemy import ColumnElement, Engine, RowMapping, select

from app.export import batches, directive_t, meeting_t, snapshot

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
PRODID = "-//meeting-records//Meeting records API//EN"

# Directive status -> VTODO STATUS (RFC 5545 3.8.1.11).
TODO_STATUS = {
    "open": "NEEDS-ACTION",
    "in_progress": "IN-PROCESS",
    "done": "COMPLETED",
    "cancelled": "CANCELLED",
}


@dataclass(frozen=True)
class CalendarFilter:
    meeting_id: int | None = None
    date_from: dt.date | None = None  # meetings on or after; deadlines on or after
    date_to: dt.date | None = None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def _vtimezone(name: str) -> bytes:
    tz = icalendar.Timezone.from_tzid(name, first_date=dt.date(1970, 1, 1), last_date=dt.date(2050, 1, 1))
    ical: bytes = tz.to_ical()
    return ical


def _text(value: str, limit: int = 240) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def meeting_event(row: RowMapping, host: str, base_url: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"meeting-{row['slug']}@{host}")
    event.add("dtstamp", row["updated_at"].astimezone(dt.UTC))
    if row["starts_at"] is not None:
        event.add("dtstart", row["starts_at"].astimezone(_zone(row["timezone"])))
    else:
        event.add("dtstart", row["date"])
    event.add("summary", _text(row["title"]))
    event.add("description", f"{row['organizer']}\n{row['purpose']}")
    event.add("url", f"{base_url}/api/v1/meetings/{row['slug']}")
    if row["connection_points"]:
        event.add("location", "; ".join(row["connection_points"]))
    event.add("categories", [row["format"]])
    return event


def directive_todo(row: RowMapping, host: str, base_url: str) -> icalendar.Todo:
    todo = icalendar.Todo()
    todo.add("uid", f"directive-{row['slug']}@{host}")
    todo.add("dtstamp", row["updated_at"].astimezone(dt.UTC))
    todo.add("due", row["due_date"])
    todo.add("summary", _text(row["text"]))
    lines = [
        row["text"],
        *(["; ".join(row["addressees"])] if row["addressees"] else []),
        row["meeting_title"],
    ]
    todo.add("description", "\n".join(lines))
    todo.add("status", TODO_STATUS[str(row["status"])])
    if row["done_on"] is not None and row["status"] == "done":
        local = dt.datetime.combine(row["done_on"], dt.time(), _zone(DEFAULT_TZ))
        todo.add("completed", local.astimezone(dt.UTC))
    todo.add("url", f"{base_url}/api/v1/directives/{row['slug']}")
    todo.add("related-to", f"meeting-{row['meeting_slug']}@{host}")
    return todo


def _meeting_where(f: CalendarFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.meeting_id is not None:
        where.append(meeting_t.c.id == f.meeting_id)
    if f.date_from is not None:
        where.append(meeting_t.c.date >= f.date_from)
    if f.date_to is not None:
        where.append(meeting_t.c.date <= f.date_to)
    return where


def _directive_where(f: CalendarFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [directive_t.c.due_date.is_not(None)]
    if f.meeting_id is not None:
        where.append(directive_t.c.meeting_id == f.meeting_id)
    if f.date_from is not None:
        where.append(directive_t.c.due_date >= f.date_from)
    if f.date_to is not None:
        where.append(directive_t.c.due_date <= f.date_to)
    return where


def calendar_chunks(engine: Engine, f: CalendarFilter, host: str, base_url: str) -> Iterator[bytes]:
    """The calendar, a batch of components at a time (CRLF line ends, folded lines)."""
    base_url = base_url.rstrip("/")
    header = icalendar.Calendar()
    header.add("prodid", PRODID)
    header.add("version", "2.0")
    header.add("calscale", "GREGORIAN")
    header.add("x-wr-calname", "Meeting records")
    header.add("x-wr-timezone", DEFAULT_TZ)
    # The calendar's own lines without its END line: components follow as they are read.
    yield header.to_ical().removesuffix(b"END:VCALENDAR\r\n")
    zones = {DEFAULT_TZ}
    yield _vtimezone(DEFAULT_TZ)
    meetings = select(*meeting_t.c).where(*_meeting_where(f))
    directives = (
        select(
            *directive_t.c,
            meeting_t.c.slug.label("meeting_slug"),
            meeting_t.c.title.label("meeting_title"),
        )
        .join(meeting_t, meeting_t.c.id == directive_t.c.meeting_id)
        .where(*_directive_where(f))
    )
    with snapshot(engine) as conn:
        for rows in batches(conn, meetings, meeting_t.c.id):
            out: list[bytes] = []
            for row in rows:
                zone = _zone(row["timezone"]).key
                if row["starts_at"] is not None and zone not in zones:
                    zones.add(zone)
                    out.append(_vtimezone(zone))
                out.append(meeting_event(row, host, base_url).to_ical())
            yield b"".join(out)
        for rows in batches(conn, directives, directive_t.c.id):
            yield b"".join(directive_todo(row, host, base_url).to_ical() for row in rows)
    yield b"END:VCALENDAR\r\n"


def example_calendar() -> str:
    """A small calendar for the OpenAPI document (the seed meeting, no deadlines)."""
    from app.models.examples import MEETING

    row: dict[str, Any] = {
        **MEETING,
        "date": dt.date.fromisoformat(MEETING["date"]),
        "updated_at": dt.datetime.fromisoformat(MEETING["updated_at"]),
    }
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add_component(meeting_event(row, "127.0.0.1", "http://127.0.0.1:8000"))  # type: ignore[arg-type]
    text: str = cal.to_ical().decode()
    return text
