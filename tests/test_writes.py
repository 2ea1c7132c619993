"""Writes to every resource: status codes, preconditions, conflicts, search sync."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.main import app
from tests.conftest import problem_of


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

    @pytest.mark.parametrize("slug", ["2018", "2018-03-20", "Bad", "a--b", "-a", "a-", ""])
    def test_slug_needs_a_letter_and_the_documented_form(
        self, client: TestClient, auth: dict[str, str], slug: str
    ) -> None:
        # An all-digit slug would read as an id in paths: the pattern itself says so.
        r = client.post("/api/v1/people", json={"slug": slug, "full_name": "Ai Đó"}, headers=auth)
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "body.slug"

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

    @pytest.mark.parametrize("length", ["", "-1", "12abc"])
    def test_delete_finding_content_length_not_a_number_is_400(self, client: TestClient, length: str) -> None:
        # Refused before the body is read, and before the key is looked at (none is given).
        r = client.delete("/api/v1/findings/1", headers={"Content-Length": length})
        assert r.status_code == 400
        assert problem_of(r)["detail"] == "Invalid Content-Length header."
        assert client.get("/api/v1/findings/1").status_code == 200


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
        r = client.patch(
            "/api/v1/directives/1", json={"status": "in_progress"}, headers={**auth, "If-Match": etag}
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "in_progress"
        assert r.headers["etag"] != etag
        got = client.get("/api/v1/directives/1")
        assert got.json()["status"] == "in_progress"
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

    @pytest.mark.parametrize("value", ["", "abc", '"a""b"', '"a",', "W/abc"])
    def test_malformed_if_match_is_422(self, client: TestClient, auth: dict[str, str], value: str) -> None:
        # Not `*` nor a list of entity tags (RFC 9110): a bad request, not a stale tag.
        r = client.patch("/api/v1/people/1", json={"full_name": "X"}, headers={**auth, "If-Match": value})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "header.If-Match"
        assert client.get("/api/v1/people/1").json()["full_name"] != "X"

    def test_if_match_star_and_lists_are_taken(self, client: TestClient, auth: dict[str, str]) -> None:
        etag = client.get("/api/v1/people/1").headers["etag"]
        r = client.patch(
            "/api/v1/people/1", json={"full_name": "Y"}, headers={**auth, "If-Match": f'"x", {etag}'}
        )
        assert r.status_code == 200
        r = client.patch("/api/v1/people/1", json={"full_name": "Z"}, headers={**auth, "If-Match": "*"})
        assert r.status_code == 200
        assert r.json()["full_name"] == "Z"

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

        # Both are allowed from open (open -> done is not: it goes through in_progress).
        threads = [threading.Thread(target=edit, args=(s,)) for s in ("in_progress", "cancelled")]
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


# --- participants, shortcomings, findings, documents ------------------------------------------------


def new_person(client: TestClient, auth: dict[str, str], slug: str = "nguyen-van-moi") -> dict[str, Any]:
    r = client.post("/api/v1/people", json={"slug": slug, "full_name": "Nguyễn Văn Mới"}, headers=auth)
    assert r.status_code == 201, r.text
    person: dict[str, Any] = r.json()
    return person


def new_participant(person_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "slug": "new-participant",
        "meeting_id": 1,
        "person_id": person_id,
        "title": "Giám đốc Sở Xây dựng",
        "organization": "Sở Xây dựng",
        "role": "attendee",
        "source_quote": "trích dẫn",
        **overrides,
    }


NEW_SHORTCOMING = {
    "slug": "new-shortcoming",
    "meeting_id": 1,
    "text": "Tiến độ giải ngân vốn đầu tư công còn chậm",
    "concerns": ["Ban quản lý dự án"],
    "source_quote": "trích dẫn",
}
NEW_FINDING = {
    "slug": "new-finding",
    "meeting_id": 1,
    "text": "Thu ngân sách vượt dự toán năm",
    "source_quote": "trích dẫn",
}
NEW_DOCUMENT = {
    "slug": "new-document",
    "kind": "resolution",
    "number": "99",
    "title": "Nghị quyết về chuyển đổi số tỉnh",
    "issuer": "HĐND tỉnh",
    "issued_on": "2030-01-01",
}


def search_hits(client: TestClient, q: str) -> list[tuple[str, int]]:
    return [(h["type"], h["id"]) for h in client.get("/api/v1/search", params={"q": q}).json()["items"]]


@pytest.mark.parametrize(
    ("path", "body", "change", "query", "changed_query"),
    [
        (
            "/api/v1/shortcomings",
            NEW_SHORTCOMING,
            {"text": "Công tác bồi thường giải phóng mặt bằng vướng mắc", "concerns": []},
            "giai ngan von dau tu",
            "boi thuong giai phong mat bang",
        ),
        (
            "/api/v1/findings",
            NEW_FINDING,
            {"text": "Tăng trưởng kinh tế đạt kế hoạch"},
            "thu ngan sach vuot du toan",
            "tang truong kinh te",
        ),
        (
            "/api/v1/documents",
            NEW_DOCUMENT,
            {"title": "Kế hoạch phát triển hạ tầng số", "issued_on": None},
            "chuyen doi so tinh",
            "phat trien ha tang so",
        ),
    ],
)
def test_create_get_patch_delete(
    client: TestClient,
    auth: dict[str, str],
    path: str,
    body: dict[str, Any],
    change: dict[str, Any],
    query: str,
    changed_query: str,
) -> None:
    made = client.post(path, json=body, headers=auth)
    assert made.status_code == 201, made.text
    record = made.json()
    loc = made.headers["location"]
    assert loc == f"{path}/{record['id']}"
    assert {k: record[k] for k in body} == body
    got = client.get(loc)
    assert got.json() == record
    assert got.headers["etag"] == made.headers["etag"]
    kind = path.rsplit("/", 1)[1].removesuffix("s")
    assert (kind, record["id"]) in search_hits(client, query)
    # The slug is taken now.
    assert client.post(path, json=body, headers=auth).status_code == 409

    assert client.patch(loc, json=change, headers=auth).status_code == 428
    assert client.patch(loc, json=change, headers={**auth, "If-Match": '"stale"'}).status_code == 412
    r = client.patch(loc, json=change, headers={**auth, "If-Match": made.headers["etag"]})
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in change} == change
    assert r.headers["etag"] == client.get(loc).headers["etag"] != made.headers["etag"]
    assert (kind, record["id"]) in search_hits(client, changed_query)
    assert (kind, record["id"]) not in search_hits(client, query)

    assert client.delete(loc, headers={**auth, "If-Match": made.headers["etag"]}).status_code == 412
    d = client.delete(loc, headers={**auth, "If-Match": r.headers["etag"]})
    assert d.status_code == 204
    assert d.content == b""
    assert client.get(loc).status_code == 404
    assert (kind, record["id"]) not in search_hits(client, changed_query)


@pytest.mark.parametrize("path", ["/api/v1/shortcomings", "/api/v1/findings"])
def test_unknown_meeting_is_422(client: TestClient, auth: dict[str, str], path: str) -> None:
    body = NEW_SHORTCOMING if path.endswith("shortcomings") else NEW_FINDING
    r = client.post(path, json={**body, "meeting_id": 424242}, headers=auth)
    assert r.status_code == 422, r.text
    assert [p["name"] for p in problem_of(r)["invalid_params"]] == ["body.meeting_id"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/shortcomings/1", {"meeting_id": 2}, "body.meeting_id"),
        ("/api/v1/findings/1", {"source_quote": "x"}, "body.source_quote"),
        ("/api/v1/documents/1", {"slug": "renamed"}, "body.slug"),
        ("/api/v1/documents/1", {"title": None}, "body.title"),
        ("/api/v1/participants/1", {"person_id": 2}, "body.person_id"),
        ("/api/v1/participants/1", {"role": None}, "body.role"),
    ],
)
def test_patch_refuses_fields_it_cannot_change(
    client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any], field: str
) -> None:
    etag = client.get(path).headers["etag"]
    r = client.patch(path, json=body, headers={**auth, "If-Match": etag})
    assert r.status_code == 422, r.text
    assert field in [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]


class TestParticipants:
    def test_create_get_patch_delete(self, client: TestClient, auth: dict[str, str]) -> None:
        person = new_person(client, auth)
        made = client.post("/api/v1/participants", json=new_participant(person["id"]), headers=auth)
        assert made.status_code == 201, made.text
        record = made.json()
        loc = made.headers["location"]
        assert loc == f"/api/v1/participants/{record['id']}"
        assert record["person_name"] == "Nguyễn Văn Mới"
        assert client.get(loc).json() == record
        assert client.get(loc).headers["etag"] == made.headers["etag"]
        # Search text: the person's name and title, as the seed loader builds it.
        assert ("participant", record["id"]) in search_hits(client, "nguyen van moi giam doc so xay dung")
        listed = client.get("/api/v1/meetings/1/participants", params={"limit": 100}).json()["items"]
        assert record["id"] in [p["id"] for p in listed]

        r = client.patch(
            loc,
            json={"title": "Chủ tịch Hội Nông dân tỉnh", "role": "speaker"},
            headers={**auth, "If-Match": made.headers["etag"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["title"] == "Chủ tịch Hội Nông dân tỉnh"
        assert r.json()["role"] == "speaker"
        assert ("participant", record["id"]) in search_hits(client, "nguyen van moi chu tich hoi nong dan")
        assert ("participant", record["id"]) not in search_hits(client, "giam doc so xay dung")

        # Renaming the person rewrites the participant's search text too.
        etag = client.get(f"/api/v1/people/{person['id']}").headers["etag"]
        client.patch(
            f"/api/v1/people/{person['id']}",
            json={"full_name": "Đặng Văn Quýt"},
            headers={**auth, "If-Match": etag},
        )
        assert ("participant", record["id"]) in search_hits(client, "dang van quyt chu tich hoi nong dan")

        d = client.delete(loc, headers={**auth, "If-Match": client.get(loc).headers["etag"]})
        assert d.status_code == 204, d.text
        assert client.get(loc).status_code == 404
        assert ("participant", record["id"]) not in search_hits(client, "dang van quyt")
        # Taking part in no meeting now, the person can go.
        etag = client.get(f"/api/v1/people/{person['id']}").headers["etag"]
        assert (
            client.delete(f"/api/v1/people/{person['id']}", headers={**auth, "If-Match": etag}).status_code
            == 204
        )

    def test_same_person_twice_in_a_meeting_is_409(self, client: TestClient, auth: dict[str, str]) -> None:
        existing = client.get("/api/v1/participants/1").json()
        r = client.post(
            "/api/v1/participants",
            json=new_participant(existing["person_id"], meeting_id=existing["meeting_id"]),
            headers=auth,
        )
        assert r.status_code == 409, r.text
        problem_of(r)
        taken = client.post(
            "/api/v1/participants",
            json=new_participant(new_person(client, auth)["id"], slug=existing["slug"]),
            headers=auth,
        )
        assert taken.status_code == 409

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"meeting_id": 424242}, "body.meeting_id"),
            ({"person_id": 424242}, "body.person_id"),
            ({"person_id": 2**40}, "body.person_id"),
            ({"role": "boss"}, "body.role"),
            ({"id": 3}, "body.id"),
        ],
    )
    def test_invalid_fields_are_422_naming_them(
        self, client: TestClient, auth: dict[str, str], overrides: dict[str, Any], field: str
    ) -> None:
        r = client.post(
            "/api/v1/participants", json=new_participant(**{"person_id": 1, **overrides}), headers=auth
        )
        assert r.status_code == 422, r.text
        assert field in [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]

    def test_participant_who_issued_directives_is_409(self, client: TestClient, auth: dict[str, str]) -> None:
        issuer = client.get("/api/v1/directives/1").json()["issued_by"]
        loc = f"/api/v1/participants/{issuer}"
        r = client.delete(loc, headers={**auth, "If-Match": client.get(loc).headers["etag"]})
        assert r.status_code == 409
        problem_of(r)
        assert client.get(loc).status_code == 200


class TestDocuments:
    def test_cited_document_is_409(self, client: TestClient, auth: dict[str, str]) -> None:
        cited = client.get("/api/v1/meetings/1/documents").json()["items"][0]["id"]
        loc = f"/api/v1/documents/{cited}"
        r = client.delete(loc, headers={**auth, "If-Match": client.get(loc).headers["etag"]})
        assert r.status_code == 409
        problem_of(r)
        assert client.get(loc).status_code == 200

    def test_bad_kind_is_422(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post("/api/v1/documents", json={**NEW_DOCUMENT, "kind": "memo-ish"}, headers=auth)
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "body.kind"  # type: ignore[index]
