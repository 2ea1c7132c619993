"""Links between records: directive assignees, `addresses`, reviews by later meetings,
citation writes, and GET /stats."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app import clock, fastread
from app import openapi_docs as docs
from app.models.examples import STATS
from app.models.links import folded_words
from app.text import fold
from tests.conftest import BACKEND, problem_of, sqlite_plan
from tests.test_writes import NEW_MEETING, new_directive

D3 = "/api/v1/directives/3"  # the seed's directive with two assignees (ids 3 and 4)


def invalid_names(r: Any) -> list[str]:
    return [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]


def etag_of(client: TestClient, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def later_meeting(client: TestClient, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = client.post("/api/v1/meetings", json={**NEW_MEETING, **overrides}, headers=auth)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(r: Any) -> list[int]:
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


# --- assignees --------------------------------------------------------------------------------------


class TestAssignees:
    def test_read_directive_assignees_from_the_seed(self, client: TestClient) -> None:
        r = client.get(f"{D3}/assignees")
        assert r.status_code == 200
        items = r.json()["items"]
        assert [(a["role"], a["organization"], a["person_id"]) for a in items] == [
            ("lead", "từng đơn vị, địa phương", None),
            ("coordinating", "các sở, ngành", None),
        ]
        assert client.get(D3).json()["assignees"] == items

    def test_read_directive_assignee_by_slug_with_etag(self, client: TestClient) -> None:
        r = client.get(f"{D3}/assignees/ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh-lead")
        assert r.status_code == 200
        assert r.json()["id"] == 3
        assert (
            client.get(f"{D3}/assignees/3", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        )

    def test_read_directive_assignee_of_another_directive_404(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives/1/assignees/3")
        assert r.status_code == 404
        problem_of(r)

    def test_create_assignee_organization_201(self, client: TestClient, auth: dict[str, str]) -> None:
        before = client.get(D3)
        body = {"role": "monitoring", "organization": "Ủy ban Kiểm tra Tỉnh ủy"}
        r = client.post(f"{D3}/assignees", json=body, headers=auth)
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["location"] == f"{D3}/assignees/{created['id']}"
        assert created["organization"] == "Ủy ban Kiểm tra Tỉnh ủy"
        assert created["person_id"] is None
        got = client.get(r.headers["location"])
        assert got.status_code == 200
        assert got.json() == created
        assert got.headers["etag"] == r.headers["etag"]
        # The directive changed with its assignees: new representation, new ETag.
        after = client.get(D3)
        assert after.json()["assignees"][-1] == created
        assert after.headers["etag"] != before.headers["etag"]
        assert after.json()["updated_at"] >= before.json()["updated_at"]

    def test_create_assignee_person_201(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post(f"{D3}/assignees", json={"role": "lead", "person_id": 2}, headers=auth)
        assert r.status_code == 201, r.text
        assert r.json()["person_id"] == 2
        assert r.json()["person_name"] == "Phan Văn Mãi"
        assert r.json()["organization"] is None

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"role": "lead"}, "body.organization"),
            ({"role": "lead", "person_id": 1, "organization": "Sở Nội vụ"}, "body.person_id"),
            ({"role": "lead", "person_id": 4242}, "body.person_id"),
            ({"role": "chủ trì", "organization": "Sở Nội vụ"}, "body.role"),
            ({"role": "lead", "organization": "Sở\x00Nội vụ"}, "body.organization"),
            ({"role": "lead", "organization": "Sở Nội vụ", "directive_id": 1}, "body.directive_id"),
            ({"role": "lead", "organization": "Sở Nội vụ", "slug": "Không"}, "body.slug"),
        ],
    )
    def test_create_assignee_invalid_422_naming_the_field(
        self, client: TestClient, auth: dict[str, str], body: dict[str, Any], field: str
    ) -> None:
        before = client.get(f"{D3}/assignees").json()
        r = client.post(f"{D3}/assignees", json=body, headers=auth)
        assert r.status_code == 422, r.text
        assert field in invalid_names(r)
        assert client.get(f"{D3}/assignees").json() == before

    def test_create_assignee_unknown_directive_404(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post(
            "/api/v1/directives/4242/assignees", json={"role": "lead", "organization": "X"}, headers=auth
        )
        assert r.status_code == 404
        problem_of(r)

    def test_create_assignee_slug_taken_409(self, client: TestClient, auth: dict[str, str]) -> None:
        slug = "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh-lead"
        r = client.post(
            f"{D3}/assignees", json={"slug": slug, "role": "lead", "organization": "X"}, headers=auth
        )
        assert r.status_code == 409
        problem_of(r)

    def test_create_assignee_needs_a_write_key_401(self, client: TestClient) -> None:
        r = client.post(f"{D3}/assignees", json={"role": "lead", "organization": "X"})
        assert r.status_code == 401
        assert "www-authenticate" in r.headers

    def test_create_assignee_idempotent_replay(self, client: TestClient, auth: dict[str, str]) -> None:
        headers = {**auth, "Idempotency-Key": "giao-viec-1"}
        body = {"role": "coordinating", "organization": "Sở Nội vụ"}
        first = client.post(f"{D3}/assignees", json=body, headers=headers)
        again = client.post(f"{D3}/assignees", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert client.get(f"{D3}/assignees").json()["total"] == 3
        other = client.post(f"{D3}/assignees", json={**body, "role": "lead"}, headers=headers)
        assert other.status_code == 422
        assert invalid_names(other) == ["header.Idempotency-Key"]

    def test_update_assignee_role_with_if_match(self, client: TestClient, auth: dict[str, str]) -> None:
        path = f"{D3}/assignees/4"
        r = client.patch(path, json={"role": "monitoring"}, headers=auth)
        assert r.status_code == 428
        problem_of(r)
        r = client.patch(path, json={"role": "monitoring"}, headers={**auth, "If-Match": '"stale"'})
        assert r.status_code == 412
        problem_of(r)
        r = client.patch(
            path, json={"role": "monitoring"}, headers={**auth, "If-Match": etag_of(client, path)}
        )
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "monitoring"
        assert r.headers["etag"] == etag_of(client, path)

    def test_update_assignee_organization_to_person(self, client: TestClient, auth: dict[str, str]) -> None:
        path = f"{D3}/assignees/4"
        headers = {**auth, "If-Match": etag_of(client, path)}
        r = client.patch(path, json={"person_id": 5}, headers=headers)
        assert r.status_code == 422
        assert invalid_names(r) == ["body.person_id"]
        r = client.patch(path, json={"person_id": 5, "organization": None}, headers=headers)
        assert r.status_code == 200, r.text
        assert (r.json()["person_name"], r.json()["organization"]) == ("Trương Duy Hải", None)
        assert ids(client.get("/api/v1/directives", params={"assignee": "cac so, nganh"})) == []
        assert ids(client.get("/api/v1/directives", params={"assignee": "truong duy hai"})) == [3]

    def test_delete_assignee_204(self, client: TestClient, auth: dict[str, str]) -> None:
        path = f"{D3}/assignees/4"
        wrong = client.delete("/api/v1/directives/1/assignees/4", headers={**auth, "If-Match": "*"})
        assert wrong.status_code == 404
        assert client.delete(path, headers=auth).status_code == 428
        r = client.delete(path, headers={**auth, "If-Match": etag_of(client, path)})
        assert r.status_code == 204
        assert client.get(path).status_code == 404
        assert [a["id"] for a in client.get(D3).json()["assignees"]] == [3]

    def test_delete_person_assigned_409(self, client: TestClient, auth: dict[str, str]) -> None:
        p = client.post("/api/v1/people", json={"slug": "le-van-b", "full_name": "Lê Văn Bình"}, headers=auth)
        assert p.status_code == 201
        person = p.json()
        r = client.post(f"{D3}/assignees", json={"role": "lead", "person_id": person["id"]}, headers=auth)
        assert r.status_code == 201
        gone = client.delete(
            f"/api/v1/people/{person['id']}", headers={**auth, "If-Match": p.headers["etag"]}
        )
        assert gone.status_code == 409
        problem_of(gone)

    def test_delete_directive_takes_its_assignees(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.delete(D3, headers={**auth, "If-Match": etag_of(client, D3)})
        assert r.status_code == 204
        assert client.get(f"{D3}/assignees").status_code == 404
        assert client.get("/api/v1/stats").json()["totals"]["assignees"] == 2

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"assignee": "don vi dia phuong"}, [3]),
            ({"assignee": "TỪNG CẤP ỦY"}, [1]),
            ({"assignee": "huyen uy"}, [2]),
            ({"assignee": "cac"}, [2, 3]),
            ({"role": "coordinating"}, [3]),
            ({"role": "lead"}, [1, 2, 3]),
            ({"role": "monitoring"}, []),
            ({"assignee": "huyen uy", "role": "coordinating"}, []),
            ({"assignee": "so, nganh", "role": "coordinating"}, [3]),
            ({"assignee": "100%"}, []),
            ({"assignee": "a\x00b"}, []),
        ],
    )
    def test_list_directives_by_assignee_and_role(
        self, client: TestClient, params: dict[str, str], expected: list[int]
    ) -> None:
        r = client.get("/api/v1/directives", params=params)
        assert ids(r) == expected
        assert r.json()["total"] == len(expected)

    def test_list_directives_by_role_is_validated(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"role": "boss"})
        assert r.status_code == 422
        assert invalid_names(r) == ["query.role"]

    def test_list_directives_by_assignee_person(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post(
            "/api/v1/directives/7/assignees", json={"role": "monitoring", "person_id": 4}, headers=auth
        )
        assert r.status_code == 201
        assert ids(client.get("/api/v1/directives", params={"assignee": "hoang yen"})) == [7]
        assert ids(client.get("/api/v1/directives", params={"assignee": "hoang yen", "role": "lead"})) == []

    def test_list_directives_by_assignee_organization_or_person_once(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        """The words name the organization assigned to directive 1 ("từng cấp ủy, tổ chức đảng",
        lead) and a person assigned to it too and to directive 5: each directive once, in either
        role's filter through the organization or the person."""
        p = client.post("/api/v1/people", json={"slug": "le-cap-uy", "full_name": "Lê Cấp Ủy"}, headers=auth)
        assert p.status_code == 201
        for directive, role in ((1, "coordinating"), (5, "lead")):
            r = client.post(
                f"/api/v1/directives/{directive}/assignees",
                json={"role": role, "person_id": p.json()["id"]},
                headers=auth,
            )
            assert r.status_code == 201, r.text
        for params, expected in (
            ({"assignee": "cap uy"}, [1, 5]),
            ({"assignee": "cap uy", "role": "lead"}, [1, 5]),
            ({"assignee": "cap uy", "role": "coordinating"}, [1]),
            ({"assignee": "cap uy", "sort": "-id", "limit": 1}, [5]),
        ):
            r = client.get("/api/v1/directives", params=params)
            assert r.status_code == 200
            assert ids(r) == expected
            assert r.json()["total"] == (2 if "limit" in params else len(expected))

    def test_read_meeting_include_directives_carries_assignees(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings/1", params={"include": "directives,shortcomings"})
        assert r.status_code == 200
        directives = {d["id"]: d for d in r.json()["directives"]}
        assert [a["id"] for a in directives[3]["assignees"]] == [3, 4]
        assert directives[3]["addresses"] == [3]
        assert directives[10]["assignees"] == []
        shortcomings = {s["id"]: s["addressed_by"] for s in r.json()["shortcomings"]}
        assert shortcomings == {1: [], 2: [1], 3: [3], 4: [2], 5: [5]}


@pytest.fixture
def statements(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, no_response_cache: None
) -> Iterator[list[str]]:
    """The statements run, through SQLAlchemy or on the fast read path's raw cursor (every
    request its own: no answer or total from the response cache)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    run = fastread.RawQuery.run

    def counted_run(self: fastread.RawQuery, cur: Any, dialect: Any, **values: Any) -> list[Any]:
        seen.append(self.compiled(dialect).sql)
        return run(self, cur, dialect, **values)

    arun = fastread.RawQuery.arun

    async def counted_arun(self: fastread.RawQuery, conn: Any, dialect: Any, **values: Any) -> list[Any]:
        seen.append(self.compiled(dialect).sql)
        return await arun(self, conn, dialect, **values)

    monkeypatch.setattr(fastread.RawQuery, "run", counted_run)
    monkeypatch.setattr(fastread.RawQuery, "arun", counted_arun)
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_list_directives_reads_links_in_the_same_statement(client: TestClient, statements: list[str]) -> None:
    """No N+1, and no extra round trip: the links are JSON aggregates in the records' own SELECT."""
    counts = []
    for limit in (2, 9):
        statements.clear()
        r = client.get("/api/v1/directives", params={"limit": limit})
        assert r.status_code == 200
        assert len(r.json()["items"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1] == 2  # the page, the count
    statements.clear()
    r = client.get("/api/v1/meetings/1", params={"include": "directives"})
    assert r.status_code == 200
    assert any(d["assignees"] for d in r.json()["directives"])
    with_links = len(statements)
    statements.clear()
    assert client.get("/api/v1/meetings/1", params={"include": "findings"}).status_code == 200
    # SQLite: the meeting, the included records; PostgreSQL: both in one statement.
    assert with_links == len(statements) == (2 if BACKEND == "sqlite" else 1)


def test_list_directives_counts_only_when_records_are_left_out(
    client: TestClient, statements: list[str]
) -> None:
    """A first page that holds every record is its own total: no count is run. A page that
    leaves some out, or comes after a cursor, counts them in a statement of its own."""
    every = client.get("/api/v1/directives", params={"limit": 100}).json()
    n = len(every["items"])
    assert every["total"] == n
    assert every["next_cursor"] is None
    last_two = client.get("/api/v1/directives", params={"limit": n - 2}).json()["next_cursor"]
    for params, expected in (
        ({"limit": n}, 1),
        ({"limit": 100}, 1),
        ({"limit": 100, "status": "open"}, 1),
        ({"limit": n - 1}, 2),
        ({"limit": 2, "cursor": last_two}, 2),
    ):
        statements.clear()
        r = client.get("/api/v1/directives", params=params)
        assert r.status_code == 200
        body = r.json()
        assert len(statements) == expected, params
        if "status" in params:
            assert body["total"] == len(body["items"]) == sum(d["status"] == "open" for d in every["items"])
        elif "cursor" in params:
            assert body["total"] == n  # the whole collection's, as on the first page
            assert len(body["items"]) == 2
            assert body["next_cursor"] is None
        else:
            assert body["total"] == n


# --- addresses ----------------------------------------------------------------------------------------


class TestAddresses:
    def test_create_directive_with_addresses(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client, addresses=[1, 2, 1]), headers=auth)
        assert r.status_code == 201, r.text
        assert r.json()["addresses"] == [1, 2]
        assert client.get("/api/v1/shortcomings/1").json()["addressed_by"] == [r.json()["id"]]
        assert client.get("/api/v1/shortcomings/2").json()["addressed_by"] == [1, r.json()["id"]]

    def test_create_directive_unknown_shortcoming_422(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client, addresses=[1, 4242]), headers=auth)
        assert r.status_code == 422
        assert invalid_names(r) == ["body.addresses"]
        assert client.get("/api/v1/directives/new-directive").status_code == 404  # nothing half-written
        assert client.get("/api/v1/shortcomings/1").json()["addressed_by"] == []

    @pytest.mark.parametrize("addresses", [[0], [2**40], ["một"], None])
    def test_create_directive_bad_addresses_422(
        self, client: TestClient, auth: dict[str, str], addresses: Any
    ) -> None:
        r = client.post("/api/v1/directives", json=new_directive(client, addresses=addresses), headers=auth)
        assert r.status_code == 422
        assert any(name.startswith("body.addresses") for name in invalid_names(r))

    def test_update_directive_addresses(self, client: TestClient, auth: dict[str, str]) -> None:
        before = client.get(D3)
        headers = {**auth, "If-Match": before.headers["etag"]}
        r = client.patch(D3, json={"addresses": [1, 3]}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["addresses"] == [1, 3]
        assert r.headers["etag"] != before.headers["etag"]
        assert r.json()["updated_at"] >= before.json()["updated_at"]
        assert client.get("/api/v1/shortcomings/1").json()["addressed_by"] == [3]
        # The old ETag no longer matches: the change cannot be lost to a stale editor.
        assert client.patch(D3, json={"addresses": []}, headers=headers).status_code == 412
        r = client.patch(D3, json={"addresses": []}, headers={**auth, "If-Match": r.headers["etag"]})
        assert r.status_code == 200
        assert r.json()["addresses"] == []
        assert client.get("/api/v1/shortcomings/3").json()["addressed_by"] == []

    def test_update_directive_addresses_null_or_unknown_422(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        headers = {**auth, "If-Match": etag_of(client, D3)}
        for addresses in (None, [4242]):
            r = client.patch(D3, json={"addresses": addresses, "status": "in_progress"}, headers=headers)
            assert r.status_code == 422
            assert invalid_names(r) == ["body.addresses"]
        assert client.get(D3).json()["status"] == "open"
        assert client.get(f"{D3}/history").json()["total"] == 0

    def test_update_directive_same_addresses_changes_nothing(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        before = client.get(D3)
        r = client.patch(D3, json={"addresses": [3]}, headers={**auth, "If-Match": before.headers["etag"]})
        assert r.status_code == 200
        assert r.headers["etag"] == before.headers["etag"]

    def test_list_shortcomings_addressed(self, client: TestClient) -> None:
        assert ids(client.get("/api/v1/shortcomings", params={"addressed": "false"})) == [1]
        assert ids(client.get("/api/v1/shortcomings", params={"addressed": "true"})) == [2, 3, 4, 5]
        assert client.get("/api/v1/shortcomings", params={"addressed": "maybe"}).status_code == 422
        assert client.get("/api/v1/findings", params={"addressed": "false"}).json()["total"] == 4

    def test_delete_shortcoming_unlinks_it(self, client: TestClient, auth: dict[str, str]) -> None:
        path = "/api/v1/shortcomings/3"
        before = client.get(D3)
        r = client.delete(path, headers={**auth, "If-Match": etag_of(client, path)})
        assert r.status_code == 204
        after = client.get(D3)
        assert after.json()["addresses"] == []
        assert after.json()["updated_at"] >= before.json()["updated_at"]


# --- reviews --------------------------------------------------------------------------------------------


class TestReviews:
    def test_create_review_by_later_meeting_201(self, client: TestClient, auth: dict[str, str]) -> None:
        m = later_meeting(client, auth)
        body = {
            "directive_id": 3,
            "outcome": "Đã đăng ký làm việc với các sở, ngành",
            "source_quote": "trích",
        }
        r = client.post(f"/api/v1/meetings/{m['slug']}/reviews", json=body, headers=auth)
        assert r.status_code == 201, r.text
        review = r.json()
        assert r.headers["location"] == f"/api/v1/meetings/{m['id']}/reviews/{review['id']}"
        assert {k: review[k] for k in ("meeting_id", "directive_id", "outcome")} == {
            "meeting_id": m["id"],
            "directive_id": 3,
            "outcome": body["outcome"],
        }
        got = client.get(r.headers["location"])
        assert got.status_code == 200
        assert got.json() == review
        assert got.headers["etag"] == r.headers["etag"]
        assert client.get(f"/api/v1/meetings/{m['id']}/reviews").json()["items"] == [review]
        assert client.get(f"{D3}/reviews").json()["items"] == [review]
        assert client.get("/api/v1/directives/1/reviews").json()["items"] == []
        assert client.get("/api/v1/meetings/1/reviews").json()["items"] == []

    @pytest.mark.parametrize("day", ["2018-03-20", "2018-03-19"])
    def test_create_review_not_later_422(self, client: TestClient, auth: dict[str, str], day: str) -> None:
        m = later_meeting(client, auth, date=day, starts_at=None)
        r = client.post(
            f"/api/v1/meetings/{m['id']}/reviews", json={"directive_id": 3, "outcome": "x"}, headers=auth
        )
        assert r.status_code == 422
        assert invalid_names(r) == ["body.directive_id"]
        assert client.get(f"{D3}/reviews").json()["total"] == 0

    def test_create_review_by_the_directives_own_meeting_422(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        r = client.post("/api/v1/meetings/1/reviews", json={"directive_id": 3, "outcome": "x"}, headers=auth)
        assert r.status_code == 422
        assert invalid_names(r) == ["body.directive_id"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"directive_id": 4242, "outcome": "x"}, "body.directive_id"),
            ({"directive_id": 3}, "body.outcome"),
            ({"directive_id": 3, "outcome": ""}, "body.outcome"),
            ({"directive_id": 3, "outcome": "x", "meeting_id": 1}, "body.meeting_id"),
        ],
    )
    def test_create_review_invalid_422(
        self, client: TestClient, auth: dict[str, str], body: dict[str, Any], field: str
    ) -> None:
        m = later_meeting(client, auth)
        r = client.post(f"/api/v1/meetings/{m['id']}/reviews", json=body, headers=auth)
        assert r.status_code == 422
        assert field in invalid_names(r)

    def test_create_review_unknown_meeting_404(self, client: TestClient, auth: dict[str, str]) -> None:
        r = client.post(
            "/api/v1/meetings/4242/reviews", json={"directive_id": 3, "outcome": "x"}, headers=auth
        )
        assert r.status_code == 404

    def test_delete_review_with_if_match(self, client: TestClient, auth: dict[str, str]) -> None:
        m = later_meeting(client, auth)
        r = client.post(
            f"/api/v1/meetings/{m['id']}/reviews", json={"directive_id": 3, "outcome": "x"}, headers=auth
        )
        path = r.headers["location"]
        assert client.delete(path, headers=auth).status_code == 428
        assert client.delete(path, headers={**auth, "If-Match": '"old"'}).status_code == 412
        assert client.delete(f"/api/v1/meetings/1/reviews/{r.json()['id']}", headers=auth).status_code == 404
        assert client.delete(path, headers={**auth, "If-Match": r.headers["etag"]}).status_code == 204
        assert client.get(path).status_code == 404

    def test_delete_reviewing_meeting_takes_its_reviews(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        m = later_meeting(client, auth)
        client.post(
            f"/api/v1/meetings/{m['id']}/reviews", json={"directive_id": 3, "outcome": "x"}, headers=auth
        )
        path = f"/api/v1/meetings/{m['id']}"
        assert client.delete(path, headers={**auth, "If-Match": etag_of(client, path)}).status_code == 204
        assert client.get(f"{D3}/reviews").json()["total"] == 0


# --- citations ------------------------------------------------------------------------------------------


class TestCitations:
    def test_delete_citation_then_the_document(self, client: TestClient, auth: dict[str, str]) -> None:
        doc = "/api/v1/documents/nq-18-tw-khoa-xii"
        doc_etag = etag_of(client, doc)
        assert client.delete(doc, headers={**auth, "If-Match": doc_etag}).status_code == 409
        cite = "/api/v1/meetings/1/documents/nq-18-tw-khoa-xii"
        r = client.get(cite)
        assert r.status_code == 200
        assert r.json()["source_quote"]
        assert client.delete(cite, headers=auth).status_code == 428
        assert client.delete(cite, headers={**auth, "If-Match": '"old"'}).status_code == 412
        assert client.delete(cite, headers={**auth, "If-Match": r.headers["etag"]}).status_code == 204
        assert client.get(cite).status_code == 404
        assert 1 not in ids(client.get("/api/v1/meetings/1/documents"))
        assert client.delete(doc, headers={**auth, "If-Match": doc_etag}).status_code == 204

    def test_create_citation_201(self, client: TestClient, auth: dict[str, str]) -> None:
        m = later_meeting(client, auth)
        body = {"document_id": 2, "source_quote": "Nghị quyết số 19"}
        r = client.post(f"/api/v1/meetings/{m['id']}/documents", json=body, headers=auth)
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"/api/v1/meetings/{m['id']}/documents/2"
        assert (r.json()["meeting_id"], r.json()["id"], r.json()["source_quote"]) == (
            m["id"],
            2,
            "Nghị quyết số 19",
        )
        got = client.get(r.headers["location"])
        assert got.json() == r.json()
        assert got.headers["etag"] == r.headers["etag"]
        assert m["id"] in ids(client.get("/api/v1/documents/2/meetings"))
        again = client.post(f"/api/v1/meetings/{m['id']}/documents", json=body, headers=auth)
        assert again.status_code == 409
        problem_of(again)

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"document_id": 4242, "source_quote": "x"}, "body.document_id"),
            ({"document_id": 2}, "body.source_quote"),
            ({"document_id": 2, "source_quote": "x", "meeting_id": 1}, "body.meeting_id"),
        ],
    )
    def test_create_citation_invalid_422(
        self, client: TestClient, auth: dict[str, str], body: dict[str, Any], field: str
    ) -> None:
        m = later_meeting(client, auth)
        r = client.post(f"/api/v1/meetings/{m['id']}/documents", json=body, headers=auth)
        assert r.status_code == 422
        assert field in invalid_names(r)

    def test_create_citation_idempotent_replay(self, client: TestClient, auth: dict[str, str]) -> None:
        m = later_meeting(client, auth)
        headers = {**auth, "Idempotency-Key": "trich-dan-1"}
        body = {"document_id": 2, "source_quote": "x"}
        first = client.post(f"/api/v1/meetings/{m['id']}/documents", json=body, headers=headers)
        again = client.post(f"/api/v1/meetings/{m['id']}/documents", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()


# --- the request examples of the OpenAPI document -----------------------------------------------------


def test_create_links_examples_are_what_the_api_accepts(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(f"{D3}/assignees", json=docs.ASSIGNEE_CREATE, headers=auth)
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in docs.ASSIGNEE_CREATE} == docs.ASSIGNEE_CREATE
    path = r.headers["location"]
    r = client.patch(path, json=docs.ASSIGNEE_UPDATE, headers={**auth, "If-Match": r.headers["etag"]})
    assert r.status_code == 200
    assert {k: r.json()[k] for k in docs.ASSIGNEE_UPDATE} == docs.ASSIGNEE_UPDATE
    m = later_meeting(client, auth)
    assert m["id"] == 2
    r = client.post("/api/v1/meetings/2/reviews", json=docs.REVIEW_CREATE, headers=auth)
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in docs.REVIEW_CREATE} == docs.REVIEW_CREATE
    r = client.post("/api/v1/meetings/2/documents", json=docs.CITATION_CREATE, headers=auth)
    assert r.status_code == 201, r.text


