"""The seed file format: pydantic models, exported as data/seed.schema.json.

One seed file holds people and documents (shared between meetings) and any
number of meetings, each with its participants, directives, shortcomings,
findings and the documents it cites. Records refer to each other by slug, so a
file is readable and can be merged into an existing database by stable ids.
Cross-references are checked by :func:`validate_references`, which reports
every problem with its JSON path.
"""

from __future__ import annotations

import codecs
import datetime as dt
import itertools
import json
import re
import unicodedata
from array import array
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO, TypeVar, cast

import ijson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

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
    if not unicodedata.is_normalized("NFC", value):  # value != nfc(value), without the copy
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


class AssigneeRole(StrEnum):
    """Who does what for a directive: chủ trì, phối hợp, theo dõi."""

    lead = "lead"
    coordinating = "coordinating"
    monitoring = "monitoring"


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


class AssigneeSeed(_Strict):
    """Who must act on the directive: `organization` (as the source names it) or `person`, not both."""

    slug: Slug | None = None
    role: AssigneeRole
    person: Slug | None = Field(default=None, description="Slug of a person in `people`.")
    organization: ShortText | None = None
    source_quote: Text | None = None

    @model_validator(mode="after")
    def _one_assignee(self) -> AssigneeSeed:
        if (self.person is None) == (self.organization is None):
            raise ValueError("give exactly one of person and organization")
        return self


class ReviewSeed(_Strict):
    """This meeting reviewing a directive issued at an earlier meeting."""

    directive: Slug = Field(description="Slug of a directive of an earlier meeting.")
    outcome: Text = Field(description="What this meeting found or decided about it.")
    source_quote: Text | None = None


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
    assignees: list[AssigneeSeed] = Field(default_factory=list)
    addresses: list[Slug] = Field(
        default_factory=list, description="Slugs of the shortcomings (of any meeting) this directive answers."
    )


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
    reviews: list[ReviewSeed] = Field(default_factory=list)


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


_KINDS = ("participants", "directives", "shortcomings", "findings")


class Hashes:
    """A set of 64-bit hashes, or (`values`: an array typecode) a map of them to ints, in flat
    arrays (open addressing, linear probing, a quarter to half full): 8 bytes a slot and its
    value's, 2 to 4 slots an entry, where a set of Python ints takes about 80 bytes an entry and
    a dict about 100. 0 is kept as 1 (one more pair of slugs taken for the same, as two with
    equal hashes are)."""

    _FIRST = 1 << 10

    def __init__(self, *, values: str | None = None) -> None:
        self.typecode = values
        self._new(self._FIRST)
        self.n = 0

    def _new(self, size: int) -> None:
        self.mask = size - 1
        self.keys = array("q", bytes(8 * size))
        self.values = array(self.typecode, [0]) * size if self.typecode else None

    def _find(self, key: int) -> int:
        """The slot of `key`, or of the empty slot where it would go."""
        keys, mask = self.keys, self.mask
        i = key & mask
        while True:
            k = keys[i]
            if k == key or k == 0:
                return i
            i = (i + 1) & mask

    def __contains__(self, key: int) -> bool:
        return self.keys[self._find(key or 1)] != 0

    def __len__(self) -> int:
        return self.n

    def add(self, key: int, value: int | None = None) -> None:
        key = key or 1
        i = self._find(key)
        if self.keys[i] == 0:
            self.keys[i] = key
            self.n += 1
        if self.values is not None and value is not None:
            self.values[i] = value
        if 2 * self.n > self.mask:
            self._grow()

    def get(self, key: int) -> int | None:
        """The value of `key` (a map), or None."""
        i = self._find(key or 1)
        if self.keys[i] == 0 or self.values is None:
            return None
        return self.values[i]

    def _grow(self) -> None:
        keys, values = self.keys, self.values
        self._new(2 * (self.mask + 1))
        for i, key in enumerate(keys):
            if key:
                j = self._find(key)
                self.keys[j] = key
                if values is not None and self.values is not None:
                    self.values[j] = values[i]


