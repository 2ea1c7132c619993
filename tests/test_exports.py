"""Exports (the seed-format export, CSV/NDJSON collections, iCalendar) and merging seed loads.

Every test runs on the back end under test (TEST_BACKEND); a second database,
when one is needed, is made the way conftest makes the first.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update

import app.streams
from app.db import create_db_engine, get_engine
from app.deps import _list_queries, _sort_keys
from app.export import export_chunks
from app.fastread import Filters, RawQuery
from app.generate import write_seed
from app.main import app as api
from app.models import Directive, Meeting
from app.resources import DIRECTIVES
from app.seed_schema import SeedError, SeedFile, parse_seed, read_seed, validate_references
from app.seeding import COLLECTIONS, create_schema, load_seed
from tests.conftest import SEED_FILE, SQLITE_ONLY, drop_settings_schema, make_settings, problem_of

RAW_SEED: dict[str, Any] = json.loads(SEED_FILE.read_bytes())
MEETING_SLUG = RAW_SEED["meetings"][0]["slug"]
COLLECTION_PATHS = (
    "/api/v1/meetings",
    "/api/v1/people",
    "/api/v1/participants",
    "/api/v1/directives",
    "/api/v1/shortcomings",
    "/api/v1/findings",
    "/api/v1/documents",
)
TABLES = ("person", "document", "meeting", "participant", "directive", "shortcoming", "finding")


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def other_engine(tmp_path: Path) -> Iterator[Engine]:
    """A second, empty database (schema only) of the back end under test."""
    settings = make_settings(tmp_path / "other")
    (tmp_path / "other").mkdir(exist_ok=True)
    engine = create_db_engine(settings)
    create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_settings_schema(settings)


def client_for(engine: Engine) -> TestClient:
    api.dependency_overrides[get_engine] = lambda: engine
    return TestClient(api, raise_server_exceptions=False)


def all_items(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every record of a collection, page after page (JSON)."""
    items: list[dict[str, Any]] = []
    query = {**params, "limit": 100}
    while True:
        r = client.get(path, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items
        query["cursor"] = body["next_cursor"]


def without_timestamps(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_timestamps(v) for k, v in node.items() if k not in ("created_at", "updated_at")}
    if isinstance(node, list):
        return [without_timestamps(v) for v in node]
    return node


def api_answers(engine: Engine) -> dict[str, Any]:
    """What the API answers for every collection, and each meeting with all its records."""
    client = client_for(engine)
    answers: dict[str, Any] = {path: all_items(client, path) for path in COLLECTION_PATHS}
    for m in answers["/api/v1/meetings"]:
        r = client.get(
            f"/api/v1/meetings/{m['slug']}",
            params={"include": "participants,directives,shortcomings,findings,documents"},
        )
        assert r.status_code == 200
        answers[m["slug"]] = r.json()
        answers[f"{m['slug']}/reviews"] = all_items(client, f"/api/v1/meetings/{m['slug']}/reviews")
    return without_timestamps(answers)


def exported(engine: Engine, **kwargs: Any) -> str:
    return "".join(export_chunks(engine, **kwargs))


def normalised(seed: SeedFile) -> dict[str, Any]:
    """A seed as data, with each meeting's citations in document order (they have no order of their own)."""
    data = seed.model_dump(mode="json")
    for m in data["meetings"]:
        m["documents"].sort(key=lambda c: c["document"])
    return data


def generated(meetings: int, seed: int = 5) -> SeedFile:
    out = io.StringIO()
    write_seed(out, meetings, seed)
    return parse_seed(out.getvalue())


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in (*TABLES, "meeting_document", "search_document")
        }


def set_directive(engine: Engine, slug: str, **values: Any) -> None:
    table = Directive.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.slug == slug).values(**values))


