"""The seed file format: pydantic models, exported as data/seed.schema.json.

One seed file holds people and documents (shared between meetings) and any
number of meetings, each with its participants, directives, shortcomings,
findings and the documents it cites. Records refer to each other by slug, so a
file is readable and can be merged into an existing database by stable ids.
Cross-references are checked by :func:`validate_references`, which reports
every problem with its JSON path.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from app.text import nfc

SCHEMA_VERSION = 1

# Lowercase words joined by single hyphens, with at least one letter somewhere:
# an all-digit reference is an integer id (in paths and in the seed alike).
SLUG_PATTERN = r"^(?:[a-z0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"

Slug = Annotated[
    str,
    Field(
        pattern=SLUG_PATTERN,
        min_length=1,
        max_length=120,
        description="Lowercase words of letters and digits joined by hyphens, with at least one letter.",
    ),
]


def _nfc_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    if value != nfc(value):
        raise ValueError("text must be in Unicode NFC")
    if value != value.strip():
        raise ValueError("text must not start or end with white space")
    return value


Text = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(_nfc_text)]
ShortText = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_nfc_text)]


class ParticipantRole(StrEnum):
    chair = "chair"
    attendee = "attendee"
    speaker = "speaker"
    rapporteur = "rapporteur"


class DirectiveStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class DocumentKind(StrEnum):
    resolution = "resolution"
    action_programme = "action_programme"
    plan = "plan"
    decision = "decision"
    directive = "directive"
    project = "project"
    other = "other"


class MeetingFormat(StrEnum):
    in_person = "in_person"
    online = "online"
    hybrid = "hybrid"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSeed(_Strict):
    publisher: ShortText
    title: Text
    published_at: dt.datetime = Field(description="ISO 8601 with the local offset (+07:00).")
    author: ShortText | None = None
    photographer: ShortText | None = None
    url: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_nfc_text)] | None = None
    file: ShortText | None = Field(
        default=None, description="Name of the stored copy of the report, under shared/source/."
    )


class PersonSeed(_Strict):
    slug: Slug
    full_name: ShortText


class DocumentSeed(_Strict):
    slug: Slug
    kind: DocumentKind
    number: ShortText | None = None
    title: Text
    issuer: ShortText | None = None
    issued_on: dt.date | None = None


class ParticipantSeed(_Strict):
    slug: Slug
    person: Slug = Field(description="Slug of a person in `people`.")
    title: ShortText = Field(description="Office held at the time of the meeting.")
    organization: ShortText | None = None
    role: ParticipantRole
    source_quote: Text


class DirectiveSeed(_Strict):
    slug: Slug
    issued_by: Slug = Field(description="Slug of a participant of the same meeting.")
    text: Text = Field(description="What the directive asks.")
    addressees: list[ShortText] = Field(
        default_factory=list, description="Who must act, as the source names them."
    )
    status: DirectiveStatus = DirectiveStatus.open
    due_date: dt.date | None = None
    done_on: dt.date | None = Field(
        default=None, description="Day the directive was marked done (exports carry it)."
    )
    source_quote: Text


class ShortcomingSeed(_Strict):
    slug: Slug
    text: Text
    concerns: list[ShortText] = Field(default_factory=list)
    source_quote: Text


class FindingSeed(_Strict):
    slug: Slug
    text: Text
    source_quote: Text


class CitationSeed(_Strict):
    document: Slug = Field(description="Slug of a document in `documents`.")
    source_quote: Text


class MeetingSeed(_Strict):
    slug: Slug
    title: Text
    date: dt.date
    starts_at: dt.datetime | None = Field(
        default=None, description="Start time with its offset, when the source gives one."
    )
    timezone: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_nfc_text)] = (
        "Asia/Ho_Chi_Minh"
    )
    organizer: ShortText
    format: MeetingFormat
    connection_points: list[ShortText] = Field(default_factory=list)
    purpose: Text
    summary: Text
    source: SourceSeed
    participants: list[ParticipantSeed] = Field(default_factory=list)
    directives: list[DirectiveSeed] = Field(default_factory=list)
    shortcomings: list[ShortcomingSeed] = Field(default_factory=list)
    findings: list[FindingSeed] = Field(default_factory=list)
    documents: list[CitationSeed] = Field(default_factory=list)


class SeedFile(_Strict):
    schema_version: int = Field(SCHEMA_VERSION, ge=SCHEMA_VERSION, le=SCHEMA_VERSION)
    people: list[PersonSeed] = Field(default_factory=list)
    documents: list[DocumentSeed] = Field(default_factory=list)
    meetings: list[MeetingSeed] = Field(default_factory=list)


class SeedError(Exception):
    """A seed file that cannot be loaded; `problems` are 'path: message' lines."""

    def __init__(self, file: str | Path, problems: list[str]) -> None:
        self.file = str(file)
        self.problems = problems
        super().__init__(f"{self.file}: " + "; ".join(problems))

    def report(self) -> str:
        return "\n".join(f"{self.file}: {p}" for p in self.problems)


def _json_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def _unique(items: list[Any], where: str, problems: list[str]) -> set[str]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.slug in seen:
            problems.append(f"{where}[{i}].slug: duplicate slug '{item.slug}'")
        seen.add(item.slug)
    return seen


def validate_references(seed: SeedFile) -> list[str]:
    """Every cross-reference resolves and every slug is unique where it must be."""
    problems: list[str] = []
    people = _unique(seed.people, "people", problems)
    documents = _unique(seed.documents, "documents", problems)
    _unique(seed.meetings, "meetings", problems)
    kinds = ("participants", "directives", "shortcomings", "findings")
    global_slugs: dict[str, set[str]] = {k: set() for k in kinds}
    for m_i, meeting in enumerate(seed.meetings):
        base = f"meetings[{m_i}]"
        for kind in kinds:
            for i, item in enumerate(getattr(meeting, kind)):
                if item.slug in global_slugs[kind]:
                    problems.append(f"{base}.{kind}[{i}].slug: duplicate slug '{item.slug}'")
                global_slugs[kind].add(item.slug)
        participants = {p.slug for p in meeting.participants}
        persons_here: set[str] = set()
        for i, p in enumerate(meeting.participants):
            if p.person not in people:
                problems.append(f"{base}.participants[{i}].person: unknown person '{p.person}'")
            if p.person in persons_here:
                problems.append(f"{base}.participants[{i}].person: '{p.person}' is listed twice")
            persons_here.add(p.person)
        for i, d in enumerate(meeting.directives):
            if d.issued_by not in participants:
                problems.append(f"{base}.directives[{i}].issued_by: unknown participant '{d.issued_by}'")
        cited: set[str] = set()
        for i, c in enumerate(meeting.documents):
            if c.document not in documents:
                problems.append(f"{base}.documents[{i}].document: unknown document '{c.document}'")
            if c.document in cited:
                problems.append(f"{base}.documents[{i}].document: '{c.document}' is cited twice")
            cited.add(c.document)
        if meeting.starts_at is not None and meeting.starts_at.tzinfo is None:
            problems.append(f"{base}.starts_at: a time needs its UTC offset")
        if meeting.source.published_at.tzinfo is None:
            problems.append(f"{base}.source.published_at: a time needs its UTC offset")
    return problems


def parse_seed(raw: bytes | str, file: str | Path = "<seed>") -> SeedFile:
    """Parse and fully validate a seed document, or raise SeedError naming each problem."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SeedError(file, [f"$: not valid JSON ({exc})"]) from None
    try:
        seed = SeedFile.model_validate(data)
    except ValidationError as exc:
        raise SeedError(file, [f"{_json_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]) from None
    problems = validate_references(seed)
    if problems:
        raise SeedError(file, problems)
    return seed


def read_seed(path: str | Path) -> SeedFile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SeedError(path, [f"$: cannot read file ({exc.strerror})"]) from None
    return parse_seed(raw, path)


def json_schema() -> dict[str, Any]:
    schema = SeedFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Meeting-records seed file"
    return schema
