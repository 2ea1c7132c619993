"""The change feed (GET /changes), updated_since on every list, and replaying the feed."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, insert, select, text, update

from app import changes
from app.db import create_db_engine, get_engine, json_text, writer
from app.fastread import RawQuery, raw_cursor
from app.main import app
from app.models.change import ChangeAction
from app.models.person import PersonPublic
from app.replay import read_file, replay
from app.resources import (
    addresses_t,
    assignee_t,
    directive_t,
    document_t,
    finding_t,
    meeting_t,
    participant_t,
    person_t,
    review_t,
    shortcoming_t,
)
from app.seed_schema import SeedFile
from app.seeding import create_schema
from tests.conftest import BACKEND, drop_settings_schema, make_settings, problem_of
from tests.test_writes import NEW_DOCUMENT, NEW_FINDING, NEW_MEETING, NEW_SHORTCOMING, new_directive

COLLECTIONS = ["people", "participants", "directives", "shortcomings", "findings", "documents", "meetings"]
TABLES = {
    "people": person_t,
    "participants": participant_t,
    "directives": directive_t,
    "shortcomings": shortcoming_t,
    "findings": finding_t,
    "documents": document_t,
    "meetings": meeting_t,
}
NESTED = ["participants", "directives", "shortcomings", "findings", "documents"]


def feed(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """The whole feed (after `since`), following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        r = client.get(
            "/api/v1/changes", params={"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        items.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the feed does not end")


def last(client: TestClient) -> int:
    r = client.get("/api/v1/changes", params={"limit": 1})
    total = r.json()["total"]
    return int(feed(client)[-1]["seq"]) if total else 0


def after(client: TestClient, seq: int) -> list[dict[str, Any]]:
    return feed(client, since=seq)


def record_path(e: dict[str, Any]) -> str:
    """Where the API answers the record of an entry (assignees and reviews under their parents)."""
    if e["collection"] == "assignees":
        return f"/api/v1/directives/{e['data']['directive_id']}/assignees/{e['record_id']}"
    if e["collection"] == "reviews":
        return f"/api/v1/meetings/{e['data']['meeting_id']}/reviews/{e['record_id']}"
    return f"/api/v1/{e['collection']}/{e['record_id']}"


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str, int | None]]:
    return [(e["collection"], e["action"], e["record_id"]) for e in entries]


def assert_entries_are_the_api_answers(client: TestClient, entries: list[dict[str, Any]]) -> None:
    """The last entry of each record (not deleted, not a citation) is the record as GET answers it."""
    latest = {(e["collection"], e["record_id"]): e for e in entries if e["collection"] != "citations"}
    for e in latest.values():
        if e["action"] == "delete":
            continue
        r = client.get(record_path(e))
        assert r.status_code == 200, (e["collection"], e["record_id"])
        assert r.json() == e["data"], (e["collection"], e["record_id"])


def walk(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        r = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, (path, r.text)
        items.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} does not end")


# --- what the writes put in the feed --------------------------------------------------------------


def test_read_changes_seed_load_has_an_entry_per_record(client: TestClient, seed: SeedFile) -> None:
    entries = feed(client)
    m = seed.meetings
    expected = {
        "people": len(seed.people),
        "documents": len(seed.documents),
        "meetings": len(m),
        "participants": sum(len(x.participants) for x in m),
        "directives": sum(len(x.directives) for x in m),
        "shortcomings": sum(len(x.shortcomings) for x in m),
        "findings": sum(len(x.findings) for x in m),
        "citations": sum(len(x.documents) for x in m),
        "assignees": sum(len(d.assignees) for x in m for d in x.directives),
        "reviews": sum(len(x.reviews) for x in m),
    }
    expected = {k: n for k, n in expected.items() if n}
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["collection"]] = counts.get(e["collection"], 0) + 1
    assert counts == expected
    assert {(e["action"], e["actor"]) for e in entries} == {("create", "seed:seed.json")}
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    # Parents before children, and each entry is the record as the API answers it.
    order = [e["collection"] for e in entries]
    assert order.index("meetings") > order.index("people")
    assert order.index("directives") > order.index("participants")
    # Shortcomings before the directives whose `addresses` name them (app.replay).
    assert max(i for i, c in enumerate(order) if c == "shortcomings") < order.index("directives")
    for e in entries:
        if e["collection"] == "citations":
            continue
        r = client.get(record_path(e))
        assert r.status_code == 200
        assert r.json() == e["data"]  # links included (a directive's assignees and addresses)
        assert e["record_slug"] == e["data"].get("slug")


def test_create_person_writes_an_entry_with_the_actor(client: TestClient, engine: Engine) -> None:
    from tests.conftest import write_key

    before = last(client)
    headers = write_key(engine, "secretariat")
    r = client.post(
        "/api/v1/people", json={"slug": "tran-thi-b", "full_name": "Trần Thị Bích"}, headers=headers
    )
    assert r.status_code == 201
    (entry,) = after(client, before)
    assert entry["collection"] == "people"
    assert entry["action"] == "create"
    assert entry["actor"] == "secretariat"
    assert entry["record_id"] == r.json()["id"]
    assert entry["record_slug"] == "tran-thi-b"
    assert entry["data"] == r.json()
    assert entry["data"]["full_name"] == "Trần Thị Bích"  # NFC, every diacritic


