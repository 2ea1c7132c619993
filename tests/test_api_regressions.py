"""Regression tests for what the Schemathesis runs (tests/test_schemathesis.py) found, and
for the NUL and overflow cases they pointed at: plain tests, in every back end's run."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from app.main import app
from tests.conftest import problem_of


def cursor_of(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class TestRegressions:
    def test_nested_collection_sort(self, client: TestClient) -> None:
        # The sort of /meetings/{ref}/... could not be resolved: a 500 on every
        # request, and no OpenAPI document at all.
        r = client.get("/api/v1/meetings/1/participants", params={"sort": "-id", "limit": 2})
        assert r.status_code == 200
        assert [p["id"] for p in r.json()["items"]] == [5, 4]

    @pytest.mark.parametrize("day", ["0", "1521504000", "2018-03-20T00:00:00", "20180320"])
    def test_dates_are_iso_days_only(self, client: TestClient, day: str) -> None:
        # format: date is YYYY-MM-DD; pydantic also took a Unix timestamp.
        r = client.get("/api/v1/findings", params={"date_to": day})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.date_to"

    def test_a_key_given_twice_breaks_the_documented_sort_pattern(self, client: TestClient) -> None:
        # The pattern took repeated keys, which the API rightly refuses.
        assert client.get("/api/v1/meetings", params={"sort": "-date,title,id"}).status_code == 200
        r = client.get("/api/v1/meetings", params={"sort": "date,-date"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["type"] == "string_pattern_mismatch"

    @pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/directives"])
    @pytest.mark.parametrize("q", ["!!!", ";", "中文"])
    def test_a_query_without_letters_breaks_the_documented_pattern(
        self, client: TestClient, path: str, q: str
    ) -> None:
        r = client.get(path, params={"q": q})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.q"

    def test_name_with_nul_matches_nobody(self, client: TestClient) -> None:
        # PostgreSQL refuses NUL in a text parameter: this was a 500 there.
        r = client.get("/api/v1/people", params={"name": "h\x00o"})
        assert r.status_code == 200
        assert r.json() == {"items": [], "total": 0, "next_cursor": None}

    @pytest.mark.parametrize(
        ("path", "sort", "cursor"),
        [
            ("/api/v1/people", None, {"s": "full_name,id", "v": ["a\x00", 1]}),
            ("/api/v1/meetings", "title", {"s": "title,id", "v": ["a\x00", 1]}),
            ("/api/v1/directives", None, {"s": "id", "v": [10**30]}),
            ("/api/v1/directives", None, {"s": "id", "v": [-(10**30)]}),
        ],
    )
    def test_forged_cursor_is_rejected(
        self, client: TestClient, path: str, sort: str | None, cursor: object
    ) -> None:
        # Values no back end takes as a parameter: a 500 before.
        params = {"cursor": cursor_of(cursor), **({"sort": sort} if sort else {})}
        r = client.get(path, params=params)
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.cursor"

    @pytest.mark.parametrize("method", ["OPTIONS", "PUT", "HEAD"])
    def test_allow_lists_every_method_of_the_path(self, method: str) -> None:
        # 405 listed only the methods of the first route Starlette matched:
        # `Allow: GET` on /api/v1/meetings, which POST also answers.
        document = app.openapi()
        client = TestClient(app, raise_server_exceptions=False)
        checked = 0
        for path, item in document["paths"].items():
            documented = {m.upper() for m in item}
            if method in documented:
                continue
            r = client.request(method, path.replace("{ref}", "1"))
            assert r.status_code == 405, path
            if method != "HEAD":
                problem_of(r)
            assert set(r.headers["allow"].split(", ")) == documented, path
            checked += 1
        assert checked >= 20
        # Listed where answered: Starlette's own route for the document answers HEAD.
        r = client.put("/openapi.json")
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD"
        assert client.head("/openapi.json").status_code == 200

    @pytest.mark.parametrize("path", ["/api/v1/people", "/api/v1/meetings/1"])
    def test_a_body_that_is_not_utf8_is_a_documented_400(self, path: str) -> None:
        # FastAPI answers 400 for a body it cannot decode; the writes documented no 400.
        client = TestClient(app, raise_server_exceptions=False)
        method = "POST" if path.endswith("people") else "PATCH"
        r = client.request(method, path, content=b"\xc3\x28", headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        problem_of(r)
        template = path if method == "POST" else "/api/v1/meetings/{ref}"
        assert "400" in app.openapi()["paths"][template][method.lower()]["responses"]

    @pytest.mark.parametrize(
        ("path", "method", "body", "field"),
        [
            ("/api/v1/meetings/1", "PATCH", {"starts_at": 1_700_000_000}, "body.starts_at"),
            ("/api/v1/meetings/1", "PATCH", {"date": 20180320}, "body.date"),
            ("/api/v1/directives/1", "PATCH", {"due_date": 0}, "body.due_date"),
            ("/api/v1/documents/1", "PATCH", {"issued_on": 1.5}, "body.issued_on"),
        ],
    )
    def test_a_number_is_no_date(
        self, client: TestClient, auth: dict[str, str], path: str, method: str, body: object, field: str
    ) -> None:
        # The write run found pydantic taking a number as seconds since 1970 (a 201 for a
        # starts_at of 1969): the schema offers ISO 8601 text only.
        etag = client.get(path).headers["etag"]
        r = client.request(method, path, json=body, headers={**auth, "If-Match": etag})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == field


def test_list_page_sql_is_each_back_ends_own() -> None:
    # The SQL of a list page was kept per shape of request but not per back end: a process
    # that served SQLite and then PostgreSQL (the Schemathesis run does) sent the SQLite
    # statement of a ?q= filter (FTS5's MATCH) to PostgreSQL, a 500 there.
    from sqlalchemy.dialects import postgresql, sqlite

    from app.deps import _list_queries, _q_filter
    from app.fastread import Filters
    from app.resources import DIRECTIVES

    by_id = [DIRECTIVES.sorting.keys["id"]]
    sql = {}
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        where = Filters()
        _q_filter(where, dialect.name, DIRECTIVES, "đăng ký")
        queries = _list_queries(dialect.name, DIRECTIVES, where, "id", by_id, [False], False)
        page, count = queries.page, queries.count
        sql[dialect.name] = (page.compiled(dialect).sql, count.compiled(dialect).sql)
    assert all("MATCH" in s for s in sql["sqlite"])
    assert all("@@" in s and "MATCH" not in s for s in sql["postgresql"])