class References:
    """The cross-references of a seed file, checked meeting by meeting as it is read.

    People and documents first (:meth:`header`), then each meeting in file order
    (:meth:`meeting`), then :meth:`finish`. Links that may point forward in the file (a
    directive's `addresses` to a shortcoming of any meeting, a review to a directive of an
    earlier meeting by date) are checked at once when their target was already read, and
    otherwise when all meetings are in. Memory: the slugs of the meetings and of their
    records are kept as their 64-bit hashes (`hash()`) in flat arrays (Hashes), not as strings
    in sets, so that a file of a million directives needs tens of megabytes, not hundreds
    (300 MB in sets of ints); two different slugs with the
    same hash (odds about 1 in 10^12 for a million slugs) would be reported as a duplicate.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.people: set[str] = set()
        self.documents: set[str] = set()
        self._meetings = Hashes()
        self._slugs: dict[str, Hashes] = {k: Hashes() for k in _KINDS if k != "directives"}
        self._issued_on = Hashes(values="i")  # directive slug hash -> date of its meeting (ordinal)
        self._assignees: set[str | None] = set()
        self._addresses: list[tuple[str, str]] = []  # (path, shortcoming slug) not yet resolved
        self._reviews: list[tuple[str, str, dt.date]] = []  # (path, directive slug, meeting date)

    def header(self, people: list[PersonSeed], documents: list[DocumentSeed]) -> None:
        for i, person in enumerate(people):
            self.record("people", i, person.slug)
        for i, document in enumerate(documents):
            self.record("documents", i, document.slug)

    def record(self, kind: str, i: int, slug: str) -> bool:
        """A person or a document (`kind` "people" or "documents"); False if its slug is a duplicate."""
        seen = self.people if kind == "people" else self.documents
        if slug in seen:
            self.problems.append(f"{kind}[{i}].slug: duplicate slug '{slug}'")
            return False
        seen.add(slug)
        return True

    def meeting(self, m_i: int, meeting: MeetingSeed) -> None:
        problems = self.problems
        base = f"meetings[{m_i}]"
        key = hash(meeting.slug)
        if key in self._meetings:
            problems.append(f"{base}.slug: duplicate slug '{meeting.slug}'")
        self._meetings.add(key)
        for kind in _KINDS:
            seen = self._slugs.get(kind, self._issued_on)  # directives: the keys of _issued_on
            for i, item in enumerate(getattr(meeting, kind)):
                key = hash(item.slug)
                if key in seen:
                    problems.append(f"{base}.{kind}[{i}].slug: duplicate slug '{item.slug}'")
                if kind == "directives":
                    self._issued_on.add(key, meeting.date.toordinal())
                else:
                    self._slugs[kind].add(key)
        participants = {p.slug for p in meeting.participants}
        persons_here: set[str] = set()
        for i, p in enumerate(meeting.participants):
            if p.person not in self.people:
                problems.append(f"{base}.participants[{i}].person: unknown person '{p.person}'")
            if p.person in persons_here:
                problems.append(f"{base}.participants[{i}].person: '{p.person}' is listed twice")
            persons_here.add(p.person)
        shortcomings = self._slugs["shortcomings"]
        for i, d in enumerate(meeting.directives):
            if d.issued_by not in participants:
                problems.append(f"{base}.directives[{i}].issued_by: unknown participant '{d.issued_by}'")
            for j, a in enumerate(d.assignees):
                where = f"{base}.directives[{i}].assignees[{j}]"
                if a.person is not None and a.person not in self.people:
                    problems.append(f"{where}.person: unknown person '{a.person}'")
                if a.slug is not None and a.slug in self._assignees:
                    problems.append(f"{where}.slug: duplicate slug '{a.slug}'")
                if a.slug is not None:
                    self._assignees.add(a.slug)
            for j, s in enumerate(d.addresses):
                if hash(s) not in shortcomings:
                    self._addresses.append((f"{base}.directives[{i}].addresses[{j}]", s))
        for i, r in enumerate(meeting.reviews):
            self._review(f"{base}.reviews[{i}].directive", r.directive, meeting.date, defer=True)
        cited: set[str] = set()
        for i, c in enumerate(meeting.documents):
            if c.document not in self.documents:
                problems.append(f"{base}.documents[{i}].document: unknown document '{c.document}'")
            if c.document in cited:
                problems.append(f"{base}.documents[{i}].document: '{c.document}' is cited twice")
            cited.add(c.document)
        if meeting.starts_at is not None and meeting.starts_at.tzinfo is None:
            problems.append(f"{base}.starts_at: a time needs its UTC offset")
        if meeting.source.published_at.tzinfo is None:
            problems.append(f"{base}.source.published_at: a time needs its UTC offset")

    def _review(self, where: str, directive: str, date: dt.date, *, defer: bool) -> None:
        issued = self._issued_on.get(hash(directive))
        if issued is None:
            if defer:  # perhaps a directive of a meeting further on in the file
                self._reviews.append((where, directive, date))
            else:
                self.problems.append(f"{where}: unknown directive '{directive}'")
        elif issued >= date.toordinal():
            self.problems.append(f"{where}: '{directive}' was not issued before this meeting")

    def finish(self) -> list[str]:
        """The links to records further on in the file, now that every meeting is read."""
        shortcomings = self._slugs["shortcomings"]
        for where, s in self._addresses:
            if hash(s) not in shortcomings:
                self.problems.append(f"{where}: unknown shortcoming '{s}'")
        for where, directive, date in self._reviews:
            self._review(where, directive, date, defer=False)
        self._addresses, self._reviews = [], []
        return self.problems


def validate_references(seed: SeedFile) -> list[str]:
    """Every cross-reference resolves and every slug is unique where it must be."""
    refs = References()
    refs.header(seed.people, seed.documents)
    for m_i, meeting in enumerate(seed.meetings):
        refs.meeting(m_i, meeting)
    return refs.finish()


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


# --- streaming ------------------------------------------------------------------------------------

MAX_PROBLEMS = 1000  # a streamed read stops after this many problems
_M = TypeVar("_M", bound=BaseModel)


def _json_error(exc: Exception) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def _value(events: Iterator[tuple[str, str, Any]], key: str) -> Iterator[tuple[str, str, Any]]:
    """The parse events of the value of top-level `key` (its map_key just read), then stops."""
    first = next(events)
    yield first
    if first[1] not in ("start_map", "start_array"):
        return
    end = "end_map" if first[1] == "start_map" else "end_array"
    for event in events:  # nested values have longer prefixes: the first (key, end) closes it
        yield event
        if event[1] == end and event[0] == key:
            return


class SeedStream:
    """A seed file read incrementally (ijson), for files too large to hold in memory.

    :meth:`records` yields the file's records one at a time, validated, as (collection,
    record): every person ("people") and document ("documents") first, then every meeting
    ("meetings", a :class:`MeetingSeed`), checking the cross-references as it goes
    (:class:`References`). A record with a problem is not yielded; the problems (JSON paths
    and messages as :func:`read_seed` gives them) accumulate in `problems`, and
    :meth:`finish`, called after the records, raises SeedError if there are any. The reading
    stops at once after MAX_PROBLEMS.

    Exports and generated files put people and documents before the meetings, and are read
    in one pass. A file with its meetings before them is read twice: the people and
    documents in a first pass, then the meetings.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.refs = References()
        self._file: BinaryIO | None = None
        self._seen: set[str] = set()
        try:
            self.size = self.path.stat().st_size
            self.path.open("rb").close()
        except OSError as exc:
            raise SeedError(self.path, [f"$: cannot read file ({exc.strerror})"]) from None

    def _open(self) -> Iterator[tuple[str, str, Any]]:
        self.close()
        self._file = self.path.open("rb")
        return cast(Iterator[tuple[str, str, Any]], ijson.parse(self._file, use_float=True))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> SeedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def position(self) -> int:
        """Bytes read so far (for a progress bar over `size`)."""
        return self._file.tell() if self._file is not None else self.size

    @property
    def problems(self) -> list[str]:
        return self.refs.problems

    def _problem(self, line: str) -> None:
        self.refs.problems.append(line)

    def _check(self) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            raise SeedError(
                self.path, [*self.problems[:MAX_PROBLEMS], f"$: stopped after {MAX_PROBLEMS} problems"]
            )

    def _items(self, events: Iterator[tuple[str, str, Any]], key: str) -> Iterator[tuple[int, Any]]:
        """The elements of the top-level list `key`, as plain JSON values."""
        sub = _value(events, key)
        first = next(sub)
        if first[1] != "start_array":
            self._problem(f"{key}: Input should be a valid list")
            for _ in sub:
                pass
            return
        yield from enumerate(ijson.items(itertools.chain([first], sub), f"{key}.item"))

    def _validated(self, model: type[_M], key: str, i: int, data: Any) -> _M | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for e in exc.errors():
                self._problem(f"{_json_path((key, i, *e['loc']))}: {e['msg']}")
            self._check()
            return None

    def _top_level(
        self, events: Iterator[tuple[str, str, Any]], *, header: bool, skip: dict[str, int]
    ) -> Iterator[tuple[str, Any]]:
        """Reads the top-level keys: yields the people and documents (when `header`), and
        ("meetings", None) at the key `meetings`, for the caller to read its value. The first
        `skip[key]` items of a list were read already (by the fast reader): they are passed over."""
        _, event, _ = next(events)
        if event != "start_map":
            self._problem("$: Input should be a valid dictionary or instance of SeedFile")
            for _ in events:
                pass
            return
        for prefix, event, key in events:
            if prefix == "" and event == "end_map":
                break
            if key == "meetings":
                self._seen.add(key)
                yield key, None
            elif not header:
                for _ in _value(events, key):
                    pass
            elif key in ("people", "documents"):
                self._seen.add(key)
                model: type[PersonSeed | DocumentSeed] = PersonSeed if key == "people" else DocumentSeed
                done = skip.pop(key, 0)
                for i, data in self._items(events, key):
                    if i < done:
                        continue
                    record = self._validated(model, key, i, data)
                    if record is not None and self.refs.record(key, i, record.slug):
                        yield key, record
            elif key == "schema_version":
                value = next(ijson.items(_value(events, key), key))
                if not skip.pop(key, 0):
                    self._schema_version(value)
            else:
                for _ in _value(events, key):
                    pass
                if not skip.pop(key, 0):
                    self._problem(f"{key}: Extra inputs are not permitted")
        for _ in events:  # nothing may follow the object (ijson raises on trailing garbage)
            pass

    def _schema_version(self, value: Any) -> None:
        try:
            SeedFile.model_validate({"schema_version": value})
        except ValidationError as exc:
            for e in exc.errors():
                self._problem(f"{_json_path(tuple(e['loc']))}: {e['msg']}")

    def _meeting(self, i: int, data: Any) -> MeetingSeed | None:
        """The meeting at index `i`, validated and its references checked; None if it has a problem."""
        meeting = self._validated(MeetingSeed, "meetings", i, data)
        if meeting is None:
            return None
        before = len(self.problems)
        self.refs.meeting(i, meeting)
        self._check()
        return meeting if len(self.problems) == before else None

    def _meetings(self, events: Iterator[tuple[str, str, Any]], skip: int = 0) -> Iterator[tuple[str, Any]]:
        for i, data in self._items(events, "meetings"):
            if i < skip:
                continue
            meeting = self._meeting(i, data)
            if meeting is not None:
                yield "meetings", meeting

    def records(self) -> Iterator[tuple[str, Any]]:
        """("people", PersonSeed) and ("documents", DocumentSeed) records, then ("meetings",
        MeetingSeed) ones, each valid, in file order (call once). Then call :meth:`finish`.

        The fast reader (_FastReader: the stdlib's C decoder, one record at a time) reads files
        laid out as exports and generated files are; at anything else (meetings before people
        and documents, a JSON error, text that ijson might read otherwise) ijson reads the file
        again from its start and takes over, passing over the records already read."""
        done: dict[str, int] = {}
        try:
            try:
                yield from self._fast(done)
                return
            except _Fallback:
                pass
            yield from self._slow(done)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise SeedError(self.path, [f"$: not valid JSON ({_json_error(exc)})"]) from None
        finally:
            self.close()

    def _slow(self, skip: dict[str, int]) -> Iterator[tuple[str, Any]]:
        """The records with ijson (every layout; its JSON errors), past the `skip` read already."""
        self._seen = set()
        events = self._open()
        second_pass = False
        for key, record in self._top_level(events, header=True, skip=skip):
            if key != "meetings":
                yield key, record
            elif {"people", "documents"} <= self._seen:
                yield from self._meetings(events, skip.pop("meetings", 0))
            else:  # people or documents may follow: read them first
                second_pass = True
                for _ in _value(events, key):
                    pass
        if second_pass:
            events = self._open()
            for _ in self._top_level(events, header=False, skip=skip):
                yield from self._meetings(events, skip.pop("meetings", 0))

    def _fast(self, done: dict[str, int]) -> Iterator[tuple[str, Any]]:
        """The records of a file of the usual layout (people and documents before the meetings),
        read with the C decoder of the stdlib; `done` counts the items of each list read, for
        _slow to pass over if this raises _Fallback."""
        self.close()
        self._file = self.path.open("rb")
        text = _FastReader(self._file)
        text.expect("{")
        if text.peek() == "}":
            text.pos += 1
        else:
            while True:
                key = text.value()
                if not isinstance(key, str) or key in self._seen:
                    raise _Fallback  # not JSON, or a key given twice: ijson tells what it is
                text.expect(":")
                if key in ("people", "documents", "meetings"):
                    if key == "meetings" and not {"people", "documents"} <= self._seen:
                        raise _Fallback  # the two-pass layout
                    self._seen.add(key)
                    for i, data in text.items():
                        done[key] = i + 1
                        if key == "meetings":
                            meeting = self._meeting(i, data)
                            if meeting is not None:
                                yield key, meeting
                            continue
                        model: type[PersonSeed | DocumentSeed] = (
                            PersonSeed if key == "people" else DocumentSeed
                        )
                        record = self._validated(model, key, i, data)
                        if record is not None and self.refs.record(key, i, record.slug):
                            yield key, record
                elif key == "schema_version":
                    self._schema_version(text.value())
                    done[key] = 1
                else:
                    text.value()
                    self._problem(f"{key}: Extra inputs are not permitted")
                    done[key] = 1
                self._seen.add(key)
                if text.peek() == ",":
                    text.pos += 1
                    continue
                text.expect("}")
                break
        if text.peek() != "":
            raise _Fallback  # something follows the object

    def finish(self) -> None:
        """Raise SeedError if the file had any problem (call after :meth:`records`)."""
        problems = self.refs.finish()
        if problems:
            raise SeedError(self.path, problems[:MAX_PROBLEMS])


