"""Writes to meetings, people and directives: status codes, preconditions, conflicts, search sync."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth import create_key, limiter
from app.main import app
from app.models.apikey import Scope
from tests.conftest import problem_of


@pytest.fixture(autouse=True)
def _fresh_limiter() -> Iterator[None]:
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def auth(engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(engine, 'writer', Scope.write).key}"}


def new_directive(client: TestClient, **overrides: Any) -> dict[str, Any]:
    source = client.get("/api/v1/directives/1").json()
    return {
        "slug": "new-directive",
        "meeting_id": source["meeting_id"],
        "issued_by": source["issued_by"],
        "text": "Khẩn trương hoàn thiện Đề án số hoá hồ sơ đất đai",
        "addressees": ["Sở Tài nguyên và Môi trường"],
        "due_date": "2030-12-31",
        "source_quote": "trích dẫn",
        **overrides,
    }


NEW_MEETING = {
    "slug": "test-meeting",
    "title": "Họp kiểm thử",
    "date": "2030-01-02",
    "starts_at": "2030-01-02T08:00:00+07:00",
    "organizer": "UBND tỉnh",
    "format": "in_person",
    "purpose": "Kiểm thử",
    "summary": "Tóm tắt",
    "source_publisher": "Báo",
    "source_title": "Bài báo",
    "source_published_at": "2030-01-02T12:00:00+07:00",
}


class TestCreate:
    def test_directive_201_location_etag_then_get(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client), headers=auth)
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["location"] == f"/api/v1/directives/{body['id']}"
        assert body["status"] == "open"
        assert body["issued_by_name"]
        got = client.get(r.headers["location"])
        assert got.status_code == 200
        assert got.json() == body
        assert got.headers["etag"] == r.headers["etag"]
        assert client.get("/api/v1/directives/new-directive").json()["id"] == body["id"]
        assert (
            client.get(r.headers["location"], headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        )

    def test_meeting_and_person(self, client: TestClient, auth: dict[str, str]) -> None:
        m = client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth)
        assert m.status_code == 201, m.text
        assert m.json()["starts_at"] == "2030-01-02T08:00:00+07:00"
        assert client.get(m.headers["location"]).headers["etag"] == m.headers["etag"]
        p = client.post(
            "/api/v1/people", json={"slug": "tran-thi-b", "full_name": "Trần Thị Bích"}, headers=auth
        )
        assert p.status_code == 201, p.text
        found = client.get("/api/v1/people", params={"name": "tran thi bich"}).json()["items"]
        assert [x["id"] for x in found] == [p.json()["id"]]

    def test_search_finds_created_directive_by_folded_text(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client), headers=auth)
        assert r.status_code == 201
        hits = client.get("/api/v1/search", params={"q": "so hoa ho so dat dai"}).json()["items"]
        assert {"type": "directive", "id": r.json()["id"]} in [
            {"type": h["type"], "id": h["id"]} for h in hits
        ]

    def test_slug_clash_is_409(self, client: TestClient, auth: dict[str, str]) -> None:
        taken = client.get("/api/v1/directives/1").json()["slug"]
        r = client.post("/api/v1/directives", json=new_directive(client, slug=taken), headers=auth)
        assert r.status_code == 409
        problem_of(r)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"meeting_id": 424242}, "body.meeting_id"),
            ({"issued_by": 424242}, "body.issued_by"),
            ({"id": 5}, "body.id"),
            ({"created_at": "2020-01-01T00:00:00Z"}, "body.created_at"),
            ({"text": "a\x00b"}, "body.text"),
            ({"slug": "Not A Slug"}, "body.slug"),
            ({"slug": "12345"}, "body.slug"),
            ({"meeting_id": 2**40}, "body.meeting_id"),
            ({"status": "maybe"}, "body.status"),
        ],
    )
    def test_invalid_fields_are_422_naming_them(
        self, client: TestClient, auth: dict[str, str], overrides: dict[str, Any], field: str
    ) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client, **overrides), headers=auth)
        assert r.status_code == 422, r.text
        names = [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]
        assert field in names

    def test_issuer_from_another_meeting_is_422(self, client: TestClient, auth: dict[str, str]) -> None:
        m = client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth).json()
        r = client.post("/api/v1/directives", json=new_directive(client, meeting_id=m["id"]), headers=auth)
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "body.issued_by"  # type: ignore[index]

    def test_meeting_naive_datetime_and_bad_timezone_are_422(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        r = client.post(
            "/api/v1/meetings", json={**NEW_MEETING, "starts_at": "2030-01-02T08:00:00"}, headers=auth
        )
        assert r.status_code == 422
        r = client.post("/api/v1/meetings", json={**NEW_MEETING, "timezone": "Mars/Olympus"}, headers=auth)
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "body.timezone"  # type: ignore[index]

    def test_too_large_body_is_413(self, client: TestClient, auth: dict[str, str]) -> None:
        big = {"slug": "big", "full_name": "x" * (2 * 1024 * 1024)}
        r = client.post("/api/v1/people", json=big, headers=auth)
        assert r.status_code == 413
        problem_of(r)

        def chunks() -> Iterator[bytes]:
            yield b'{"slug": "big", "full_name": "'
            for _ in range(3):
                yield b"x" * (512 * 1024)
            yield b'"}'

        r = client.post(
            "/api/v1/people", content=chunks(), headers={**auth, "Content-Type": "application/json"}
        )
        assert r.status_code == 413
        problem_of(r)


class TestIdempotency:
    def test_replay_and_mismatch(self, client: TestClient, auth: dict[str, str]) -> None:
        h = {**auth, "Idempotency-Key": "req-1"}
        person = {"slug": "le-van-c", "full_name": "Lê Văn C"}
        first = client.post("/api/v1/people", json=person, headers=h)
        assert first.status_code == 201
        again = client.post("/api/v1/people", json=person, headers=h)
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert client.get("/api/v1/people", params={"name": "le van c"}).json()["total"] == 1
        other = client.post("/api/v1/people", json={**person, "full_name": "Lê Văn D"}, headers=h)
        assert other.status_code == 422
        problem_of(other)
        # Without the key the same body is a second create: the slug clashes.
        assert client.post("/api/v1/people", json=person, headers=auth).status_code == 409


class TestPatch:
    def test_fresh_etag_works_old_one_412(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/directives/1").headers["etag"]
        r = client.patch("/api/v1/directives/1", json={"status": "done"}, headers={**auth, "If-Match": etag})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "done"
        assert r.headers["etag"] != etag
        got = client.get("/api/v1/directives/1")
        assert got.json()["status"] == "done"
        assert got.headers["etag"] == r.headers["etag"]
        stale = client.patch(
            "/api/v1/directives/1", json={"status": "open"}, headers={**auth, "If-Match": etag}
        )
        assert stale.status_code == 412
        problem_of(stale)
        again = client.patch(
            "/api/v1/directives/1",
            json={"due_date": None, "text": "Đổi nội dung"},
            headers={**auth, "If-Match": r.headers["etag"]},
        )
        assert again.status_code == 200
        hits = client.get("/api/v1/search", params={"q": "doi noi dung"}).json()["items"]
        assert any(h["type"] == "directive" and h["id"] == 1 for h in hits)

    def test_missing_if_match_is_428(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.patch("/api/v1/directives/1", json={"status": "done"}, headers=auth)
        assert r.status_code == 428
        problem_of(r)
        assert client.delete("/api/v1/directives/1", headers=auth).status_code == 428

    def test_weak_etag_does_not_match(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/people/1").headers["etag"]
        r = client.patch(
            "/api/v1/people/1", json={"full_name": "X"}, headers={**auth, "If-Match": f"W/{etag}"}
        )
        assert r.status_code == 412

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/api/v1/directives/1", {"id": 9}, "body.id"),
            ("/api/v1/directives/1", {"meeting_id": 2}, "body.meeting_id"),
            ("/api/v1/directives/1", {"updated_at": "2020-01-01T00:00:00Z"}, "body.updated_at"),
            ("/api/v1/directives/1", {"text": None}, "body.text"),
            ("/api/v1/meetings/1", {"slug": "renamed"}, "body.slug"),
            ("/api/v1/people/1", {"full_name": None}, "body.full_name"),
        ],
    )
    def test_unknown_server_owned_or_null_fields_are_422(
        self, client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any], field: str
    ) -> None:
        etag = client.get(path).headers["etag"]
        r = client.patch(path, json=body, headers={**auth, "If-Match": etag})
        assert r.status_code == 422, r.text
        assert field in [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]

    def test_rename_person_updates_search(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/people/1").headers["etag"]
        r = client.patch(
            "/api/v1/people/1", json={"full_name": "Quách Thị Zyx"}, headers={**auth, "If-Match": etag}
        )
        assert r.status_code == 200
        types = {
            h["type"] for h in client.get("/api/v1/search", params={"q": "quach thi zyx"}).json()["items"]
        }
        assert {"person", "participant"} <= types
        assert client.get("/api/v1/people", params={"name": "quach thi zyx"}).json()["total"] == 1

    def test_meeting_patch_changes_updated_at(self, client: TestClient, auth: dict[str, str]) -> None:
        m = client.post("/api/v1/meetings", json=NEW_MEETING, headers=auth)
        r = client.patch(
            m.headers["location"], json={"summary": "Mới"}, headers={**auth, "If-Match": m.headers["etag"]}
        )
        assert r.status_code == 200
        assert r.json()["summary"] == "Mới"
        assert r.json()["updated_at"] >= m.json()["updated_at"]

    def test_unknown_record_is_404(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.patch("/api/v1/directives/424242", json={}, headers={**auth, "If-Match": '"x"'})
        assert r.status_code == 404

    def test_two_editors_same_etag_exactly_one_wins(
        self, client: TestClient, engine: Engine, auth: dict[str, str]
    ) -> None:
        etag = client.get("/api/v1/directives/2").headers["etag"]
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def edit(status: str) -> None:
            c = TestClient(app, raise_server_exceptions=False)  # no `with`: no lifespan
            barrier.wait()
            r = c.patch("/api/v1/directives/2", json={"status": status}, headers={**auth, "If-Match": etag})
            results[status] = r.status_code

        threads = [threading.Thread(target=edit, args=(s,)) for s in ("done", "cancelled")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results.values()) == [200, 412], results
        winner = next(s for s, code in results.items() if code == 200)
        assert client.get("/api/v1/directives/2").json()["status"] == winner


class TestDelete:
    def test_directive_204_then_404_and_gone_from_search(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        made = client.post("/api/v1/directives", json=new_directive(client), headers=auth)
        loc = made.headers["location"]
        assert client.delete(loc, headers={**auth, "If-Match": '"stale"'}).status_code == 412
        r = client.delete(loc, headers={**auth, "If-Match": made.headers["etag"]})
        assert r.status_code == 204
        assert r.content == b""
        assert client.get(loc).status_code == 404
        hits = client.get("/api/v1/search", params={"q": "so hoa ho so dat dai"}).json()["items"]
        assert all(not (h["type"] == "directive" and h["id"] == made.json()["id"]) for h in hits)

    def test_referenced_person_is_409(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/people/1").headers["etag"]
        r = client.delete("/api/v1/people/1", headers={**auth, "If-Match": etag})
        assert r.status_code == 409
        problem_of(r)

    def test_unreferenced_person(self, client: TestClient, auth: dict[str, str]) -> None:
        p = client.post("/api/v1/people", json={"slug": "x-y", "full_name": "X Y"}, headers=auth)
        r = client.delete(p.headers["location"], headers={**auth, "If-Match": "*"})
        assert r.status_code == 204
        assert client.get(p.headers["location"]).status_code == 404

    def test_meeting_with_its_records(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/meetings/1").headers["etag"]
        r = client.delete("/api/v1/meetings/1", headers={**auth, "If-Match": etag})
        assert r.status_code == 204, r.text
        assert client.get("/api/v1/meetings/1").status_code == 404
        assert client.get("/api/v1/directives", params={"meeting_id": 1}).json()["total"] == 0
        hits = client.get("/api/v1/search", params={"q": "dang ky"}).json()["items"]
        assert all(h["meeting_id"] != 1 for h in hits)
        # The people remain, and can now be deleted.
        etag = client.get("/api/v1/people/1").headers["etag"]
        assert client.delete("/api/v1/people/1", headers={**auth, "If-Match": etag}).status_code == 204
