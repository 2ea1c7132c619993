from __future__ import annotations

from fastapi.testclient import TestClient

from app.seed_schema import SeedFile
from tests.conftest import problem_of

MEETING_SLUG = "ben-tre-2018-03-20-nq18-19"


class TestReadMeetings:
    def test_read_meetings(self, client: TestClient, seed: SeedFile) -> None:
        r = client.get("/api/v1/meetings")
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == len(seed.meetings) == 1
        assert body["next_cursor"] is None
        (meeting,) = body["items"]
        assert meeting["slug"] == MEETING_SLUG
        assert meeting["date"] == "2018-03-20"
        assert meeting["organizer"] == "Tỉnh ủy Bến Tre"
        assert meeting["format"] == "online"
        assert meeting["source_published_at"] == "2018-03-20T16:53:00+07:00"
        assert meeting["source_author"] == "Hoàng Lam"

    def test_read_meetings_date_range(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings", params={"date_from": "2018-03-20", "date_to": "2018-03-20"})
        assert r.status_code == 200
        assert r.json()["total"] == 1
        r = client.get("/api/v1/meetings", params={"date_from": "2018-03-21"})
        assert r.status_code == 200
        assert r.json() == {"items": [], "total": 0, "next_cursor": None}

    def test_read_meetings_by_document(self, client: TestClient) -> None:
        doc = client.get("/api/v1/documents/nq-02-tinh-uy-ben-tre").json()
        r = client.get("/api/v1/meetings", params={"document_id": doc["id"]})
        assert r.status_code == 200
        assert [m["slug"] for m in r.json()["items"]] == [MEETING_SLUG]

    def test_read_meetings_by_person(self, client: TestClient) -> None:
        person = client.get("/api/v1/people/truong-duy-hai").json()
        r = client.get("/api/v1/meetings", params={"person_id": person["id"]})
        assert r.status_code == 200
        assert r.json()["total"] == 1

    def test_read_meetings_limit_over_maximum(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings", params={"limit": 101})
        assert r.status_code == 422
        body = problem_of(r)
        assert body["invalid_params"][0]["name"] == "query.limit"


class TestReadMeeting:
    def test_read_meeting_by_id_and_slug(self, client: TestClient) -> None:
        by_slug = client.get(f"/api/v1/meetings/{MEETING_SLUG}")
        assert by_slug.status_code == 200
        by_id = client.get(f"/api/v1/meetings/{by_slug.json()['id']}")
        assert by_id.status_code == 200
        assert by_id.json() == by_slug.json()
        assert "participants" not in by_id.json()

    def test_read_meeting_include_everything(self, client: TestClient, seed: SeedFile) -> None:
        r = client.get(
            f"/api/v1/meetings/{MEETING_SLUG}",
            params={"include": "participants,directives,shortcomings,findings,documents"},
        )
        assert r.status_code == 200
        body = r.json()
        m = seed.meetings[0]
        assert [p["slug"] for p in body["participants"]] == [p.slug for p in m.participants]
        assert [d["slug"] for d in body["directives"]] == [d.slug for d in m.directives]
        assert [s["slug"] for s in body["shortcomings"]] == [s.slug for s in m.shortcomings]
        assert [f["slug"] for f in body["findings"]] == [f.slug for f in m.findings]
        assert [d["slug"] for d in body["documents"]] == [c.document for c in m.documents]
        chair = body["participants"][0]
        assert (chair["person_name"], chair["title"], chair["role"]) == (
            "Võ Thành Hạo",
            "Bí thư Tỉnh ủy",
            "chair",
        )
        assert body["documents"][0]["source_quote"] == m.documents[0].source_quote

    def test_read_meeting_include_subset(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}", params={"include": "directives"})
        assert r.status_code == 200
        assert len(r.json()["directives"]) == 10
        assert "participants" not in r.json()

    def test_read_meeting_include_unknown(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}", params={"include": "participants,votes"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.include"

    def test_read_meeting_not_found(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings/999999")
        assert r.status_code == 404
        body = problem_of(r)
        assert "999999" in body["detail"]

    def test_read_meeting_huge_id_is_not_a_500(self, client: TestClient) -> None:
        for ref in ("2147483648", "99999999999999999999999"):
            r = client.get(f"/api/v1/meetings/{ref}")
            assert r.status_code == 404
            problem_of(r)


class TestNestedCollections:
    def test_read_meeting_participants(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/participants")
        assert r.status_code == 200
        names = [p["person_name"] for p in r.json()["items"]]
        assert names == [
            "Võ Thành Hạo",
            "Phan Văn Mãi",
            "Trần Ngọc Tam",
            "Hồ Thị Hoàng Yến",
            "Trương Duy Hải",
        ]

    def test_read_meeting_directives(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/directives", params={"limit": 4})
        assert r.status_code == 200
        assert r.json()["total"] == 10
        assert len(r.json()["items"]) == 4
        assert r.json()["next_cursor"]

    def test_read_meeting_shortcomings(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/shortcomings")
        assert r.status_code == 200
        assert r.json()["total"] == 5

    def test_read_meeting_findings(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/findings")
        assert r.status_code == 200
        assert r.json()["total"] == 4

    def test_read_meeting_documents(self, client: TestClient) -> None:
        r = client.get(f"/api/v1/meetings/{MEETING_SLUG}/documents")
        assert r.status_code == 200
        titles = [d["title"] for d in r.json()["items"]]
        assert "Nghị quyết số 02 của Tỉnh ủy" in titles
        assert len(titles) == 5

    def test_read_meeting_directives_of_unknown_meeting(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings/no-such-meeting/directives")
        assert r.status_code == 404
        problem_of(r)
