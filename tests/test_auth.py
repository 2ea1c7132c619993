"""API keys: the keys CLI, Bearer authentication on writes, scopes and the failure limiter."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.auth import FailureLimiter, api_key_t, create_key
from app.config import ROOT, Settings, get_settings
from app.main import app
from app.models.apikey import Scope
from app.routers import people
from app.routers import writes as write_routes
from tests.conftest import problem_of

NEW_PERSON = {"slug": "nguyen-van-test", "full_name": "Nguyễn Văn Test"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def run_keys(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_SCHEMA"}}
    env["DATABASE_URL"] = settings.database_url
    if settings.database_schema:
        env["DATABASE_SCHEMA"] = settings.database_schema
    return subprocess.run(
        [sys.executable, "-m", "app", "keys", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestKeysCli:
    def test_create_list_revoke(self, client: TestClient, engine: Engine, settings: Settings) -> None:
        made = run_keys(settings, "create", "--name", "ci bot", "--scope", "write")
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip().splitlines()[-1]
        assert key.startswith("mr_")
        _, prefix, secret = key.split("_", 2)
        assert len(secret) >= 40

        # Stored hashed: the secret is nowhere in the table.
        with engine.connect() as conn:
            row = conn.execute(select(api_key_t)).mappings().one()
        assert row["prefix"] == prefix
        assert secret not in str(dict(row))
        assert row["name"] == "ci bot"

        listed = run_keys(settings, "list")
        assert listed.returncode == 0, listed.stderr
        assert "ci bot" in listed.stdout
        assert prefix in listed.stdout
        assert secret not in listed.stdout

        r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer(key))
        assert r.status_code == 201, r.text

        revoked = run_keys(settings, "revoke", str(row["id"]))
        assert revoked.returncode == 0, revoked.stderr
        last = run_keys(settings, "list").stdout.strip().splitlines()[-1]
        assert last.split("\t")[-1] != "-"  # revoked_at is set
        r = client.post("/api/v1/people", json={**NEW_PERSON, "slug": "another-one"}, headers=bearer(key))
        assert r.status_code == 401
        problem_of(r)

    def test_revoke_unknown_id(self, engine: Engine, settings: Settings) -> None:
        r = run_keys(settings, "revoke", "424242")
        assert r.returncode == 1
        assert "424242" in r.stderr

    def test_create_needs_a_known_scope(self, engine: Engine, settings: Settings) -> None:
        r = run_keys(settings, "create", "--name", "x", "--scope", "root")
        assert r.returncode == 2


class TestBearer:
    def test_no_key_is_401_with_challenge(self, client: TestClient) -> None:
        r = client.post("/api/v1/people", json=NEW_PERSON)
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        problem_of(r)

    @pytest.mark.parametrize(
        "value",
        ["Bearer nonsense", "Bearer mr_000000000000_wrong", "Basic dXNlcjpwYXNz", "Bearer mr__"],
    )
    def test_bad_key_is_401(self, client: TestClient, value: str) -> None:
        r = client.post("/api/v1/people", json=NEW_PERSON, headers={"Authorization": value})
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        problem_of(r)

    def test_right_prefix_wrong_secret_is_401(self, client: TestClient, engine: Engine) -> None:
        key = create_key(engine, "k", Scope.write)
        r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer(f"mr_{key.prefix}_{'x' * 43}"))
        assert r.status_code == 401

    def test_read_scope_is_403(self, client: TestClient, engine: Engine) -> None:
        key = create_key(engine, "reader", Scope.read)
        r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer(key.key))
        assert r.status_code == 403
        problem_of(r)

    @pytest.mark.parametrize("scope", [Scope.write, Scope.admin])
    def test_write_and_admin_may_write(self, client: TestClient, engine: Engine, scope: Scope) -> None:
        key = create_key(engine, "w", scope)
        r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer(key.key))
        assert r.status_code == 201, r.text

    def test_reads_need_no_key(self, client: TestClient) -> None:
        assert client.get("/api/v1/people").status_code == 200

    def test_openapi_declares_bearer_on_writes(self) -> None:
        # Built from the write routers (and the people reads) only: at this commit the
        # nested meeting routes still break the full document (fixed on main in parallel).
        mini = FastAPI()
        for router in (*write_routes.ROUTERS, people.router):
            mini.include_router(router, prefix="/api/v1")
        doc = mini.openapi()
        schemes = doc["components"]["securitySchemes"]
        assert schemes["ApiKey"] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["ApiKey"]["description"],
        }
        for path, method in [
            ("/api/v1/people", "post"),
            ("/api/v1/meetings/{ref}", "patch"),
            ("/api/v1/directives/{ref}", "delete"),
        ]:
            assert doc["paths"][path][method]["security"] == [{"ApiKey": []}]
        assert "security" not in doc["paths"]["/api/v1/people"]["get"]


class TestFailureLimit:
    def test_repeated_failures_get_429(self, client: TestClient, engine: Engine) -> None:
        limit = get_settings().auth_failure_limit
        for _ in range(limit):
            r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer("mr_000000000000_bad"))
            assert r.status_code == 401
        r = client.post("/api/v1/people", json=NEW_PERSON, headers=bearer("mr_000000000000_bad"))
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= get_settings().auth_failure_window_s
        problem_of(r)
        # While blocked, even a good key from that address waits.
        good = create_key(engine, "w", Scope.write)
        assert client.post("/api/v1/people", json=NEW_PERSON, headers=bearer(good.key)).status_code == 429

    def test_missing_key_is_not_counted(self, client: TestClient) -> None:
        for _ in range(get_settings().auth_failure_limit + 2):
            assert client.post("/api/v1/people", json=NEW_PERSON).status_code == 401

    def test_window_slides(self) -> None:
        now = [1000.0]
        lim = FailureLimiter(clock=lambda: now[0])
        settings = get_settings()
        for _ in range(settings.auth_failure_limit):
            lim.fail("1.2.3.4")
        wait = lim.retry_after("1.2.3.4")
        assert wait == settings.auth_failure_window_s
        assert lim.retry_after("5.6.7.8") is None
        now[0] += settings.auth_failure_window_s + 1
        assert lim.retry_after("1.2.3.4") is None


def test_app_is_importable() -> None:
    assert app.title


class TestReadsRequireKey:
    """Settings.reads_require_key: reads under /api/v1 need a key of any scope."""

    @pytest.fixture
    def closed(self) -> Iterator[None]:
        settings = get_settings()
        settings.reads_require_key = True
        try:
            yield
        finally:
            settings.reads_require_key = False

    def test_read_meetings_is_public_by_default(self, client: TestClient) -> None:
        assert client.get("/api/v1/meetings").status_code == 200

    @pytest.mark.usefixtures("closed")
    def test_read_meetings_without_key_is_401(self, client: TestClient) -> None:
        r = client.get("/api/v1/meetings")
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        problem_of(r)
        assert client.get("/api/v1/search", params={"q": "nghi quyet"}).status_code == 401

    @pytest.mark.usefixtures("closed")
    def test_read_meetings_with_read_key(self, client: TestClient, engine: Engine) -> None:
        key = create_key(engine, "reader", Scope.read).key
        r = client.get("/api/v1/meetings/1", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
        assert r.json()["id"] == 1
        bad = client.get("/api/v1/meetings/1", headers={"Authorization": "Bearer mr_000000000000_nope"})
        assert bad.status_code == 401

    @pytest.mark.usefixtures("closed")
    def test_health_and_docs_stay_public(self, client: TestClient) -> None:
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200

    @pytest.mark.usefixtures("closed")
    def test_write_still_needs_write_scope(self, client: TestClient, engine: Engine) -> None:
        key = create_key(engine, "reader", Scope.read).key
        r = client.post("/api/v1/people", json=NEW_PERSON, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 403