def test_change_data_is_stored_as_compact_utf8_json(client: TestClient, engine: Engine) -> None:
    """The JSON text in the database keeps Vietnamese as it is (not \\u-escaped: half the room),
    for the seed load's entries as for an API write's, and in the records' own JSON columns."""
    from tests.conftest import write_key

    r = client.post(
        "/api/v1/people", json={"slug": "tran-thi-b", "full_name": "Trần Thị Bích"}, headers=write_key(engine)
    )
    assert r.status_code == 201
    with engine.connect() as conn:
        texts = (
            conn.execute(text("SELECT CAST(data AS TEXT) FROM change WHERE data IS NOT NULL")).scalars().all()
        )
        addressees = conn.execute(text("SELECT CAST(addressees AS TEXT) FROM directive")).scalars().all()
    assert any("Trần Thị Bích" in s for s in texts)  # the API's write
    assert any("Bến Tre" in s for s in texts)  # the seed load's
    for s in [*texts, *addressees]:
        assert "\\u" not in s, s[:200]
        assert s == json.dumps(json.loads(s), ensure_ascii=False, separators=(",", ":")), s[:200]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/meetings", NEW_MEETING),
        ("/api/v1/shortcomings", NEW_SHORTCOMING),
        ("/api/v1/findings", NEW_FINDING),
        ("/api/v1/documents", NEW_DOCUMENT),
    ],
)
def test_create_record_writes_an_entry(
    client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    before = last(client)
    r = client.post(path, json=body, headers=auth)
    assert r.status_code == 201, r.text
    (entry,) = after(client, before)
    assert (entry["collection"], entry["action"], entry["actor"]) == (
        path.rsplit("/", 1)[1],
        "create",
        "writer",
    )
    assert entry["data"] == r.json()


def test_idempotent_replay_writes_no_second_entry(client: TestClient, auth: dict[str, str]) -> None:
    before = last(client)
    headers = {**auth, "Idempotency-Key": "k-1"}
    body = {"slug": "le-van-c", "full_name": "Lê Văn C"}
    assert client.post("/api/v1/people", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/people", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert len(after(client, before)) == 1


def test_update_directive_writes_an_entry_and_bumps_updated_at(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    later = dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    monkeypatch.setattr("app.writes.utcnow", lambda: later)
    before = last(client)
    etag = client.get("/api/v1/directives/3").headers["etag"]
    r = client.patch(
        "/api/v1/directives/3", json={"status": "in_progress"}, headers={**auth, "If-Match": etag}
    )
    assert r.status_code == 200
    assert r.json()["updated_at"] == "2030-05-06T07:08:09Z"
    (entry,) = after(client, before)
    assert (entry["collection"], entry["record_id"], entry["action"]) == ("directives", 3, "update")
    assert entry["at"] == "2030-05-06T07:08:09Z"
    assert entry["data"] == r.json()
    assert entry["data"]["status"] == "in_progress"


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/api/v1/meetings/1", {"summary": "Tóm tắt"}),
        ("/api/v1/people/1", {"full_name": "Võ Thành Hạo"}),
        ("/api/v1/participants/1", {"title": "Bí thư Tỉnh ủy"}),
        ("/api/v1/directives/1", {"due_date": "2030-12-31"}),
        ("/api/v1/shortcomings/1", {"concerns": []}),
        ("/api/v1/findings/1", {"text": "Tăng trưởng"}),
        ("/api/v1/documents/1", {"issued_on": None}),
    ],
)
def test_update_record_bumps_updated_at_and_writes_an_entry(
    client: TestClient,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    change: dict[str, Any],
) -> None:
    later = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    monkeypatch.setattr("app.writes.utcnow", lambda: later)
    before = last(client)
    old = client.get(path)
    r = client.patch(path, json=change, headers={**auth, "If-Match": old.headers["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["updated_at"] == "2031-01-02T03:04:05Z"
    assert r.json()["created_at"] == old.json()["created_at"]
    (entry,) = after(client, before)
    assert entry["action"] == "update"
    assert entry["data"] == r.json()


def test_delete_person_leaves_a_tombstone(client: TestClient, auth: dict[str, str]) -> None:
    made = client.post("/api/v1/people", json={"slug": "le-van-d", "full_name": "Lê Văn D"}, headers=auth)
    before = last(client)
    r = client.delete(made.headers["location"], headers={**auth, "If-Match": made.headers["etag"]})
    assert r.status_code == 204
    (entry,) = after(client, before)
    assert entry == {
        **entry,
        "collection": "people",
        "record_id": made.json()["id"],
        "record_slug": "le-van-d",
        "action": "delete",
        "actor": "writer",
        "data": None,
    }


def test_failed_write_writes_no_entry(client: TestClient, auth: dict[str, str]) -> None:
    before = last(client)
    etag = client.get("/api/v1/people/1").headers["etag"]
    r = client.delete("/api/v1/people/1", headers={**auth, "If-Match": etag})  # takes part: 409
    assert r.status_code == 409
    assert after(client, before) == []


def test_delete_meeting_gives_each_deleted_record_an_entry(
    client: TestClient, auth: dict[str, str], seed: SeedFile
) -> None:
    (m,) = seed.meetings
    before = last(client)
    etag = client.get(f"/api/v1/meetings/{m.slug}").headers["etag"]
    r = client.delete(f"/api/v1/meetings/{m.slug}", headers={**auth, "If-Match": etag})
    assert r.status_code == 204
    entries = after(client, before)
    assert {(e["action"], e["actor"]) for e in entries} == {("delete", "writer")}
    assert all(e["data"] is None for e in entries)
    slugs = sorted((e["collection"], e["record_slug"] or "") for e in entries)
    expected = [("meetings", m.slug)]
    for kind in ("participants", "directives", "shortcomings", "findings"):
        expected += [(kind, item.slug) for item in getattr(m, kind)]
    expected += [("assignees", a.slug or "") for d in m.directives for a in d.assignees]
    expected += [("citations", f"{m.slug}/{c.document}") for c in m.documents]
    assert slugs == sorted(expected)
    # Children first (directives before the participants who issued them), the meeting last.
    order = [e["collection"] for e in entries]
    assert order[-1] == "meetings"
    assert max(i for i, c in enumerate(order) if c == "directives") < order.index("participants")


# --- the links in the feed ------------------------------------------------------------------------

LATER = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
D3 = "/api/v1/directives/3"


def ok(r: Any, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json() if r.content else {}
    return body


def if_match(client: TestClient, auth: dict[str, str], path: str) -> dict[str, str]:
    return {**auth, "If-Match": client.get(path).headers["etag"]}


def test_create_assignee_writes_entries_for_it_and_its_directive(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.writes.utcnow", lambda: LATER)
    before = last(client)
    body = {"role": "lead", "organization": "Sở Tư pháp", "source_quote": "giao Sở Tư pháp chủ trì"}
    assignee = ok(client.post(f"{D3}/assignees", json=body, headers=auth), 201)
    entries = after(client, before)
    assert kinds(entries) == [("assignees", "create", assignee["id"]), ("directives", "update", 3)]
    assert {(e["actor"], e["at"]) for e in entries} == {("writer", "2031-02-03T04:05:06Z")}
    assert entries[0]["data"] == assignee
    directive = entries[1]["data"]
    assert directive["assignees"][-1] == assignee
    assert directive["updated_at"] == "2031-02-03T04:05:06Z"
    assert_entries_are_the_api_answers(client, entries)


def test_update_and_delete_assignee_write_entries_for_its_directive(
    client: TestClient, auth: dict[str, str]
) -> None:
    made = client.post(f"{D3}/assignees", json={"role": "lead", "organization": "Sở Nội vụ"}, headers=auth)
    path = made.headers["location"]
    before = last(client)
    changed = ok(client.patch(path, json={"role": "monitoring"}, headers=if_match(client, auth, path)))
    entries = after(client, before)
    assert kinds(entries) == [("assignees", "update", changed["id"]), ("directives", "update", 3)]
    assert entries[0]["data"]["role"] == "monitoring"
    assert_entries_are_the_api_answers(client, entries)

    before = last(client)
    ok(client.delete(path, headers=if_match(client, auth, path)), 204)
    entries = after(client, before)
    assert kinds(entries) == [("assignees", "delete", changed["id"]), ("directives", "update", 3)]
    assert {e["actor"] for e in entries} == {"writer"}
    assert entries[0]["data"] is None
    assert changed["id"] not in [a["id"] for a in entries[1]["data"]["assignees"]]
    assert_entries_are_the_api_answers(client, entries)


def test_create_directive_with_addresses_writes_entries_for_the_shortcomings(
    client: TestClient, auth: dict[str, str]
) -> None:
    before = last(client)
    directive = ok(
        client.post("/api/v1/directives", json=new_directive(client, addresses=[1]), headers=auth), 201
    )
    entries = after(client, before)
    assert kinds(entries) == [("directives", "create", directive["id"]), ("shortcomings", "update", 1)]
    assert directive["id"] in entries[1]["data"]["addressed_by"]
    assert entries[1]["data"]["updated_at"] == directive["updated_at"]  # touched by the write
    assert_entries_are_the_api_answers(client, entries)


def test_update_directive_addresses_writes_entries_for_the_shortcomings_changed(
    client: TestClient, auth: dict[str, str]
) -> None:
    old = set(client.get(D3).json()["addresses"])
    before = last(client)
    ok(client.patch(D3, json={"addresses": [1, 3]}, headers=if_match(client, auth, D3)))
    entries = after(client, before)
    assert kinds(entries) == [("directives", "update", 3)] + [
        ("shortcomings", "update", i) for i in sorted(old ^ {1, 3})
    ]
    assert_entries_are_the_api_answers(client, entries)

    before = last(client)
    ok(client.patch(D3, json={"addresses": []}, headers=if_match(client, auth, D3)))
    entries = after(client, before)
    assert kinds(entries) == [
        ("directives", "update", 3),
        ("shortcomings", "update", 1),
        ("shortcomings", "update", 3),
    ]
    assert all(3 not in e["data"]["addressed_by"] for e in entries[1:])
    assert_entries_are_the_api_answers(client, entries)

    before = last(client)  # the same list again: nothing changes, nothing is written
    ok(client.patch(D3, json={"addresses": []}, headers=if_match(client, auth, D3)))
    assert after(client, before) == []


def test_delete_shortcoming_writes_updates_of_the_directives_that_addressed_it(
    client: TestClient, auth: dict[str, str]
) -> None:
    shortcoming = ok(client.post("/api/v1/shortcomings", json=NEW_SHORTCOMING, headers=auth), 201)
    addresses = client.get(D3).json()["addresses"]
    ok(
        client.patch(
            D3, json={"addresses": [*addresses, shortcoming["id"]]}, headers=if_match(client, auth, D3)
        )
    )
    path = f"/api/v1/shortcomings/{shortcoming['id']}"
    before = last(client)
    ok(client.delete(path, headers=if_match(client, auth, path)), 204)
    entries = after(client, before)
    assert kinds(entries) == [("directives", "update", 3), ("shortcomings", "delete", shortcoming["id"])]
    assert entries[0]["data"]["addresses"] == addresses
    assert_entries_are_the_api_answers(client, entries)


def test_delete_directive_gives_its_links_entries(client: TestClient, auth: dict[str, str]) -> None:
    directive = ok(
        client.post("/api/v1/directives", json=new_directive(client, addresses=[1]), headers=auth), 201
    )
    d = f"/api/v1/directives/{directive['id']}"
    assignee = ok(
        client.post(f"{d}/assignees", json={"role": "lead", "organization": "Sở Y tế"}, headers=auth), 201
    )
    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    review = ok(
        client.post(
            f"/api/v1/meetings/{meeting['id']}/reviews",
            json={"directive_id": directive["id"], "outcome": "Chưa hoàn thành"},
            headers=auth,
        ),
        201,
    )
    before = last(client)
    ok(client.delete(d, headers=if_match(client, auth, d)), 204)
    entries = after(client, before)
    assert kinds(entries) == [
        ("assignees", "delete", assignee["id"]),
        ("reviews", "delete", review["id"]),
        ("shortcomings", "update", 1),
        ("directives", "delete", directive["id"]),
    ]
    assert directive["id"] not in entries[2]["data"]["addressed_by"]
    assert_entries_are_the_api_answers(client, entries)


def test_delete_meeting_gives_entries_for_its_reviews_and_updates_only_records_that_stay(
    client: TestClient, auth: dict[str, str]
) -> None:
    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    review = ok(
        client.post(
            f"/api/v1/meetings/{meeting['id']}/reviews",
            json={"directive_id": 3, "outcome": "Đạt"},
            headers=auth,
        ),
        201,
    )
    shortcoming = ok(
        client.post(
            "/api/v1/shortcomings", json={**NEW_SHORTCOMING, "meeting_id": meeting["id"]}, headers=auth
        ),
        201,
    )
    part = ok(
        client.post(
            "/api/v1/participants",
            json={
                "slug": "test-meeting-vo-thanh-hao",
                "meeting_id": meeting["id"],
                "person_id": 1,
                "title": "Bí thư",
                "role": "chair",
                "source_quote": "trích dẫn",
            },
            headers=auth,
        ),
        201,
    )
    own = ok(
        client.post(
            "/api/v1/directives",
            json=new_directive(
                client, meeting_id=meeting["id"], issued_by=part["id"], addresses=[shortcoming["id"]]
            ),
            headers=auth,
        ),
        201,
    )
    addresses = client.get(D3).json()["addresses"]
    ok(
        client.patch(
            D3, json={"addresses": [*addresses, shortcoming["id"]]}, headers=if_match(client, auth, D3)
        )
    )
    m = f"/api/v1/meetings/{meeting['id']}"
    before = last(client)
    ok(client.delete(m, headers=if_match(client, auth, m)), 204)
    entries = after(client, before)
    # The shortcoming is unlinked from its own meeting's directive before both go: no update
    # entry for it, only its tombstone; the seeded directive that addressed it stays, updated.
    assert kinds(entries) == [
        ("reviews", "delete", review["id"]),
        ("directives", "delete", own["id"]),
        ("directives", "update", 3),
        ("shortcomings", "delete", shortcoming["id"]),
        ("participants", "delete", part["id"]),
        ("meetings", "delete", meeting["id"]),
    ]
    assert entries[2]["data"]["addresses"] == addresses
    assert_entries_are_the_api_answers(client, entries)


def test_create_and_delete_review_write_entries(client: TestClient, auth: dict[str, str]) -> None:
    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    before = last(client)
    r = client.post(
        f"/api/v1/meetings/{meeting['id']}/reviews",
        json={"directive_id": 3, "outcome": "Đã đăng ký làm việc với các sở, ngành"},
        headers=auth,
    )
    review = ok(r, 201)
    (entry,) = after(client, before)  # a directive does not show its reviews: no update of it
    assert (entry["collection"], entry["action"], entry["record_id"], entry["record_slug"]) == (
        "reviews",
        "create",
        review["id"],
        None,
    )
    assert entry["data"] == review
    before = last(client)
    ok(client.delete(r.headers["location"], headers={**auth, "If-Match": r.headers["etag"]}), 204)
    (entry,) = after(client, before)
    assert (entry["collection"], entry["action"], entry["actor"], entry["data"]) == (
        "reviews",
        "delete",
        "writer",
        None,
    )


def test_create_and_delete_citation_write_entries(client: TestClient, auth: dict[str, str]) -> None:
    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    document = client.get("/api/v1/documents/2").json()
    before = last(client)
    body = {"document_id": 2, "source_quote": "Nghị quyết số 19-NQ/TW"}
    r = client.post(f"/api/v1/meetings/{meeting['id']}/documents", json=body, headers=auth)
    assert r.status_code == 201, r.text
    (entry,) = after(client, before)
    assert entry == {
        **entry,
        "collection": "citations",
        "record_id": None,
        "record_slug": f"test-meeting/{document['slug']}",
        "action": "create",
        "actor": "writer",
        "data": {"meeting_id": meeting["id"], "document_id": 2, "source_quote": "Nghị quyết số 19-NQ/TW"},
    }
    before = last(client)
    ok(client.delete(r.headers["location"], headers={**auth, "If-Match": r.headers["etag"]}), 204)
    (entry,) = after(client, before)
    assert (entry["collection"], entry["action"], entry["actor"], entry["record_slug"], entry["data"]) == (
        "citations",
        "delete",
        "writer",
        f"test-meeting/{document['slug']}",
        None,
    )


def test_failed_link_write_writes_no_entry(client: TestClient, auth: dict[str, str]) -> None:
    before = last(client)
    r = client.post(f"{D3}/assignees", json={"role": "lead"}, headers=auth)  # neither person nor org
    assert r.status_code == 422
    r = client.patch(D3, json={"addresses": [1, 4242]}, headers=if_match(client, auth, D3))
    assert r.status_code == 422
    assert after(client, before) == []


# --- reading the feed -----------------------------------------------------------------------------


def test_read_changes_pages_by_cursor_and_by_since(client: TestClient) -> None:
    everything = feed(client)
    r = client.get("/api/v1/changes", params={"limit": 7})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == len(everything)
    assert body["items"] == everything[:7]
    assert body["last_seq"] == everything[6]["seq"]
    assert (
        r.headers["link"]
        == f'<http://testserver/api/v1/changes?limit=7&cursor={body["next_cursor"]}>; rel="next"'
    )
    # Resuming with since=last_seq, page after page, gives every entry once, in order.
    got: list[dict[str, Any]] = []
    since = 0
    while True:
        page = client.get("/api/v1/changes", params={"since": since, "limit": 7}).json()
        got.extend(page["items"])
        if not page["items"]:
            assert page["last_seq"] == since
            break
        since = page["last_seq"]
    assert got == everything
    assert walk(client, "/api/v1/changes", limit=3) == everything


def test_read_changes_of_one_collection(client: TestClient) -> None:
    everything = feed(client)
    r = client.get("/api/v1/changes", params={"collection": "directives", "limit": 100})
    assert r.status_code == 200
    assert r.json()["items"] == [e for e in everything if e["collection"] == "directives"]
    assert r.json()["total"] == 10
    assert client.get("/api/v1/changes", params={"collection": "nothing"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": -1}, "query.since"),
        ({"since": "x"}, "query.since"),
        ({"collection": "Directives!"}, "query.collection"),
        ({"limit": 0}, "query.limit"),
        ({"cursor": "eyJzIjoiaWQiLCJ2IjpbMV19"}, "query.cursor"),
    ],
)
def test_read_changes_bad_parameters_are_422(client: TestClient, params: dict[str, Any], field: str) -> None:
    r = client.get("/api/v1/changes", params=params)
    assert r.status_code == 422
    assert [p["name"] for p in problem_of(r)["invalid_params"]] == [field]  # type: ignore[union-attr]


def test_read_changes_commit_order_under_concurrent_writers(
    client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    """A transaction holding an entry not yet committed holds back every later writer's commit
    (the feed's lock on PostgreSQL, BEGIN IMMEDIATE on SQLite): no reader sees a later seq first."""
    before = last(client)
    done = threading.Event()
    result: list[int] = []

    def other_writer() -> None:
        r = client.post("/api/v1/people", json={"slug": "ngo-van-e", "full_name": "Ngô Văn E"}, headers=auth)
        result.append(r.status_code)
        done.set()

    with writer(engine).begin() as conn:
        person = PersonPublic.model_validate(client.get("/api/v1/people/1").json())
        changes.record(conn, [changes.entry("people", ChangeAction.update, "first", person)])
        thread = threading.Thread(target=other_writer)
        thread.start()
        time.sleep(1.0)
        assert not done.is_set()  # waiting for the first transaction
        assert after(client, before) == []  # nothing visible yet
    thread.join(30)
    assert result == [201]
    entries = after(client, before)
    assert [(e["actor"], e["collection"]) for e in entries] == [("first", "people"), ("writer", "people")]
    assert entries[0]["seq"] < entries[1]["seq"]


# --- updated_since --------------------------------------------------------------------------------


def set_updated_at(engine: Engine, name: str, record_id: int, when: dt.datetime) -> None:
    t = TABLES[name]
    with writer(engine).begin() as conn:
        conn.execute(update(t).where(t.c.id == record_id).values(updated_at=when))


WHEN = dt.datetime(2030, 1, 1, 0, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_read_collection_updated_since(client: TestClient, engine: Engine, name: str) -> None:
    everything = walk(client, f"/api/v1/{name}", limit=100)
    a, b = everything[0]["id"], everything[-1]["id"]  # the same record when there is one (meetings)
    set_updated_at(engine, name, a, WHEN)
    set_updated_at(engine, name, b, WHEN + dt.timedelta(hours=1))
    r = client.get(f"/api/v1/{name}", params={"updated_since": "2030-01-01T00:00:00Z"})
    assert r.status_code == 200
    assert sorted(i["id"] for i in r.json()["items"]) == sorted({a, b})
    assert r.json()["total"] == len({a, b})
    # The same instant at another offset; and a later one that only b passed.
    same = client.get(f"/api/v1/{name}", params={"updated_since": "2030-01-01T07:00:00+07:00"})
    assert same.json()["items"] == r.json()["items"]
    later = client.get(f"/api/v1/{name}", params={"updated_since": "2030-01-01T00:00:00.5Z"})
    assert [i["id"] for i in later.json()["items"]] == [b]
    # With keyset pages.
    assert [
        i["id"] for i in walk(client, f"/api/v1/{name}", limit=1, updated_since="2030-01-01T00:00:00Z")
    ] == [i["id"] for i in r.json()["items"]]
    # Long ago: everything.
    old = client.get(f"/api/v1/{name}", params={"updated_since": "2000-01-01T00:00:00+00:00", "limit": 100})
    assert old.json()["total"] == len(everything)


def test_read_directives_updated_since_with_other_filters(client: TestClient, engine: Engine) -> None:
    set_updated_at(engine, "directives", 3, WHEN)
    set_updated_at(engine, "directives", 4, WHEN)
    r = client.get("/api/v1/directives", params={"updated_since": "2030-01-01T00:00:00Z", "q": "dang ky"})
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [3]
    r = client.get("/api/v1/directives", params={"updated_since": "2030-01-01T00:00:00Z", "sort": "-id"})
    assert [i["id"] for i in r.json()["items"]] == [4, 3]


@pytest.mark.parametrize("nested", NESTED)
def test_read_meeting_records_updated_since(client: TestClient, engine: Engine, nested: str) -> None:
    items = client.get(f"/api/v1/meetings/1/{nested}").json()["items"]
    target = items[-1]["id"]
    set_updated_at(engine, nested, target, WHEN)
    r = client.get(f"/api/v1/meetings/1/{nested}", params={"updated_since": "2029-12-31T23:59:59Z"})
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [target]


def test_read_document_meetings_updated_since(client: TestClient, engine: Engine) -> None:
    r = client.get("/api/v1/documents/1/meetings", params={"updated_since": "2029-12-31T23:59:59Z"})
    assert r.status_code == 200
    assert r.json()["items"] == []
    set_updated_at(engine, "meetings", 1, WHEN)
    r = client.get("/api/v1/documents/1/meetings", params={"updated_since": "2029-12-31T23:59:59Z"})
    assert [i["id"] for i in r.json()["items"]] == [1]


def wait_for_a_later_second(instant: str) -> None:
    """Sleep until the clock is in a later second than `instant` (no sleep if it is already)."""
    later = dt.datetime.fromisoformat(instant) + dt.timedelta(seconds=1)
    while (now := dt.datetime.now(dt.UTC)) < later:
        time.sleep((later - now).total_seconds())


def test_read_collection_updated_since_after_a_patch(client: TestClient, auth: dict[str, str]) -> None:
    everything = client.get("/api/v1/findings").json()["items"]
    newest = max(i["updated_at"] for i in everything)
    etag = client.get("/api/v1/findings/2").headers["etag"]
    wait_for_a_later_second(newest)  # updated_at counts seconds
    r = client.patch("/api/v1/findings/2", json={"text": "Tăng trưởng"}, headers={**auth, "If-Match": etag})
    assert r.status_code == 200
    since = (dt.datetime.fromisoformat(newest) + dt.timedelta(seconds=1)).isoformat()
    got = client.get("/api/v1/findings", params={"updated_since": since})
    assert [i["id"] for i in got.json()["items"]] == [2]


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-11-26",
        "2026-11-26T08:00:00",
        "1700000000",
        "2026-13-01T00:00:00Z",
        "2026-11-26T08:00Z",
    ],
)
def test_read_collection_bad_updated_since_is_422(client: TestClient, value: str) -> None:
    r = client.get("/api/v1/meetings", params={"updated_since": value})
    assert r.status_code == 422
    assert [p["name"] for p in problem_of(r)["invalid_params"]] == ["query.updated_since"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "total"), [("0001-01-01T00:00:00+01:00", 1), ("9999-12-31T23:59:59.5-01:00", 0)]
)
def test_read_collection_updated_since_at_the_ends_of_time(
    client: TestClient, value: str, total: int
) -> None:
    r = client.get("/api/v1/meetings", params={"updated_since": value})
    assert r.status_code == 200
    assert r.json()["total"] == total


# --- replaying the feed ---------------------------------------------------------------------------


@pytest.fixture
def replica(tmp_path: Path) -> Iterator[Engine]:
    """An empty database with the schema (no seed)."""
    s = make_settings(tmp_path / "replica", load_seed_on_start=False)
    if s.database_url.startswith("sqlite"):
        (tmp_path / "replica").mkdir()
        s = make_settings(tmp_path / "replica", load_seed_on_start=False)
    engine = create_db_engine(s)
    create_schema(engine)
    yield engine
    engine.dispose()
    drop_settings_schema(s)


def answers(engine: Engine) -> dict[str, Any]:
    """What the API answers about every record, on this database."""
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        client = TestClient(app)
        out: dict[str, Any] = {}
        for name in COLLECTIONS:
            items = walk(client, f"/api/v1/{name}", limit=100)
            out[name] = items
            for item in items:
                r = client.get(f"/api/v1/{name}/{item['id']}")
                out[f"{name}/{item['id']}"] = (r.status_code, r.json(), r.headers["etag"])
        everything = ",".join(NESTED)
        for m in out["meetings"]:
            out[f"meeting/{m['id']}"] = client.get(
                f"/api/v1/meetings/{m['id']}", params={"include": everything}
            ).json()
            for nested in NESTED:
                out[f"meeting/{m['id']}/{nested}"] = walk(client, f"/api/v1/meetings/{m['id']}/{nested}")
        for d in out["documents"]:
            out[f"document/{d['id']}/meetings"] = walk(client, f"/api/v1/documents/{d['id']}/meetings")
        for m in out["meetings"]:
            out[f"meeting/{m['id']}/reviews"] = reviews = walk(client, f"/api/v1/meetings/{m['id']}/reviews")
            for item in reviews:
                r = client.get(f"/api/v1/meetings/{m['id']}/reviews/{item['id']}")
                out[f"review/{item['id']}"] = (r.status_code, r.json(), r.headers["etag"])
            for c in out[f"meeting/{m['id']}/documents"]:
                r = client.get(f"/api/v1/meetings/{m['id']}/documents/{c['id']}")
                out[f"citation/{m['id']}/{c['id']}"] = (r.status_code, r.json(), r.headers["etag"])
        for d in out["directives"]:
            out[f"directive/{d['id']}/reviews"] = walk(client, f"/api/v1/directives/{d['id']}/reviews")
            out[f"directive/{d['id']}/assignees"] = assignees = walk(
                client, f"/api/v1/directives/{d['id']}/assignees"
            )
            for item in assignees:
                r = client.get(f"/api/v1/directives/{d['id']}/assignees/{item['id']}")
                out[f"assignee/{item['id']}"] = (r.status_code, r.json(), r.headers["etag"])
        out["stats"] = client.get("/api/v1/stats").json()
        for q in ("dang ky", "quach thi", "so hoa", "ha tang so", "vo thanh hao"):
            out[f"search/{q}"] = [
                (h["type"], h["id"], h["title"])
                for h in client.get("/api/v1/search", params={"q": q}).json()["items"]
            ]
        out["people?name"] = walk(client, "/api/v1/people", name="quach")
        out["changes"] = walk(client, "/api/v1/changes", limit=100)
        return out
    finally:
        app.dependency_overrides.pop(get_engine, None)


def edit_through_the_api(client: TestClient, auth: dict[str, str]) -> None:
    """Creates, updates and deletes across the collections."""

    def ok(r: Any, status: int = 200) -> dict[str, Any]:
        assert r.status_code == status, r.text
        return r.json() if r.content else {}

    def etag(path: str) -> str:
        return client.get(path).headers["etag"]

    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    person = ok(
        client.post(
            "/api/v1/people", json={"slug": "quach-thi-d", "full_name": "Quách Thị Đào"}, headers=auth
        ),
        201,
    )
    part = ok(
        client.post(
            "/api/v1/participants",
            json={
                "slug": "test-meeting-quach-thi-d",
                "meeting_id": meeting["id"],
                "person_id": person["id"],
                "title": "Giám đốc Sở",
                "role": "chair",
                "source_quote": "trích dẫn",
            },
            headers=auth,
        ),
        201,
    )
    directive = ok(
        client.post(
            "/api/v1/directives",
            json={
                "slug": "test-meeting-so-hoa",
                "meeting_id": meeting["id"],
                "issued_by": part["id"],
                "text": "Khẩn trương hoàn thiện Đề án số hoá hồ sơ đất đai",
                "due_date": "2030-06-30",
                "source_quote": "trích dẫn",
            },
            headers=auth,
        ),
        201,
    )
    shortcoming = ok(
        client.post(
            "/api/v1/shortcomings", json={**NEW_SHORTCOMING, "meeting_id": meeting["id"]}, headers=auth
        ),
        201,
    )
    finding = ok(
        client.post("/api/v1/findings", json={**NEW_FINDING, "meeting_id": meeting["id"]}, headers=auth), 201
    )
    document = ok(client.post("/api/v1/documents", json=NEW_DOCUMENT, headers=auth), 201)

    d = f"/api/v1/directives/{directive['id']}"
    ok(
        client.patch(
            d, json={"status": "in_progress", "status_note": "bắt đầu"}, headers={**auth, "If-Match": etag(d)}
        )
    )
    ok(client.patch(d, json={"status": "done"}, headers={**auth, "If-Match": etag(d)}))
    p = f"/api/v1/people/{person['id']}"
    ok(client.patch(p, json={"full_name": "Quách Thị Đào Hoa"}, headers={**auth, "If-Match": etag(p)}))
    m = f"/api/v1/meetings/{meeting['id']}"
    ok(
        client.patch(
            m,
            json={"summary": "Tóm tắt mới", "connection_points": ["Bến Tre"]},
            headers={**auth, "If-Match": etag(m)},
        )
    )
    doc = f"/api/v1/documents/{document['id']}"
    ok(
        client.patch(
            doc, json={"title": "Kế hoạch phát triển hạ tầng số"}, headers={**auth, "If-Match": etag(doc)}
        )
    )
    edit_links(client, auth, meeting, person, directive, shortcoming, document)
    f = f"/api/v1/findings/{finding['id']}"
    ok(client.delete(f, headers={**auth, "If-Match": etag(f)}), 204)
    ok(client.delete(doc, headers={**auth, "If-Match": etag(doc)}), 204)
    seeded = "/api/v1/directives/2"
    ok(client.patch(seeded, json={"status": "cancelled"}, headers={**auth, "If-Match": etag(seeded)}))
    ok(client.delete("/api/v1/meetings/1", headers={**auth, "If-Match": etag("/api/v1/meetings/1")}), 204)
    ok(client.delete("/api/v1/people/2", headers={**auth, "If-Match": etag("/api/v1/people/2")}), 204)


def edit_links(
    client: TestClient,
    auth: dict[str, str],
    meeting: dict[str, Any],
    person: dict[str, Any],
    directive: dict[str, Any],
    shortcoming: dict[str, Any],
    document: dict[str, Any],
) -> None:
    """Link writes of every kind: assignees, addresses, reviews and citations (some of them
    on the seeded meeting 1, which edit_through_the_api then deletes with all it has)."""

    def etag(path: str) -> dict[str, str]:
        return if_match(client, auth, path)

    d = f"/api/v1/directives/{directive['id']}"
    ok(client.post(f"{d}/assignees", json={"role": "lead", "person_id": person["id"]}, headers=auth), 201)
    org = client.post(
        f"{d}/assignees", json={"role": "coordinating", "organization": "Sở Tài chính"}, headers=auth
    )
    ok(org, 201)
    ok(
        client.patch(
            org.headers["location"], json={"role": "monitoring"}, headers=etag(org.headers["location"])
        )
    )
    gone = ok(
        client.post(f"{D3}/assignees", json={"role": "lead", "organization": "Sở Nội vụ"}, headers=auth), 201
    )
    ok(client.delete(f"{D3}/assignees/{gone['id']}", headers=etag(f"{D3}/assignees/{gone['id']}")), 204)
    ok(
        client.post(
            f"{D3}/assignees", json={"role": "monitoring", "organization": "Ủy ban MTTQ"}, headers=auth
        ),
        201,
    )
    # addresses: the new directive and a seeded one answer the new shortcoming; another one
    # answered, then deleted; and one of the seed's shortcomings.
    other = ok(
        client.post(
            "/api/v1/shortcomings",
            json={**NEW_SHORTCOMING, "slug": "new-shortcoming-2", "meeting_id": meeting["id"]},
            headers=auth,
        ),
        201,
    )
    ok(client.patch(d, json={"addresses": [shortcoming["id"], other["id"], 1]}, headers=etag(d)))
    ok(client.patch(D3, json={"addresses": [shortcoming["id"]]}, headers=etag(D3)))
    o = f"/api/v1/shortcomings/{other['id']}"
    ok(client.delete(o, headers=etag(o)), 204)
    # reviews: of a seeded directive (deleted with meeting 1), and of the new directive by a
    # still later meeting (kept); one made and deleted.
    reviews = f"/api/v1/meetings/{meeting['id']}/reviews"
    ok(client.post(reviews, json={"directive_id": 3, "outcome": "Đã làm việc với các sở"}, headers=auth), 201)
    r = client.post(reviews, json={"directive_id": 4, "outcome": "Chưa rà soát"}, headers=auth)
    ok(r, 201)
    ok(client.delete(r.headers["location"], headers=etag(r.headers["location"])), 204)
    later = ok(
        client.post(
            "/api/v1/meetings",
            json={**NEW_MEETING, "slug": "test-meeting-2", "date": "2030-06-01", "starts_at": None},
            headers=auth,
        ),
        201,
    )
    ok(
        client.post(
            f"/api/v1/meetings/{later['id']}/reviews",
            json={"directive_id": directive["id"], "outcome": "Hoàn thành đúng hạn", "source_quote": "trích"},
            headers=auth,
        ),
        201,
    )
    # citations: the seed's document 2 cited (kept); the new document cited then withdrawn
    # (edit_through_the_api then deletes the document).
    cites = f"/api/v1/meetings/{meeting['id']}/documents"
    ok(client.post(cites, json={"document_id": 2, "source_quote": "Nghị quyết số 19"}, headers=auth), 201)
    c = client.post(cites, json={"document_id": document["id"], "source_quote": "Kế hoạch"}, headers=auth)
    ok(c, 201)
    ok(client.delete(c.headers["location"], headers={**auth, "If-Match": c.headers["etag"]}), 204)


def test_replay_changes_into_an_empty_database_gives_the_same_answers(
    client: TestClient, auth: dict[str, str], engine: Engine, replica: Engine, tmp_path: Path
) -> None:
    edit_through_the_api(client, auth)
    # As a consumer would: the feed from since=0 (seed load included), page by page, to a file.
    pages = []
    since = 0
    while True:
        page = client.get("/api/v1/changes", params={"since": since, "limit": 17}).json()
        if not page["items"]:
            break
        pages.append(page)
        since = page["last_seq"]
    assert {e["actor"] for p in pages for e in p["items"]} == {"seed:seed.json", "writer"}
    saved = tmp_path / "feed.json"
    saved.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")

    report = replay(replica, read_file(saved), batch=10)
    assert report.applied == sum(len(p["items"]) for p in pages)
    assert report.last_seq == since

    expected = answers(engine)
    got = answers(replica)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key
    assert expected["meetings"]  # the new meetings, the seeded one deleted
    assert sorted(m["slug"] for m in expected["meetings"]) == ["test-meeting", "test-meeting-2"]
    # The links the edits left are there to compare (and were replayed).
    directive = next(d for d in expected["directives"] if d["slug"] == "test-meeting-so-hoa")
    assert [a["role"] for a in directive["assignees"]] == ["lead", "monitoring"]
    assert len(directive["addresses"]) == 1
    assert len(expected[f"directive/{directive['id']}/reviews"]) == 1
    collections = {e["collection"] for e in expected["changes"]}
    assert {"assignees", "reviews", "citations"} <= collections

    # Again: nothing new to apply. And the copy takes new records with new ids.
    assert replay(replica, read_file(saved)).applied == 0
    app.dependency_overrides[get_engine] = lambda: replica
    from tests.conftest import write_key

    r = TestClient(app).post(
        "/api/v1/people", json={"slug": "ngo-van-e", "full_name": "Ngô Văn E"}, headers=write_key(replica)
    )
    assert r.status_code == 201, r.text
    with replica.connect() as conn:
        assert r.json()["id"] == conn.execute(select(func.max(person_t.c.id))).scalar_one()
        assert r.json()["id"] > max(p["id"] for p in expected["people"])


def test_replay_changes_resumes_after_the_last_entry_it_has(
    client: TestClient, auth: dict[str, str], engine: Engine, replica: Engine
) -> None:
    first = feed(client)
    assert replay(replica, iter(first)).applied == len(first)
    edit_through_the_api(client, auth)
    more = feed(client, since=first[-1]["seq"])
    report = replay(replica, iter(first + more))  # the old entries again: skipped
    assert (report.applied, report.skipped) == (len(more), len(first))
    assert answers(replica) == answers(engine)


def test_changes_replay_command(
    client: TestClient, replica: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.__main__ import main
    from app.config import get_settings

    lines = tmp_path / "feed.ndjson"
    lines.write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in feed(client)), encoding="utf-8"
    )
    url = replica.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    schema = replica.dialect.default_schema_name if replica.dialect.name == "postgresql" else None
    if replica.dialect.name == "postgresql":
        with replica.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        monkeypatch.setenv("DATABASE_SCHEMA", schema)
    get_settings.cache_clear()
    try:
        assert main(["changes", "replay", "--from", str(lines)]) == 0
        assert main(["changes", "replay", "--from", str(lines)]) == 0  # nothing new
    finally:
        get_settings.cache_clear()
    assert answers(replica)["people"] == walk(client, "/api/v1/people", limit=100)


def test_load_seed_merge_writes_update_entries_and_replays(
    client: TestClient, engine: Engine, replica: Engine, tmp_path: Path
) -> None:
    # A merging seed load (a directive reworded, a person renamed, a citation's quote
    # changed, a finding added) is in the feed as it is in the database: a replayed
    # copy gives the same answers.
    from app.seed_schema import read_seed
    from app.seeding import load_seed
    from tests.test_exports import edited_seed, write_file

    before = last(client)
    edited = write_file(tmp_path / "edit.json", edited_seed())
    load_seed(engine, read_seed(edited), file=edited)
    entries = after(client, before)
    assert {e["actor"] for e in entries} == {"seed:edit.json"}
    kinds = sorted((e["collection"], e["action"]) for e in entries)
    assert kinds == [
        ("citations", "update"),
        ("directives", "update"),
        ("findings", "create"),
        ("meetings", "update"),
        ("people", "update"),
    ]
    reworded = next(e for e in entries if e["collection"] == "directives")
    assert reworded["data"]["text"] == "rà soát quy hoạch cán bộ kỹ lưỡng"
    assert replay(replica, iter(feed(client))).applied == len(feed(client))
    assert answers(replica) == answers(engine)


def test_record_seed_gives_entries_for_the_links_a_load_made(
    client: TestClient, auth: dict[str, str], engine: Engine, replica: Engine
) -> None:
    # As app.seeding.load_seed does: mark, write rows (here by hand: a new assignee of an old
    # directive, a new directive addressing an old shortcoming, a review), then record_seed.
    meeting = ok(client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth), 201)
    issued_by = client.get("/api/v1/directives/1").json()["issued_by"]
    before = last(client)
    now = dt.datetime(2031, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    stamps = {"created_at": now, "updated_at": now}
    with writer(engine).begin() as conn:
        mark = changes.seed_mark(conn)
        assignee_id = conn.execute(
            insert(assignee_t)
            .values(
                directive_id=3,
                role="coordinating",
                organization="Sở Tài chính",
                organization_folded="so tai chinh",
                **stamps,
            )
            .returning(assignee_t.c.id)
        ).scalar_one()
        directive_id = conn.execute(
            insert(directive_t)
            .values(
                slug="ben-tre-2018-03-20-nq18-19-moi",
                meeting_id=1,
                issued_by=issued_by,
                text="Rà soát lại kế hoạch",
                addressees=[],
                status="open",
                source_quote="trích dẫn",
                **stamps,
            )
            .returning(directive_t.c.id)
        ).scalar_one()
        conn.execute(insert(addresses_t).values(directive_id=directive_id, shortcoming_id=1))
        review_id = conn.execute(
            insert(review_t)
            .values(meeting_id=meeting["id"], directive_id=3, outcome="Đạt", **stamps)
            .returning(review_t.c.id)
        ).scalar_one()
        changes.record_seed(conn, mark, "seed:links.json")
    entries = after(client, before)
    assert kinds(entries) == [
        ("shortcomings", "update", 1),  # a new directive addresses it
        ("directives", "create", directive_id),
        ("directives", "update", 3),  # a new assignee
        ("assignees", "create", assignee_id),
        ("reviews", "create", review_id),
    ]
    assert {e["actor"] for e in entries} == {"seed:links.json"}
    assert entries[0]["data"]["updated_at"] == entries[0]["at"]  # touched by the load
    assert entries[1]["data"]["addresses"] == [1]
    assert assignee_id in [a["id"] for a in entries[2]["data"]["assignees"]]
    assert_entries_are_the_api_answers(client, entries)
    # And a copy replaying the feed has the links.
    replay(replica, iter(feed(client)))
    assert answers(replica) == answers(engine)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's query plans")
def test_record_seed_reads_only_the_links_the_load_made(engine: Engine) -> None:
    """The links a load made to records the database had are found from the new links' end of
    a key: a load runs this after each chunk, and reading every link of the older records (the
    other column's index) made it quadratic."""
    seen: list[tuple[str, Any]] = []

    def spy(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "FROM directive_assignee" in statement or "FROM directive_shortcoming" in statement:
            seen.append((statement, parameters))

    with writer(engine).begin() as conn:
        mark = changes.seed_mark(conn)
        event.listen(conn, "before_cursor_execute", spy)
        changes._relinked(conn, mark)
        event.remove(conn, "before_cursor_execute", spy)
        plans = [
            " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in seen
        ]
    assert len(plans) == 2
    assert "SEARCH directive_assignee USING INTEGER PRIMARY KEY (rowid>?)" in plans[0]
    assert "directive_shortcoming USING COVERING INDEX" in plans[1]
    assert "(directive_id>?)" in plans[1]


def test_record_seed_keeps_the_loaders_updated_at_and_writes_one_entry_per_record(
    client: TestClient, engine: Engine
) -> None:
    # The loader reports directive 3 as updated (its links changed; it set updated_at itself).
    before = last(client)
    then = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with writer(engine).begin() as conn:
        mark = changes.seed_mark(conn)
        assignee_id = conn.execute(
            insert(assignee_t)
            .values(directive_id=3, role="lead", organization="Sở Y tế", created_at=then, updated_at=then)
            .returning(assignee_t.c.id)
        ).scalar_one()
        conn.execute(update(directive_t).where(directive_t.c.id == 3).values(updated_at=then))
        changes.record_seed(conn, mark, "seed:x.json", updated={"directives": [3]})
    entries = after(client, before)
    assert kinds(entries) == [("directives", "update", 3), ("assignees", "create", assignee_id)]
    assert entries[0]["data"]["updated_at"] == "2030-01-02T03:04:05Z"
    assert_entries_are_the_api_answers(client, entries)


def test_record_seed_create_entries_are_the_fast_read_paths_json(engine: Engine) -> None:
    """The create entries of a load are written by the database itself (one INSERT ... SELECT per
    collection, changes._insert_created): byte for byte the JSON of what the fast read path reads
    (its SELECT, Shape.record, json_text), compact, in id order, on both back ends."""
    counts = {}
    for resource in changes.SEEDED:
        collection = changes.collection_of(resource)
        with engine.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT record_id, record_slug, CAST(data AS TEXT) FROM change "
                    "WHERE collection = :c AND action = 'create' ORDER BY seq"
                ),
                {"c": collection},
            )
            stored = [tuple(r) for r in found]
        query = RawQuery(resource.fast_select.order_by(resource.table.c.id))
        with raw_cursor(engine) as cur:
            records = [resource.shape.record(r) for r in query.run(cur, engine.dialect)]
        assert stored == [(d["id"], d.get("slug"), json_text(d)) for d in records], collection
        counts[collection] = len(stored)
    assert all(counts[c] for c in ("people", "documents", "meetings", "directives", "assignees")), counts


@pytest.mark.skipif(BACKEND != "postgresql", reason="advisory locks are PostgreSQL's")
def test_schema_lock_is_the_schema_s_own(engine: Engine, tmp_path: Path) -> None:
    """Two deployments in schemas of one database (DATABASE_SCHEMA) do not wait for each other's
    start-up or change-feed locks; within one schema, the lock is taken once at a time."""
    from app.changes import CHANGE_LOCK, START_LOCK, schema_lock

    other_settings = make_settings(tmp_path)
    other = create_db_engine(other_settings)
    try:
        for key in (START_LOCK, CHANGE_LOCK):
            try_lock = schema_lock(key).replace("pg_advisory_xact_lock", "pg_try_advisory_xact_lock")
            with engine.connect() as holder, engine.connect() as same, other.connect() as elsewhere:
                holder.execute(text(schema_lock(key)))
                assert same.execute(text(try_lock)).scalar_one() is False
                assert elsewhere.execute(text(try_lock)).scalar_one() is True
                holder.rollback()
                assert same.execute(text(try_lock)).scalar_one() is True
    finally:
        other.dispose()
        drop_settings_schema(other_settings)
