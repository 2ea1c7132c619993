"""Directive follow-up: status transitions, their history, and the progress categories."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import clock
from tests.conftest import problem_of, write_key
from tests.test_writes import new_directive


@pytest.fixture
def auth(engine: Engine) -> dict[str, str]:
    return write_key(engine, "follow-up officer")


def set_today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date.fromisoformat(day))


def make(client: TestClient, auth: dict[str, str], slug: str, due: str | None) -> dict[str, Any]:
    r = client.post("/api/v1/directives", json=new_directive(client, slug=slug, due_date=due), headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def patch(client: TestClient, auth: dict[str, str], ref: str | int, **body: Any) -> Any:  # the response
    etag = client.get(f"/api/v1/directives/{ref}").headers["etag"]
    return client.patch(f"/api/v1/directives/{ref}", json=body, headers={**auth, "If-Match": etag})


def history(client: TestClient, ref: str | int) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/directives/{ref}/history")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"items", "total", "next_cursor"}
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


class TestTransitions:
    @pytest.mark.parametrize(
        "path",
        [
            ["in_progress", "done"],
            ["cancelled"],
            ["in_progress", "cancelled"],
        ],
    )
    def test_allowed(self, client: TestClient, auth: dict[str, str], path: list[str]) -> None:
        d = make(client, auth, "d-allowed", "2030-12-31")
        for status in path:
            r = patch(client, auth, d["id"], status=status)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == status
        assert [(e["from_status"], e["to_status"]) for e in history(client, d["id"])] == list(
            zip(["open", *path[:-1]], path, strict=True)
        )

    @pytest.mark.parametrize(
        ("path", "refused"),
        [
            ([], "done"),  # open -> done skips in_progress
            (["in_progress"], "open"),
            (["in_progress", "done"], "in_progress"),
            (["in_progress", "done"], "cancelled"),
            (["cancelled"], "open"),
            (["cancelled"], "in_progress"),
        ],
    )
    def test_refused_422(
        self, client: TestClient, auth: dict[str, str], path: list[str], refused: str
    ) -> None:
        d = make(client, auth, "d-refused", "2030-12-31")
        for status in path:
            assert patch(client, auth, d["id"], status=status).status_code == 200
        r = patch(client, auth, d["id"], status=refused)
        assert r.status_code == 422, r.text
        names = [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]
        assert names == ["body.status"]
        assert client.get(f"/api/v1/directives/{d['id']}").json()["status"] == (path or ["open"])[-1]
        assert len(history(client, d["id"])) == len(path)

    def test_same_status_and_other_fields_record_nothing(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        d = make(client, auth, "d-same", None)
        assert patch(client, auth, d["id"], status="open").status_code == 200
        assert patch(client, auth, d["id"], text="Văn bản mới").status_code == 200
        assert history(client, d["id"]) == []

    def test_note_without_change_422(self, client: TestClient, auth: dict[str, str]) -> None:
        d = make(client, auth, "d-note", None)
        r = patch(client, auth, d["id"], status_note="ghi chú")
        assert r.status_code == 422
        names = [p["name"] for p in problem_of(r)["invalid_params"]]  # type: ignore[union-attr]
        assert names == ["body.status_note"]


class TestHistory:
    def test_who_when_note(self, client: TestClient, auth: dict[str, str]) -> None:
        d = make(client, auth, "d-history", "2030-12-31")
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        assert patch(client, auth, d["slug"], status="in_progress", status_note="Đã giao").status_code == 200
        assert patch(client, auth, d["slug"], status="done").status_code == 200
        after = dt.datetime.now(dt.UTC)
        events = history(client, d["slug"])
        assert [e["to_status"] for e in events] == ["in_progress", "done"]
        assert events[0]["id"] < events[1]["id"]
        assert [e["note"] for e in events] == ["Đã giao", None]
        assert {e["made_by"] for e in events} == {"follow-up officer"}
        assert {e["directive_id"] for e in events} == {d["id"]}
        for e in events:
            at = dt.datetime.fromisoformat(e["at"])
            assert at.utcoffset() == dt.timedelta(0)
            assert before <= at <= after

    def test_keyset_pages(self, client: TestClient, auth: dict[str, str]) -> None:
        d = make(client, auth, "d-pages", None)
        patch(client, auth, d["id"], status="in_progress")
        patch(client, auth, d["id"], status="done")
        first = client.get(f"/api/v1/directives/{d['id']}/history", params={"limit": 1}).json()
        assert first["total"] == 2
        assert first["next_cursor"]
        second = client.get(
            f"/api/v1/directives/{d['id']}/history", params={"limit": 1, "cursor": first["next_cursor"]}
        ).json()
        assert [e["to_status"] for e in first["items"] + second["items"]] == ["in_progress", "done"]
        assert second["next_cursor"] is None

    def test_seed_directive_has_none(self, client: TestClient) -> None:
        assert history(client, 1) == []

    @pytest.mark.parametrize("ref", ["999999", "no-such-directive", "99999999999"])
    def test_unknown_404(self, client: TestClient, ref: str) -> None:
        r = client.get(f"/api/v1/directives/{ref}/history")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")

    def test_events_go_with_the_directive(self, client: TestClient, auth: dict[str, str]) -> None:
        d = make(client, auth, "d-gone", None)
        patch(client, auth, d["id"], status="cancelled")
        etag = client.get(f"/api/v1/directives/{d['id']}").headers["etag"]
        r = client.delete(f"/api/v1/directives/{d['id']}", headers={**auth, "If-Match": etag})
        assert r.status_code == 204
        assert client.get(f"/api/v1/directives/{d['id']}/history").status_code == 404


def progress_of(client: TestClient, ref: str | int) -> str | None:
    value: str | None = client.get(f"/api/v1/directives/{ref}").json()["progress"]
    return value


class TestProgress:
    def test_each_category(
        self, client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        set_today(monkeypatch, "2030-06-01")
        no_deadline = make(client, auth, "p-none", None)
        later = make(client, auth, "p-later", "2030-06-01")  # due today: not yet overdue
        passed = make(client, auth, "p-passed", "2030-05-31")
        on_time = make(client, auth, "p-on-time", "2030-06-01")
        late = make(client, auth, "p-late", "2030-05-15")
        cancelled = make(client, auth, "p-cancelled", "2030-01-01")
        for d in (on_time, late):
            patch(client, auth, d["id"], status="in_progress")
            r = patch(client, auth, d["id"], status="done")
            assert r.json()["done_on"] == "2030-06-01"
        patch(client, auth, cancelled["id"], status="cancelled")
        assert progress_of(client, no_deadline["id"]) == "in_progress_on_time"
        assert progress_of(client, later["id"]) == "in_progress_on_time"
        assert progress_of(client, passed["id"]) == "overdue"
        assert progress_of(client, on_time["id"]) == "done_on_time"
        assert progress_of(client, late["id"]) == "done_late"
        assert progress_of(client, cancelled["id"]) is None

        # Time passes: the unfinished one due today becomes overdue; done ones stay as they were.
        set_today(monkeypatch, "2030-06-02")
        assert progress_of(client, later["id"]) == "overdue"
        assert progress_of(client, no_deadline["id"]) == "in_progress_on_time"
        assert progress_of(client, on_time["id"]) == "done_on_time"
        # In progress (not only open) counts as unfinished too.
        patch(client, auth, later["id"], status="in_progress")
        assert progress_of(client, later["id"]) == "overdue"

    def test_filter_counts(
        self, client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def count(progress: str) -> int:
            r = client.get("/api/v1/directives", params={"progress": progress, "limit": 100})
            assert r.status_code == 200, r.text
            body = r.json()
            assert {d["progress"] for d in body["items"]} <= {progress}
            n: int = body["total"]
            assert n == len(body["items"])
            return n

        set_today(monkeypatch, "2030-06-01")
        seed_total = client.get("/api/v1/directives").json()["total"]
        base = {p: count(p) for p in ("done_on_time", "done_late", "in_progress_on_time", "overdue")}
        assert sum(base.values()) == seed_total  # the seed has no cancelled directive
        make(client, auth, "f-1", "2030-05-01")
        make(client, auth, "f-2", "2030-05-02")
        make(client, auth, "f-3", None)
        late = make(client, auth, "f-4", "2030-05-03")
        patch(client, auth, late["id"], status="in_progress")
        patch(client, auth, late["id"], status="done")
        gone = make(client, auth, "f-5", "2030-05-04")
        patch(client, auth, gone["id"], status="cancelled")
        assert count("overdue") == base["overdue"] + 2
        assert count("in_progress_on_time") == base["in_progress_on_time"] + 1
        assert count("done_late") == base["done_late"] + 1
        assert count("done_on_time") == base["done_on_time"]
        r = client.get("/api/v1/directives", params={"progress": "overdue", "status": "open"})
        assert r.json()["total"] == base["overdue"] + 2
        assert client.get("/api/v1/directives", params={"progress": "late"}).status_code == 422

    def test_created_done_is_done_today(
        self, client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        set_today(monkeypatch, "2030-07-01")
        d = make(client, auth, "c-done", "2030-06-30")
        r = client.post(
            "/api/v1/directives",
            json=new_directive(client, slug="c-done-2", status="done", due_date="2030-07-01"),
            headers=auth,
        )
        assert r.status_code == 201, r.text
        assert r.json()["done_on"] == "2030-07-01"
        assert r.json()["progress"] == "done_on_time"
        assert progress_of(client, d["id"]) == "overdue"

    def test_clock_is_ho_chi_minh_date(self) -> None:
        assert clock.ZONE.key == "Asia/Ho_Chi_Minh"
        assert clock.today() == dt.datetime.now(clock.ZONE).date()
