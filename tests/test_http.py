"""The HTTP contract: ETags, problem+json for every error, health endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app.db import get_engine
from app.main import app
from tests.conftest import BACKEND, problem_of


class TestETags:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/meetings",
            "/api/v1/meetings/1?include=participants,directives",
            "/api/v1/directives/3",
            "/api/v1/search?q=dang+ky",
            "/readyz",
        ],
    )
    def test_read_with_if_none_match(self, client: TestClient, path: str) -> None:
        first = client.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert etag.endswith('"')
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        weak = client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        other = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
        assert other.json() == first.json()

    def test_read_etag_differs_between_representations(self, client: TestClient) -> None:
        a = client.get("/api/v1/meetings/1")
        b = client.get("/api/v1/meetings/1?include=directives")
        assert a.status_code == b.status_code == 200
        assert a.headers["etag"] != b.headers["etag"]

    def test_read_errors_carry_no_etag(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings/424242")
        assert r.status_code == 404
        assert "etag" not in r.headers


class TestProblems:
    def test_unknown_route(self, client: TestClient) -> None:
        r = client.get("/api/v1/votes")
        assert r.status_code == 404
        assert problem_of(r)["detail"] == "No route matches /api/v1/votes."

    def test_wrong_method(self, client: TestClient) -> None:
        r = client.delete("/api/v1/meetings")
        assert r.status_code == 405
        body = problem_of(r)
        assert "DELETE" in body["detail"]
        assert "GET" in r.headers["allow"]

    def test_validation_error_names_every_field(self, client: TestClient) -> None:
        r = client.get("/api/v1/directives", params={"limit": 0, "status": "x", "meeting_id": "abc"})
        assert r.status_code == 422
        body = problem_of(r)
        names = {p["name"] for p in body["invalid_params"]}
        assert names == {"query.limit", "query.status", "query.meeting_id"}
        assert body["title"] == "Unprocessable Entity"

    def test_server_error_is_a_problem_without_traceback(self) -> None:
        def broken() -> None:
            raise RuntimeError("secret internals")

        app.dependency_overrides[get_engine] = broken
        try:
            r = TestClient(app, raise_server_exceptions=False).get("/api/v1/meetings")
        finally:
            app.dependency_overrides.clear()
        assert r.status_code == 500
        body = problem_of(r)
        assert "secret" not in r.text
        assert "Traceback" not in r.text
        assert body["title"] == "Internal Server Error"


class TestHealth:
    def test_read_health(self, client: TestClient) -> None:
        r = client.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}

    def test_read_ready(self, client: TestClient) -> None:
        r = client.get("/readyz")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "ok"
        assert body["database"] == BACKEND
        if BACKEND == "sqlite":
            assert body["version"] == "3.53.4" or tuple(map(int, body["version"].split("."))) >= (3, 51, 3)
            assert body["journal_mode"] == "wal"

    @pytest.fixture
    def dead_database(self) -> Iterator[None]:
        engine = create_engine(
            "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
        )
        app.dependency_overrides[get_engine] = lambda: engine
        yield
        app.dependency_overrides.clear()
        engine.dispose()

    def test_read_ready_database_down(self, dead_database: None) -> None:
        r = TestClient(app, raise_server_exceptions=False).get("/readyz")
        assert r.status_code == 503
        assert "does not answer" in problem_of(r)["detail"]
