"""The top-level collections: filters, sorting, keyset pagination, single records."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.seed_schema import SeedFile
from tests.conftest import problem_of

COLLECTIONS = ["people", "participants", "directives", "shortcomings", "findings", "documents", "meetings"]


def walk(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end, checking the Link header and total on every page."""
    items: list[dict[str, Any]] = []
    cursor = None
    total = None
    for _ in range(100):
        r = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        total = body["total"] if total is None else total
        assert body["total"] == total
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert "link" not in r.headers
            break
        assert r.headers["link"].endswith('>; rel="next"')
        assert f"cursor={cursor}" in r.headers["link"]
    assert len(items) == total
    return items


@pytest.fixture
def expected_counts(seed: SeedFile) -> dict[str, int]:
    m = seed.meetings
    return {
        "people": len(seed.people),
        "documents": len(seed.documents),
        "meetings": len(m),
        "participants": sum(len(x.participants) for x in m),
        "directives": sum(len(x.directives) for x in m),
        "shortcomings": sum(len(x.shortcomings) for x in m),
        "findings": sum(len(x.findings) for x in m),
    }


class TestPagination:
    @pytest.mark.parametrize("name", COLLECTIONS)
    @pytest.mark.parametrize("limit", [1, 3, 100])
    def test_read_collection_walked_to_the_end(
        self, client: TestClient, expected_counts: dict[str, int], name: str, limit: int
    ) -> None:
        items = walk(client, f"/api/v1/{name}", limit=limit)
        ids = [i["id"] for i in items]
        assert len(ids) == len(set(ids)) == expected_counts[name]

    @pytest.mark.parametrize("sort", ["id", "-id", "status,-id", "-meeting_id,id", "-status"])
    def test_read_directives_sorted_pages_match_one_page(self, client: TestClient, sort: str) -> None:
        whole = client.get("/api/v1/directives", params={"sort": sort, "limit": 100}).json()["items"]
        paged = walk(client, "/api/v1/directives", sort=sort, limit=3)
        assert [d["id"] for d in paged] == [d["id"] for d in whole]
        if sort == "-id":
            assert [d["id"] for d in whole] == sorted((d["id"] for d in whole), reverse=True)

    def test_read_people_sorted_by_name_folded(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", params={"sort": "full_name"})
        assert r.status_code == 200
        names = [p["full_name"] for p in r.json()["items"]]
        # Sorted as a Vietnamese reader expects without diacritics: Hồ, Phan, Trần, Trương, Võ.
        assert names == [
            "Hồ Thị Hoàng Yến",
            "Phan Văn Mãi",
            "Trần Ngọc Tam",
            "Trương Duy Hải",
            "Võ Thành Hạo",
        ]
        paged = walk(client, "/api/v1/people", sort="-full_name", limit=2)
        assert [p["full_name"] for p in paged] == names[::-1]

    def test_read_directives_unknown_sort_key(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"sort": "text"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.sort"

    def test_read_directives_repeated_sort_key(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"sort": "id,-id"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.sort"

    @pytest.mark.parametrize("cursor", ["nonsense", "eyJ4IjoxfQ", "e30", "eyJzIjoiaWQiLCJ2IjpbIngiXX0"])
    def test_read_directives_bad_cursor(self, client: TestClient, cursor: str) -> None:
        r = client.get("/api/v1/directives", params={"cursor": cursor})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.cursor"

    def test_read_directives_cursor_of_another_sort(self, client: TestClient) -> None:
        cursor = client.get("/api/v1/directives", params={"limit": 2}).json()["next_cursor"]
        r = client.get("/api/v1/directives", params={"limit": 2, "sort": "-id", "cursor": cursor})
        assert r.status_code == 422
        assert "sort" in problem_of(r)["invalid_params"][0]["reason"]

    @pytest.mark.parametrize("limit", ["0", "-1", "101", "abc"])
    def test_read_directives_bad_limit(self, client: TestClient, limit: str) -> None:
        r = client.get("/api/v1/directives", params={"limit": limit})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.limit"


class TestReadPeople:
    @pytest.mark.parametrize("name", ["vo thanh hao", "VÕ THÀNH", "hạo", "Ho Thi Hoang Yen", "truong duy"])
    def test_read_people_name_filter_folds(self, client: TestClient, name: str) -> None:
        r = client.get("/api/v1/people", params={"name": name})
        assert r.status_code == 200
        assert r.json()["total"] == 1

    def test_read_people_name_filter_nfd(self, client: TestClient) -> None:
        import unicodedata

        r = client.get("/api/v1/people", params={"name": unicodedata.normalize("NFD", "Trần Ngọc")})
        assert r.status_code == 200
        assert [p["slug"] for p in r.json()["items"]] == ["tran-ngoc-tam"]

    def test_read_people_name_filter_like_wildcards_are_literal(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", params={"name": "%"})
        assert r.status_code == 200
        assert r.json()["total"] == 0

    def test_read_people_of_meeting(self, client: TestClient) -> None:
        r = client.get("/api/v1/people", params={"meeting_id": 1})
        assert r.status_code == 200
        assert r.json()["total"] == 5

    def test_read_person(self, client: TestClient) -> None:
        r = client.get("/api/v1/people/vo-thanh-hao")
        assert r.status_code == 200
        assert r.json()["full_name"] == "Võ Thành Hạo"

    def test_read_person_not_found(self, client: TestClient) -> None:
        r = client.get("/api/v1/people/nobody")
        assert r.status_code == 404
        assert "nobody" in problem_of(r)["detail"]


class TestReadParticipants:
    def test_read_participants_by_role(self, client: TestClient) -> None:
        r = client.get("/api/v1/participants", params={"role": "chair"})
        assert r.status_code == 200
        (chair,) = r.json()["items"]
        assert chair["person_name"] == "Võ Thành Hạo"
        assert chair["source_quote"] == "Bí thư Tỉnh ủy Võ Thành Hạo chủ trì hội nghị."

    def test_read_participants_by_person(self, client: TestClient) -> None:
        person = client.get("/api/v1/people/ho-thi-hoang-yen").json()
        r = client.get("/api/v1/participants", params={"person_id": person["id"]})
        assert r.status_code == 200
        (p,) = r.json()["items"]
        assert (p["title"], p["organization"]) == (
            "Trưởng Ban Tổ chức Tỉnh ủy",
            "Ban Tổ chức Tỉnh ủy Bến Tre",
        )

    def test_read_participants_bad_role(self, client: TestClient) -> None:
        r = client.get("/api/v1/participants", params={"role": "king"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.role"

    def test_read_participant(self, client: TestClient) -> None:
        r = client.get("/api/v1/participants/ben-tre-2018-03-20-nq18-19-truong-duy-hai")
        assert r.status_code == 200
        assert r.json()["title"] == "Phó chủ tịch UBND tỉnh"


class TestReadDirectives:
    def test_read_directives_defaults(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives")
        assert r.status_code == 200
        for d in r.json()["items"]:
            assert d["status"] == "open"
            assert d["due_date"] is None
            assert d["issued_by_name"] == "Võ Thành Hạo"

    def test_read_directives_filters(self, client: TestClient) -> None:
        chair = client.get("/api/v1/participants", params={"role": "chair"}).json()["items"][0]
        cases: list[tuple[dict[str, Any], int]] = [
            ({"issued_by": chair["id"]}, 10),
            ({"person_id": chair["person_id"]}, 10),
            ({"person_id": chair["person_id"] + 1}, 0),
            ({"status": "open"}, 10),
            ({"status": "done"}, 0),
            ({"meeting_id": 1}, 10),
            ({"meeting_id": 2}, 0),
            ({"document_id": 5}, 10),
            ({"date_from": "2018-01-01", "date_to": "2018-12-31"}, 10),
            ({"date_from": "2018-03-20", "date_to": "2018-03-20"}, 10),  # both bounds are in
            ({"date_from": "2018-03-21", "date_to": "2018-12-31"}, 0),
            ({"date_from": "2018-01-01", "date_to": "2018-03-19"}, 0),
            ({"date_from": "2018-12-31", "date_to": "2018-01-01"}, 0),
            ({"date_from": "2018-03-20"}, 10),
            ({"date_to": "2018-03-19"}, 0),
            ({"q": "hop nhat van phong"}, 1),
            ({"q": "huyen", "status": "open"}, 4),
        ]
        for params, expected in cases:
            r = client.get("/api/v1/directives", params=params)
            assert r.status_code == 200, params
            assert r.json()["total"] == expected, params

    def test_read_directives_date_range_pages(self, client: TestClient) -> None:
        """Both bounds of a date range are one condition of the page's SQL and of its total
        (app.routers.filters): walked page by page, with the cursor's parameters beside theirs."""
        seen: list[int] = []
        params: dict[str, Any] = {"date_from": "2018-03-01", "date_to": "2018-03-31", "limit": 4}
        while True:
            r = client.get("/api/v1/directives", params=params)
            assert r.status_code == 200
            assert r.json()["total"] == 10
            seen += [d["id"] for d in r.json()["items"]]
            if r.json()["next_cursor"] is None:
                break
            params["cursor"] = r.json()["next_cursor"]
        assert seen == list(range(1, 11))

    def test_read_directives_addressees(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives/ben-tre-2018-03-20-nq18-19-ke-hoach-cap-xa-phuong")
        assert r.status_code == 200
        assert r.json()["addressees"] == ["Các huyện ủy, thành ủy", "đảng ủy các xã, phường"]

    def test_read_directives_bad_status(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"status": "finished"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.status"

    def test_read_directives_bad_date(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"date_from": "20-3-2018"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.date_from"


class TestReadShortcomingsFindingsDocuments:
    def test_read_shortcomings(self, client: TestClient) -> None:
        r = client.get("/api/v1/shortcomings", params={"q": "cap huyen"})
        assert r.status_code == 200
        slugs = {s["slug"] for s in r.json()["items"]}
        assert "ben-tre-2018-03-20-nq18-19-tham-muu-chua-tiep-can" in slugs

    def test_read_shortcoming(self, client: TestClient) -> None:
        r = client.get("/api/v1/shortcomings/ben-tre-2018-03-20-nq18-19-nhan-thuc-chua-cao")
        assert r.status_code == 200
        assert r.json()["concerns"] == ["nội bộ"]

    def test_read_findings(self, client: TestClient) -> None:
        r = client.get("/api/v1/findings", params={"meeting_id": 1})
        assert r.status_code == 200
        assert r.json()["total"] == 4

    def test_read_finding(self, client: TestClient) -> None:
        r = client.get("/api/v1/findings/1")
        assert r.status_code == 200
        assert r.json()["text"].startswith("việc triển khai quán triệt")

    def test_read_documents_by_kind(self, client: TestClient) -> None:
        r = client.get("/api/v1/documents", params={"kind": "action_programme"})
        assert r.status_code == 200
        assert [d["number"] for d in r.json()["items"]] == ["28", "29"]

    def test_read_documents_of_meeting(self, client: TestClient) -> None:
        r = client.get("/api/v1/documents", params={"meeting_id": 1, "sort": "-id"})
        assert r.status_code == 200
        assert [d["id"] for d in r.json()["items"]] == [5, 4, 3, 2, 1]

    def test_read_document_meetings(self, client: TestClient) -> None:
        r = client.get("/api/v1/documents/nq-18-tw-khoa-xii/meetings")
        assert r.status_code == 200
        assert [m["slug"] for m in r.json()["items"]] == ["ben-tre-2018-03-20-nq18-19"]

    def test_read_document_meetings_unknown_document(self, client: TestClient) -> None:
        r = client.get("/api/v1/documents/nq-99/meetings")
        assert r.status_code == 404
        problem_of(r)