class _Fallback(Exception):
    """The fast reader met something it leaves to ijson."""


def _no_constant(name: str) -> Any:
    raise _Fallback  # NaN, Infinity: not JSON (ijson says so)


_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# An escaped UTF-16 surrogate: the two decoders may differ on a lone one; ijson reads such files.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_READ = 1 << 20  # bytes per read
_MAX_VALUE = 64 << 20  # a value longer than this (characters) is left to ijson


class _FastReader:
    """A file's JSON text, decoded as it is read, with a cursor: the values of its lists are
    parsed one at a time by the stdlib's C decoder (raw_decode), so that memory holds about
    one read and one value. Raises _Fallback at anything it does not read, JSON errors
    included (the caller then leaves the file to ijson, which names them)."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        """Read on (at least as much as is held: a long value costs linear time); False at the end."""
        if self.eof:
            return False
        rest = self.buf[self.pos :]
        if len(rest) > _MAX_VALUE:
            raise _Fallback
        data = self.file.read(max(_READ, len(rest)))
        try:
            new = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise _Fallback from None
        if _SURROGATE.search(rest[-6:] + new):
            raise _Fallback
        self.buf, self.pos, self.eof = rest + new, 0, not data
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Fallback
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                value, end = None, -1
            # a value that ends with the text read may go on (a number) in the next read
            if end != -1 and (end < len(self.buf) or self.eof):
                self.pos = end
                return value
            if not self.more():
                raise _Fallback

    def items(self) -> Iterator[tuple[int, Any]]:
        """The values of the list at the cursor, numbered."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        for i in itertools.count():
            yield i, self.value()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            return


def open_seed(path: str | Path) -> SeedStream:
    """A seed file to read meeting by meeting (SeedError if its start is not valid)."""
    return SeedStream(path)