def write_file(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_overrides() -> Iterator[None]:
    yield
    api.dependency_overrides.clear()


# --- the whole-database export --------------------------------------------------------------------


class TestExport:
    def test_export_seed_matches_seed_file(self, client: TestClient) -> None:
        r = client.get("/api/v1/export")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-disposition"] == 'attachment; filename="meeting-records.json"'
        assert "etag" not in r.headers  # streamed, not buffered to be hashed
        seed = parse_seed(r.content)  # a valid seed file, references included
        assert normalised(seed) == normalised(read_seed(SEED_FILE))

    def test_export_is_same_in_small_batches(self, engine: Engine) -> None:
        load_seed(engine, generated(7))
        whole = exported(engine)
        assert exported(engine, size=2) == whole
        assert len(parse_seed(whole).meetings) == 8

    @pytest.mark.parametrize("source", ["seed", "generated"])
    def test_export_load_round_trip_gives_same_answers(
        self, source: str, empty_engine: Engine, other_engine: Engine
    ) -> None:
        create_schema(empty_engine)
        load_seed(empty_engine, read_seed(SEED_FILE) if source == "seed" else generated(25))
        # A follow-up state the seed format must carry: a deadline, and a directive done on a day.
        first = all_items(client_for(empty_engine), "/api/v1/directives")[0]["slug"]
        set_directive(
            empty_engine, first, status="done", due_date=dt.date(2018, 6, 30), done_on=dt.date(2018, 7, 2)
        )
        before = api_answers(empty_engine)
        load_seed(other_engine, parse_seed(exported(empty_engine)))
        after = api_answers(other_engine)
        assert after == before
        assert after["/api/v1/directives"][0]["progress"] == "done_late"
        assert exported(other_engine) == exported(empty_engine)
        if source == "generated":  # the links travel too
            assert any(d["assignees"] and d["addresses"] for d in after["/api/v1/directives"])
            assert any(v for k, v in after.items() if k.endswith("/reviews"))


# --- CSV and NDJSON -------------------------------------------------------------------------------


def whole_directives(engine: Engine) -> RawQuery:
    """The SQL of a directives download, sorted by id (what list_or_stream streams)."""
    sort_str, keys, descs = _sort_keys(DIRECTIVES, "id")
    return _list_queries(engine.dialect.name, DIRECTIVES, Filters(), sort_str, keys, descs, False).whole


def csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def as_csv_row(record: dict[str, Any]) -> dict[str, str]:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    return {k: cell(v) for k, v in record.items()}


class TestCollectionStreams:
    @pytest.mark.parametrize("path", COLLECTION_PATHS)
    def test_read_collection_csv(self, client: TestClient, path: str) -> None:
        r = client.get(path, params={"format": "csv"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        name = path.rsplit("/", 1)[1]
        assert r.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
        assert r.text.splitlines()[0] == ",".join(all_items(client, path)[0])  # the JSON fields, in order
        assert csv_rows(r) == [as_csv_row(item) for item in all_items(client, path)]

    @pytest.mark.parametrize("path", COLLECTION_PATHS)
    def test_read_collection_ndjson(self, client: TestClient, path: str) -> None:
        r = client.get(path, params={"format": "ndjson"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        assert [json.loads(line) for line in r.text.splitlines()] == all_items(client, path)

    def test_read_meetings_csv_quotes_and_keeps_diacritics(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings", params={"format": "csv"})
        assert r.status_code == 200
        title = RAW_SEED["meetings"][0]["title"]
        assert f'"{title}"' in r.text  # the title has commas: quoted (RFC 4180), NFC kept
        assert r.text.endswith("\r\n")
        (row,) = csv_rows(r)
        assert json.loads(row["connection_points"]) == RAW_SEED["meetings"][0]["connection_points"]
        assert row["starts_at"] == ""  # null

    @pytest.mark.parametrize(
        "params",
        [
            {"sort": "-id"},
            {"sort": "status,-id"},  # mixed directions: the keyset's OR form
            {"sort": "-meeting_id", "status": "open"},
            {"q": "dang ky"},
            {"meeting_id": 3, "sort": "-id"},
        ],
    )
    def test_read_directives_ndjson_whole_filtered_collection_in_batches(
        self, engine: Engine, client: TestClient, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]
    ) -> None:
        load_seed(engine, generated(12))
        monkeypatch.setattr(app.streams, "BATCH", 7)  # many batches, and a boundary inside ties
        r = client.get("/api/v1/directives", params={**params, "format": "ndjson", "limit": 1})
        assert r.status_code == 200
        streamed = [json.loads(line) for line in r.text.splitlines()]
        expected = all_items(client, "/api/v1/directives", **params)
        assert streamed == expected
        assert len(expected) > 7 or "q" in params or "meeting_id" in params

    def test_read_directives_download_is_one_snapshot(self, engine: Engine) -> None:
        # A download's rows come from one statement: a change committed while it is under way
        # (between two batches) is not in it, even in the rows still to come.
        load_seed(engine, generated(12))
        query = whole_directives(engine)
        before = [tuple(row) for rows in app.streams.batches_of(engine, query, {}, 1000) for row in rows]
        stream = app.streams.batches_of(engine, query, {}, 7)
        streamed = [tuple(row) for row in next(stream)]
        id_at, text_at = DIRECTIVES.shape.fields.index("id"), DIRECTIVES.shape.fields.index("text")
        last = before[-1][id_at]
        with engine.begin() as conn:
            conn.execute(update(Directive).where(Directive.id == last).values(text="đã sửa"))  # type: ignore[arg-type]
        streamed += [tuple(row) for rows in stream for row in rows]
        assert streamed == before
        after = [row for rows in app.streams.batches_of(engine, query, {}, 1000) for row in rows]
        assert (after[-1][id_at], after[-1][text_at]) == (last, "đã sửa")  # the change did commit
        assert before[-1][text_at] != "đã sửa"

    def test_read_directives_download_stopped_early_gives_its_connection_back(self, engine: Engine) -> None:
        load_seed(engine, generated(12))
        checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
        stream = app.streams.batches_of(engine, whole_directives(engine), {}, 7)
        assert len(next(stream)) == 7
        assert engine.pool.checkedout() == checked_out + 1  # type: ignore[attr-defined]
        stream.close()  # the client went away
        assert engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]

    def test_read_people_accept_header_chooses_format(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", headers={"Accept": "text/csv"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        r = client.get("/api/v1/people", headers={"Accept": "application/x-ndjson, application/json;q=0.5"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        r = client.get("/api/v1/people", headers={"Accept": "text/html, */*;q=0.8"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"  # JSON wins a tie

    def test_read_people_format_query_wins_over_accept(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", params={"format": "ndjson"}, headers={"Accept": "text/csv"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        r = client.get("/api/v1/people", params={"format": "json"}, headers={"Accept": "text/csv"})
        assert r.status_code == 200
        assert r.json()["total"] == 5

    @pytest.mark.parametrize("accept", ["text/html", "image/png, text/plain;q=0.5", "text/csv;q=0"])
    def test_read_people_unacceptable_is_406(self, client: TestClient, accept: str) -> None:
        r = client.get("/api/v1/people", headers={"Accept": accept})
        assert r.status_code == 406
        assert "text/csv" in str(problem_of(r)["detail"])

    def test_read_people_problem_json_accept_is_json(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", headers={"Accept": "application/problem+json"})
        assert r.status_code == 200
        assert r.json()["total"] == 5

    def test_read_directives_csv_bad_sort_is_422(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"format": "csv", "sort": "nope"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.sort"

    def test_read_meeting_directives_csv(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/directives", params={"format": "csv"})
        assert r.status_code == 200
        assert len(csv_rows(r)) == len(RAW_SEED["meetings"][0]["directives"])


# --- iCalendar ------------------------------------------------------------------------------------


def calendar_of(response: Any) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(response.content)


class TestCalendar:
    def test_read_calendar_meetings_and_deadlines(self, engine: Engine, client: TestClient) -> None:
        directives = RAW_SEED["meetings"][0]["directives"]
        set_directive(engine, directives[0]["slug"], due_date=dt.date(2018, 6, 30))
        set_directive(
            engine,
            directives[1]["slug"],
            due_date=dt.date(2018, 5, 31),
            status="done",
            done_on=dt.date(2018, 5, 20),
        )
        r = client.get("/api/v1/calendar.ics")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/calendar; charset=utf-8"
        assert r.headers["content-disposition"] == 'attachment; filename="meetings.ics"'
        cal = calendar_of(r)
        (event,) = cal.walk("VEVENT")
        assert str(event["UID"]) == f"meeting-{MEETING_SLUG}@testserver"
        assert event.decoded("DTSTART") == dt.date(2018, 3, 20)  # no time in the source: all day
        assert str(event["SUMMARY"]) == RAW_SEED["meetings"][0]["title"]
        assert RAW_SEED["meetings"][0]["organizer"] in str(event["DESCRIPTION"])
        assert str(event["URL"]) == f"http://testserver/api/v1/meetings/{MEETING_SLUG}"
        todos = {str(t["UID"]): t for t in cal.walk("VTODO")}
        assert set(todos) == {f"directive-{d['slug']}@testserver" for d in directives[:2]}
        first = todos[f"directive-{directives[0]['slug']}@testserver"]
        assert first.decoded("DUE") == dt.date(2018, 6, 30)
        assert str(first["STATUS"]) == "NEEDS-ACTION"
        done = todos[f"directive-{directives[1]['slug']}@testserver"]
        assert str(done["STATUS"]) == "COMPLETED"
        assert done.decoded("COMPLETED") == dt.datetime(2018, 5, 19, 17, 0, tzinfo=dt.UTC)
        assert str(done["RELATED-TO"]) == f"meeting-{MEETING_SLUG}@testserver"
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
        # Stable: the same UIDs on the next request.
        again = calendar_of(client.get("/api/v1/calendar.ics"))
        assert {str(c["UID"]) for c in again.walk() if "UID" in c} == {str(event["UID"]), *todos}

    def test_read_calendar_start_time_in_meeting_zone(self, engine: Engine, client: TestClient) -> None:
        table = Meeting.__table__  # type: ignore[attr-defined]
        starts = dt.datetime(2018, 3, 20, 1, 30, tzinfo=dt.UTC)  # 08:30 in Ho Chi Minh City
        with engine.begin() as conn:
            conn.execute(update(table).values(starts_at=starts))
        r = client.get("/api/v1/calendar.ics")
        assert r.status_code == 200
        assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20180320T083000" in r.text
        (event,) = calendar_of(r).walk("VEVENT")
        assert event.decoded("DTSTART") == starts

    def test_read_calendar_filters(self, engine: Engine, client: TestClient) -> None:
        load_seed(engine, generated(6))
        meetings = all_items(client, "/api/v1/meetings", sort="date")
        target = meetings[2]
        r = client.get("/api/v1/calendar.ics", params={"meeting": target["slug"]})
        assert r.status_code == 200
        cal = calendar_of(r)
        assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"meeting-{target['slug']}@testserver"]
        due = [d for d in all_items(client, "/api/v1/directives", meeting_id=target["id"]) if d["due_date"]]
        assert len(cal.walk("VTODO")) == len(due)
        r = client.get("/api/v1/calendar.ics", params={"from": target["date"], "to": target["date"]})
        assert r.status_code == 200
        on_day = [m["slug"] for m in meetings if m["date"] == target["date"]]
        assert sorted(str(e["UID"]) for e in calendar_of(r).walk("VEVENT")) == sorted(
            f"meeting-{s}@testserver" for s in on_day
        )
        for todo in calendar_of(r).walk("VTODO"):
            assert todo.decoded("DUE") == dt.date.fromisoformat(target["date"])

    @pytest.mark.parametrize(
        ("params", "status", "name"),
        [
            ({"meeting": "no-such-meeting"}, 404, None),
            ({"from": "20180320"}, 422, "query.from"),
            ({"to": "2018-13-01"}, 422, "query.to"),
        ],
    )
    def test_read_calendar_bad_filter(
        self, client: TestClient, params: dict[str, str], status: int, name: str | None
    ) -> None:
        r = client.get("/api/v1/calendar.ics", params=params)
        assert r.status_code == status
        problem = problem_of(r)
        if name:
            assert problem["invalid_params"][0]["name"] == name


# --- merging seed loads ---------------------------------------------------------------------------


def edited_seed() -> dict[str, Any]:
    """The seed with: a person renamed, a directive reworded, a citation's quote changed, the
    meeting's summary changed, and a new finding."""
    data = copy.deepcopy(RAW_SEED)
    data["people"][1]["full_name"] = "Phan Văn Mãi (Chủ tịch)"
    meeting = data["meetings"][0]
    meeting["summary"] += " Bổ sung."
    meeting["directives"][2]["text"] = "rà soát quy hoạch cán bộ kỹ lưỡng"
    meeting["documents"][0]["source_quote"] = meeting["source"]["title"]
    meeting["findings"].append(
        {"slug": f"{MEETING_SLUG}-moi", "text": "hội nghị thành công", "source_quote": "hội nghị thành công"}
    )
    return data


EDITED_COUNTS = {
    "created": dict.fromkeys(COLLECTIONS, 0) | {"findings": 1},
    "updated": dict.fromkeys(COLLECTIONS, 0) | {"people": 1, "meetings": 1, "directives": 1, "citations": 1},
    "unchanged": {
        "people": 4,
        "documents": 5,
        "meetings": 0,
        "participants": 5,
        "directives": 9,
        "shortcomings": 5,
        "findings": 4,
        "citations": 4,
        "assignees": 4,
        "addresses": 4,
        "reviews": 0,
    },
}


class TestMergeLoad:
    def test_load_seed_merges_by_slug(self, engine: Engine, client: TestClient, tmp_path: Path) -> None:
        before = {path: all_items(client, path) for path in COLLECTION_PATHS}
        report = load_seed(engine, read_seed(write_file(tmp_path / "edit.json", edited_seed())))
        assert {k: getattr(report, k) for k in EDITED_COUNTS} == EDITED_COUNTS
        assert report.summary() == (
            "created 1 findings; updated 1 people, 1 meetings, 1 directives, 1 citations; "
            "1 meeting(s) already present"
        )
        people = {p["slug"]: p for p in all_items(client, "/api/v1/people")}
        assert people["phan-van-mai"]["full_name"] == "Phan Văn Mãi (Chủ tịch)"
        old_people = {p["slug"]: p for p in before["/api/v1/people"]}
        assert people["vo-thanh-hao"] == old_people["vo-thanh-hao"]  # untouched: same updated_at
        # Search rows follow: the new wording is found, the old is not; the renamed person too,
        # and the participant's row, which carries the person's name.
        hits = client.get("/api/v1/search", params={"q": "quy hoach can bo ky luong"}).json()
        assert [h["type"] for h in hits["items"]] == ["directive"]
        assert client.get("/api/v1/directives", params={"q": "chu tich"}).json()["total"] == 0
        found = client.get("/api/v1/search", params={"q": "phan van mai chu tich"}).json()["items"]
        assert sorted(h["type"] for h in found) == ["participant", "person"]
        assert client.get("/api/v1/findings", params={"q": "hoi nghi thanh cong"}).json()["total"] == 1
        directive = client.get(
            f"/api/v1/directives/{RAW_SEED['meetings'][0]['directives'][2]['slug']}"
        ).json()
        assert directive["text"] == "rà soát quy hoạch cán bộ kỹ lưỡng"
        assert directive["updated_at"] >= directive["created_at"]
        # Loading it again changes nothing.
        again = load_seed(engine, read_seed(tmp_path / "edit.json"))
        assert not any(again.created.values())
        assert not any(again.updated.values())

    def test_load_seed_dry_run_changes_nothing(self, engine: Engine, tmp_path: Path) -> None:
        before_rows, before_export = row_counts(engine), exported(engine)
        report = load_seed(engine, read_seed(write_file(tmp_path / "edit.json", edited_seed())), dry_run=True)
        assert {k: getattr(report, k) for k in EDITED_COUNTS} == EDITED_COUNTS
        assert report.summary().startswith("would create 1 findings; would update 1 people")
        assert row_counts(engine) == before_rows
        assert exported(engine) == before_export

    def test_load_seed_dry_run_of_new_file(self, empty_engine: Engine) -> None:
        create_schema(empty_engine)
        seed = generated(4)
        report = load_seed(empty_engine, seed, dry_run=True)
        assert report.created["meetings"] == 4
        assert report.created["directives"] == sum(len(m.directives) for m in seed.meetings)
        assert row_counts(empty_engine) == dict.fromkeys(row_counts(empty_engine), 0)

    def test_load_seed_keeps_records_absent_from_file(
        self, engine: Engine, client: TestClient, tmp_path: Path
    ) -> None:
        data = copy.deepcopy(RAW_SEED)
        meeting = data["meetings"][0]
        meeting["directives"] = meeting["directives"][:1]
        meeting["findings"] = []
        before = row_counts(engine)
        report = load_seed(engine, read_seed(write_file(tmp_path / "part.json", data)))
        assert not any(report.created.values())
        assert not any(report.updated.values())
        assert report.unchanged["directives"] == 1
        assert row_counts(engine) == before

    def test_load_seed_person_already_in_meeting(self, engine: Engine, tmp_path: Path) -> None:
        data = copy.deepcopy(RAW_SEED)
        part = data["meetings"][0]["participants"][0]
        part["slug"] = f"{part['slug']}-2"  # a second participation of the same person
        for d in data["meetings"][0]["directives"]:
            d["issued_by"] = part["slug"]
        before = row_counts(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, read_seed(write_file(tmp_path / "twice.json", data)))
        assert caught.value.problems == [
            "meetings[0].participants[0].person: 'vo-thanh-hao' already takes part in this meeting "
            f"as participant '{MEETING_SLUG}-vo-thanh-hao'"
        ]
        assert row_counts(engine) == before

    def test_load_seed_moves_no_record_between_meetings(self, engine: Engine, tmp_path: Path) -> None:
        data = copy.deepcopy(RAW_SEED)
        data["meetings"][0]["slug"] = f"{MEETING_SLUG}-bis"  # a new meeting claiming the seed's records
        before = row_counts(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, read_seed(write_file(tmp_path / "move.json", data)))
        assert len(caught.value.problems) == 5 + 10 + 5 + 4
        assert row_counts(engine) == before

    def test_load_seed_updates_are_one_transaction(
        self, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import app.seeding

        real = app.seeding._insert_many

        def failing(conn: Any, model: Any, rows: Any) -> list[int]:
            raise RuntimeError("disk full")

        monkeypatch.setattr(app.seeding, "_insert_many", failing)
        before = exported(engine)
        with pytest.raises(RuntimeError, match="disk full"):  # after the updates, at the new finding
            load_seed(engine, read_seed(write_file(tmp_path / "edit.json", edited_seed())))
        assert exported(engine) == before
        monkeypatch.setattr(app.seeding, "_insert_many", real)


# --- the command line (SQLite files, as tests/test_cli.py) ----------------------------------------


@SQLITE_ONLY
class TestCommandLine:
    def test_export_seed_cli(self, tmp_path: Path) -> None:
        from tests.test_cli import SEED_ARG, run_app

        db, out = tmp_path / "cli.db", tmp_path / "export.json"
        assert run_app(db, "seed", "load", SEED_ARG).returncode == 0
        r = run_app(db, "seed", "export", "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert f"{out}: exported the database" in r.stderr
        assert normalised(read_seed(out)) == normalised(read_seed(SEED_FILE))
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []  # no temp file
        to_stdout = run_app(db, "seed", "export")
        assert to_stdout.returncode == 0
        assert to_stdout.stdout == out.read_text(encoding="utf-8")

    def test_load_seed_dry_run_cli(self, tmp_path: Path) -> None:
        from tests.test_cli import SEED_ARG, run_app
        from tests.test_cli import row_counts as cli_counts

        db = tmp_path / "cli.db"
        assert run_app(db, "seed", "load", SEED_ARG).returncode == 0
        before = cli_counts(db)
        edit = write_file(tmp_path / "edit.json", edited_seed())
        r = run_app(db, "seed", "load", "--dry-run", str(edit))
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == (
            f"{edit}: dry run, nothing written: would create 1 findings; would update 1 people, "
            "1 meetings, 1 directives, 1 citations; 1 meeting(s) already present"
        )
        assert lines[1].split() == ["collection", "would", "create", "would", "update", "unchanged"]
        assert [line.split() for line in lines[2:]] == [
            [kind, *(str(EDITED_COUNTS[k][kind]) for k in ("created", "updated", "unchanged"))]
            for kind in COLLECTIONS
        ]
        assert cli_counts(db) == before
        r = run_app(db, "seed", "load", "--progress", str(edit))
        assert r.returncode == 0, r.stderr
        assert "100%" in r.stderr  # the bar (bytes of the file read), on stderr only
        assert "1 meetings" in r.stderr
        assert r.stdout.startswith(f"{edit}: created 1 findings; updated 1 people")
        assert cli_counts(db)["finding"] == before["finding"] + 1

    def test_load_seed_help_says_records_are_kept(self, tmp_path: Path) -> None:
        from tests.test_cli import run_app

        r = run_app(tmp_path / "cli.db", "seed", "load", "--help")
        assert r.returncode == 0
        text = " ".join(r.stdout.split())
        assert "are KEPT (nothing is deleted)" in text
        assert "--dry-run" in text


# --- merging seed loads: the links (assignees, addresses, reviews) ----------------------------------

D0 = RAW_SEED["meetings"][0]["directives"][0]
D1 = RAW_SEED["meetings"][0]["directives"][1]
LINK_KINDS = ("assignees", "addresses", "reviews")


def edited_links() -> dict[str, Any]:
    """The seed with, on its first directive: the assignee's quote changed, a new assignee without
    a slug (a person), and a second shortcoming addressed."""
    data = copy.deepcopy(RAW_SEED)
    d0 = data["meetings"][0]["directives"][0]
    d0["assignees"][0]["source_quote"] = d0["source_quote"]
    d0["assignees"].append({"role": "monitoring", "person": "vo-thanh-hao"})
    d0["addresses"].append(D1["addresses"][0])
    return data


def link_counts(report: Any) -> dict[str, dict[str, int]]:
    return {
        k: {kind: getattr(report, k)[kind] for kind in LINK_KINDS}
        for k in ("created", "updated", "unchanged")
    }


EDITED_LINK_COUNTS = {
    "created": {"assignees": 1, "addresses": 1, "reviews": 0},
    "updated": {"assignees": 1, "addresses": 0, "reviews": 0},
    "unchanged": {"assignees": 3, "addresses": 4, "reviews": 0},
}


class TestMergeLoadLinks:
    def test_load_seed_merges_assignees_and_addresses(
        self, engine: Engine, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import app.seeding

        monkeypatch.setattr(app.seeding, "utcnow", lambda: dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
        before = client.get(f"/api/v1/directives/{D0['slug']}").json()
        edit = write_file(tmp_path / "links.json", edited_links())
        report = load_seed(engine, read_seed(edit))
        assert link_counts(report) == EDITED_LINK_COUNTS
        assert report.updated["directives"] == 0  # its own fields are the same
        r = client.get(f"/api/v1/directives/{D0['slug']}")
        assert r.status_code == 200
        after = r.json()
        people = {p["slug"]: p["id"] for p in all_items(client, "/api/v1/people")}
        assert [
            (a["id"], a["slug"], a["role"], a["person_id"], a["source_quote"]) for a in after["assignees"]
        ] == [
            (before["assignees"][0]["id"], D0["assignees"][0]["slug"], "lead", None, D0["source_quote"]),
            (after["assignees"][1]["id"], None, "monitoring", people["vo-thanh-hao"], None),
        ]
        shortcomings = {s["slug"]: s["id"] for s in all_items(client, "/api/v1/shortcomings")}
        assert after["addresses"] == sorted(shortcomings[s] for s in (*D0["addresses"], *D1["addresses"]))
        assert after["updated_at"] == "2030-01-02T03:04:05Z"  # its links changed, as through the API
        assert after["created_at"] == before["created_at"]
        # Again: the assignee without a slug is matched by role and person; nothing changes.
        again = load_seed(engine, read_seed(edit))
        assert link_counts(again) == {
            "created": dict.fromkeys(LINK_KINDS, 0),
            "updated": dict.fromkeys(LINK_KINDS, 0),
            "unchanged": {"assignees": 5, "addresses": 5, "reviews": 0},
        }
        assert client.get(f"/api/v1/directives/{D0['slug']}").json() == after
        # The seed as it was: the quote is put back; the new assignee and address are kept.
        back = load_seed(engine, read_seed(SEED_FILE))
        assert (back.updated["assignees"], back.created["assignees"], back.created["addresses"]) == (1, 0, 0)
        final = client.get(f"/api/v1/directives/{D0['slug']}").json()
        assert final["assignees"][0]["source_quote"] == D0["assignees"][0]["source_quote"]
        assert [a["id"] for a in final["assignees"]] == [a["id"] for a in after["assignees"]]
        assert final["addresses"] == after["addresses"]

    def test_load_seed_dry_run_counts_links(self, engine: Engine, tmp_path: Path) -> None:
        before_rows, before_export = row_counts(engine), exported(engine)
        edit = write_file(tmp_path / "links.json", edited_links())
        report = load_seed(engine, read_seed(edit), dry_run=True)
        assert link_counts(report) == EDITED_LINK_COUNTS
        assert row_counts(engine) == before_rows
        assert exported(engine) == before_export

    def test_load_seed_merges_reviews(self, empty_engine: Engine, tmp_path: Path) -> None:
        create_schema(empty_engine)
        data = json.loads(exported_of(generated(8)))
        reviewing = next(i for i, m in enumerate(data["meetings"]) if m["reviews"])
        meeting = data["meetings"][reviewing]
        load_seed(empty_engine, parse_seed(json.dumps(data)))
        client = client_for(empty_engine)
        path = f"/api/v1/meetings/{meeting['slug']}/reviews"
        before = all_items(client, path)
        meeting["reviews"][0]["outcome"] = "Đã hoàn thành, được biểu dương."
        extra = meeting["reviews"][1:]
        meeting["reviews"] = meeting["reviews"][:1]  # the others are absent from the file: kept
        report = load_seed(empty_engine, parse_seed(json.dumps(data)))
        assert (report.created["reviews"], report.updated["reviews"], report.unchanged["reviews"]) == (
            0,
            1,
            sum(len(m["reviews"]) for m in data["meetings"]) - 1,
        )
        after = all_items(client, path)
        assert [r["id"] for r in after] == [r["id"] for r in before]
        assert after[0]["outcome"] == "Đã hoàn thành, được biểu dương."
        assert without_timestamps(after[1:]) == without_timestamps(before[1:])
        assert len(after) == 1 + len(extra)

    def test_load_seed_review_of_directive_only_in_database(self, engine: Engine, client: TestClient) -> None:
        """A file (checked by schema only) whose new meeting reviews a directive the database has."""
        data = copy.deepcopy(RAW_SEED)
        meeting = data["meetings"][0]
        meeting.update(slug="ben-tre-2018-06-20-so-ket", date="2018-06-20", starts_at=None)
        for p in meeting["participants"]:
            p["slug"] += "-so-ket"
        meeting.update(directives=[], shortcomings=[], findings=[])
        meeting["reviews"] = [{"directive": D0["slug"], "outcome": "Đang thực hiện."}]
        seed = SeedFile.model_validate(data)
        assert validate_references(seed)  # the file alone does not know the directive
        report = load_seed(engine, seed)
        assert (report.created["meetings"], report.created["reviews"]) == (1, 1)
        items = all_items(client, f"/api/v1/meetings/{meeting['slug']}/reviews")
        directive = client.get(f"/api/v1/directives/{D0['slug']}").json()
        assert [(r["directive_id"], r["outcome"]) for r in items] == [(directive["id"], "Đang thực hiện.")]

    def test_load_seed_unknown_link_references(self, engine: Engine) -> None:
        data = copy.deepcopy(RAW_SEED)
        meeting = data["meetings"][0]
        meeting["directives"][0]["addresses"] = ["khong-co"]
        meeting["directives"][0]["assignees"][0] = {"role": "lead", "person": "khong-ai"}
        meeting["reviews"] = [{"directive": "khong-co-chi-dao", "outcome": "Chưa rõ."}]
        before = row_counts(engine), exported(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, SeedFile.model_validate(data), file="x.json")
        assert caught.value.problems == [
            "meetings[0].directives[0].assignees[0].person: unknown person 'khong-ai'",
            "meetings[0].directives[0].addresses[0]: unknown shortcoming 'khong-co'",
            "meetings[0].reviews[0].directive: unknown directive 'khong-co-chi-dao'",
        ]
        assert (row_counts(engine), exported(engine)) == before

    def test_load_seed_assignee_slug_of_other_directive(self, engine: Engine, tmp_path: Path) -> None:
        data = copy.deepcopy(RAW_SEED)
        directives = data["meetings"][0]["directives"]
        directives[1]["assignees"].append(directives[0]["assignees"].pop(0))  # moved to another directive
        before = row_counts(engine), exported(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, read_seed(write_file(tmp_path / "move.json", data)))
        assert caught.value.problems == [
            f"meetings[0].directives[1].assignees[1].slug: slug '{D0['assignees'][0]['slug']}' already "
            f"exists in the database (an assignee of directive '{D0['slug']}')"
        ]
        assert (row_counts(engine), exported(engine)) == before


def exported_of(seed: SeedFile) -> str:
    """A seed as the export writes it (a seed file's JSON)."""
    return seed.model_dump_json(exclude_none=True)