# --- /stats ------------------------------------------------------------------------------------------------


def set_today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date.fromisoformat(day))


class TestStats:
    def test_read_stats_of_the_seed_is_the_example(self, client: TestClient) -> None:
        r = client.get("/api/v1/stats")
        assert r.status_code == 200
        assert r.json() == STATS
        assert client.get("/api/v1/stats", headers={"If-None-Match": r.headers["etag"]}).status_code == 304

    def test_read_stats_counts_follow_the_records(
        self, client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        set_today(monkeypatch, "2030-06-01")
        m = later_meeting(client, auth)  # 2030-01
        late = later_meeting(client, auth, slug="test-meeting-2", date="2030-02-03", starts_at=None)
        made = []
        for slug, due in (("d-overdue", "2030-05-01"), ("d-on-time", "2030-12-31"), ("d-done", "2030-12-31")):
            r = client.post(
                "/api/v1/directives", json=new_directive(client, slug=slug, due_date=due), headers=auth
            )
            assert r.status_code == 201
            made.append(r.json())
        for status in ("in_progress", "done"):
            path = "/api/v1/directives/d-done"
            r = client.patch(
                path, json={"status": status}, headers={**auth, "If-Match": etag_of(client, path)}
            )
            assert r.status_code == 200
        path = f"{D3}"
        r = client.patch(
            path, json={"status": "cancelled"}, headers={**auth, "If-Match": etag_of(client, path)}
        )
        assert r.status_code == 200
        for d in made:
            r = client.post(
                f"/api/v1/directives/{d['id']}/assignees", json={"role": "lead", "person_id": 3}, headers=auth
            )
            assert r.status_code == 201
        r = client.post(
            f"/api/v1/directives/{made[0]['id']}/assignees",
            json={"role": "lead", "organization": "các huyện ủy, thành ủy"},  # as seeded, but lower case
            headers=auth,
        )
        assert r.status_code == 201
        r = client.post(
            f"/api/v1/meetings/{m['id']}/reviews", json={"directive_id": 1, "outcome": "x"}, headers=auth
        )
        assert r.status_code == 201

        stats = client.get("/api/v1/stats").json()
        assert stats["totals"] == {
            "meetings": 3,
            "directives": 13,
            "shortcomings": 5,
            "shortcomings_unaddressed": 1,
            "findings": 4,
            "assignees": 8,
            "reviews": 1,
        }
        assert stats["directives_by_status"] == {"cancelled": 1, "done": 1, "in_progress": 0, "open": 11}
        assert stats["directives_by_progress"] == {
            "done_late": 0,
            "done_on_time": 1,
            "in_progress_on_time": 10,
            "overdue": 1,
        }
        assert stats["directives_by_assignee"][:2] == [
            {"kind": "person", "name": "Trần Ngọc Tam", "person_id": 3, "role": "lead", "directives": 3},
            # One organization however its name is cased, named as first written.
            {
                "kind": "organization",
                "name": "Các huyện ủy, thành ủy",
                "person_id": None,
                "role": "lead",
                "directives": 2,
            },
        ]
        assert stats["meetings_by_month"] == [
            {"month": "2018-03", "meetings": 1},
            {"month": "2030-01", "meetings": 1},
            {"month": "2030-02", "meetings": 1},
        ]
        # Filters select meetings; every count is then over theirs.
        only = client.get("/api/v1/stats", params={"date_from": "2030-01-01"}).json()
        assert only["totals"] == {
            "meetings": 2,
            "directives": 0,
            "shortcomings": 0,
            "shortcomings_unaddressed": 0,
            "findings": 0,
            "assignees": 0,
            "reviews": 1,
        }
        assert only["directives_by_assignee"] == []
        assert [x["month"] for x in only["meetings_by_month"]] == ["2030-01", "2030-02"]
        january = client.get("/api/v1/stats", params={"date_from": "2030-01-01", "date_to": "2030-01-31"})
        assert january.status_code == 200
        assert january.json()["totals"]["meetings"] == 1
        assert january.json()["meetings_by_month"] == [{"month": "2030-01", "meetings": 1}]
        first = client.get("/api/v1/stats", params={"meeting_id": 1, "date_to": "2018-12-31"}).json()
        assert first["totals"]["directives"] == 13
        assert first["totals"]["assignees"] == 8
        assert (
            client.get("/api/v1/stats", params={"meeting_id": late["id"]}).json()["totals"]["meetings"] == 1
        )

    def assign_many(self, client: TestClient, auth: dict[str, str], *, people: bool = True) -> None:
        """Ties and unequal counts over the seed's four organizations (a directive each): three
        more organizations with two directives each, whose folded names sort differently by code
        point ('b' < 't' < 'æ') and by a language's collation ('æ' < 'b' < 't'), and people in two
        roles."""
        for organization in ("ban æ", "ban b", "ban t"):
            for directive in (1, 2):
                r = client.post(
                    f"/api/v1/directives/{directive}/assignees",
                    json={"role": "lead", "organization": organization},
                    headers=auth,
                )
                assert r.status_code == 201, r.text
        if not people:
            return
        for directive, person, role in (
            (1, 3, "lead"),
            (2, 3, "lead"),
            (3, 3, "lead"),
            (4, 3, "coordinating"),
            (5, 2, "lead"),
        ):
            r = client.post(
                f"/api/v1/directives/{directive}/assignees",
                json={"role": role, "person_id": person},
                headers=auth,
            )
            assert r.status_code == 201, r.text

    def test_read_stats_assignee_limit_keeps_the_first(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        self.assign_many(client, auth)
        r = client.get("/api/v1/stats", params={"assignee_limit": 1000})
        assert r.status_code == 200
        every = r.json()["directives_by_assignee"]
        assert r.json()["directives_by_assignee_total"] == len(every) == 10

        # most directives first, then by the folded name /stats groups by (an organization's
        # words, a person's name) in code-point order, by role, and by person
        def key(a: dict[str, Any]) -> tuple[Any, ...]:
            folded = fold(a["name"]) if a["person_id"] else folded_words(a["name"])
            return (-a["directives"], folded, a["role"], a["person_id"] or 0)

        assert every == sorted(every, key=key)
        assert [(a["name"], a["directives"]) for a in every[:4]] == [
            ("Trần Ngọc Tam", 3),
            ("ban b", 2),
            ("ban t", 2),
            ("ban æ", 2),
        ]
        for limit in range(1, len(every) + 1):
            r = client.get("/api/v1/stats", params={"assignee_limit": limit})
            assert r.status_code == 200
            assert r.json()["directives_by_assignee"] == every[:limit]
            assert r.json()["directives_by_assignee_total"] == 10
        assert client.get("/api/v1/stats").json()["directives_by_assignee"] == every  # default: 100

    @pytest.mark.skipif(BACKEND != "postgresql", reason="a column collation of PostgreSQL's")
    def test_read_stats_assignee_order_is_code_points_whatever_the_collation(
        self, client: TestClient, auth: dict[str, str], engine: Engine
    ) -> None:
        """The pairs are ranked in SQL, each query cut at `assignee_limit`: the cut must fall where
        Python's order puts it, whatever the database's collation. Here the folded names' columns
        sort by ICU's English rules, for which 'æ' < 'b' < 't': cut in the middle of the three
        organizations tied at two directives (the most), the first of them is still 'ban b'."""
        with engine.begin() as conn:
            for table, column, size in (
                ("directive_assignee", "organization_folded", 2000),
                ("person", "name_folded", 500),
            ):
                conn.exec_driver_sql(
                    f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({size}) COLLATE "en-US-x-icu"'
                )
            assert conn.exec_driver_sql("SELECT 'ban æ' < 'ban b' COLLATE \"en-US-x-icu\"").scalar_one()
        self.assign_many(client, auth, people=False)
        for limit, names in ((1, ["ban b"]), (2, ["ban b", "ban t"])):
            r = client.get("/api/v1/stats", params={"assignee_limit": limit})
            assert r.status_code == 200
            assert [a["name"] for a in r.json()["directives_by_assignee"]] == names

    @pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's plans (PostgreSQL's follow its statistics)")
    def test_read_stats_counts_from_indexes_not_rows(
        self,
        client: TestClient,
        engine: Engine,
        fast_statements: list[tuple[str, Any]],
        no_response_cache: None,
    ) -> None:
        """Every count of /stats, and the total of a list filtered by ?progress=, reads indexes
        only, never the directive or assignee rows and their text (with 1,000,000 directives:
        seconds; migration f2c8a5d1e7b3)."""
        seen = fast_statements  # the list's statements; /stats's go through SQLAlchemy:

        def spy(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
            seen.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", spy)
        try:
            assert client.get("/api/v1/stats").status_code == 200
            r = client.get("/api/v1/directives", params={"progress": "in_progress_on_time", "limit": 1})
            assert r.status_code == 200
            assert r.json()["total"] == 10  # counted: there is a next page
        finally:
            event.remove(engine, "before_cursor_execute", spy)
        counts = [(sql, params) for sql, params in seen if "count(" in sql]
        assert len(counts) == 7  # /stats: totals, status, progress, organizations, people, months; the total
        row_reads = re.compile(r"(SCAN|SEARCH) (directive|directive_assignee)\b(?! USING COVERING INDEX)")
        for sql, params in counts:
            plan = sqlite_plan(engine, sql, params)
            assert not [step for step in plan if row_reads.match(step)], (sql, plan)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"date_from": "1521504000"}, "query.date_from"),
            ({"meeting_id": "0"}, "query.meeting_id"),
            ({"assignee_limit": "0"}, "query.assignee_limit"),
            ({"assignee_limit": "1001"}, "query.assignee_limit"),
        ],
    )
    def test_read_stats_bad_filter_422(self, client: TestClient, params: dict[str, str], field: str) -> None:
        r = client.get("/api/v1/stats", params=params)
        assert r.status_code == 422
        assert invalid_names(r) == [field]
