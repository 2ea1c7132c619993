"""The fast read path (app/fastread.py) answers byte for byte what pydantic makes of the
Public models, on the seed and on generated data, on both back ends."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg import OperationalError
from psycopg.pq import TransactionStatus
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Engine, func, select

from app.config import Settings
from app.db import get_engine
from app.etag import record_etag
from app.generate import write_seed
from app.main import app
from app.models.common import Page
from app.models.meeting import MeetingDetail
from app.models.search import SearchHit
from app.resources import (
    ASSIGNEES,
    CITATIONS,
    DIRECTIVE_EVENTS,
    DIRECTIVES,
    DOCUMENTS,
    FINDINGS,
    MEETINGS,
    PARTICIPANTS,
    PEOPLE,
    REVIEWS,
    SHORTCOMINGS,
    Resource,
    addresses_t,
    assignee_t,
    citation_t,
)
from app.seed_schema import parse_seed
from app.seeding import load_seed
from tests.conftest import BACKEND, drop_settings_schema, make_settings, write_key
from tests.databases import Template

ALL = "participants,directives,shortcomings,findings,documents"
RECORDS = (MEETINGS, PEOPLE, PARTICIPANTS, DIRECTIVES, SHORTCOMINGS, FINDINGS, DOCUMENTS)
INCLUDABLE = {
    "participants": PARTICIPANTS,
    "directives": DIRECTIVES,
    "shortcomings": SHORTCOMINGS,
    "findings": FINDINGS,
    "documents": CITATIONS,
}


def make_big(engine: Engine, settings: Settings, seeded: Template) -> None:
    """The seed, 12 generated meetings, and follow-up written through the API (done_on, history)."""
    seeded.fill(engine, settings)
    auth = write_key(engine)
    out = io.StringIO()
    write_seed(out, 12, 11)
    load_seed(engine, parse_seed(out.getvalue()))
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        client = TestClient(app, raise_server_exceptions=False)
        for ref, statuses in (("1", ("in_progress", "done")), ("2", ("cancelled",))):
            for status in statuses:
                etag = client.get(f"/api/v1/directives/{ref}").headers["etag"]
                r = client.patch(
                    f"/api/v1/directives/{ref}",
                    json={"status": status, "status_note": "Đã xử lý"},
                    headers={**auth, "If-Match": etag},
                )
                assert r.status_code == 200, r.text
    finally:
        app.dependency_overrides.clear()


@pytest.fixture(scope="module")
def big_template(tmp_path_factory: pytest.TempPathFactory, seeded_template: Template) -> Iterator[Template]:
    """make_big's database, made once: big_client's tests each get a copy of it."""
    settings = make_settings(tmp_path_factory.mktemp("big"))
    try:
        yield Template(settings, lambda engine, s: make_big(engine, s, seeded_template))
    finally:
        drop_settings_schema(settings)


@pytest.fixture
def database_template(request: pytest.FixtureRequest, seeded_template: Template) -> Template:
    """For a test with big_client, `engine` is a copy of the big template."""
    if "big_client" in request.fixturenames:
        return request.getfixturevalue("big_template")  # type: ignore[no-any-return]
    return seeded_template


@pytest.fixture
def big_client(client: TestClient) -> TestClient:
    """conftest's client, on make_big's database: with big_client, database_template makes
    `engine` a copy of big_template."""
    return client


def pydantic_json(model: BaseModel, **kwargs: Any) -> bytes:
    return model.model_dump_json(**kwargs).encode()


def ids(engine: Engine, resource: Resource) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(resource.table.c.id).order_by(resource.table.c.id)).scalars())


def test_read_records_fast_path_equals_pydantic(big_client: TestClient, engine: Engine) -> None:
    for resource in RECORDS:
        found = ids(engine, resource)
        assert found
        with engine.connect() as conn:
            for id_ in found:
                r = big_client.get(f"/api/v1{resource.path}/{id_}")
                assert r.status_code == 200, r.text
                model = resource.get(conn, str(id_))  # SQLAlchemy rows validated by pydantic
                assert r.content == pydantic_json(model), (resource.name, id_)
                assert r.headers["etag"] == record_etag(model)


def test_read_meetings_with_includes_fast_path_equals_pydantic(
    big_client: TestClient, engine: Engine
) -> None:
    with engine.connect() as conn:
        for id_ in ids(engine, MEETINGS):
            r = big_client.get(f"/api/v1/meetings/{id_}", params={"include": ALL})
            assert r.status_code == 200, r.text
            data: dict[str, Any] = dict(MEETINGS.get(conn, str(id_)))
            for name, resource in INCLUDABLE.items():
                column = citation_t.c.meeting_id if resource is CITATIONS else resource.table.c.meeting_id
                stmt = resource.select().where(column == id_).order_by(resource.table.c.id)
                data[name] = resource.publics(conn, conn.execute(stmt).mappings().all())
            detail = MeetingDetail.model_validate(data)
            assert r.content == pydantic_json(detail, exclude_unset=True), id_
            assert set(r.json()) == set(MeetingDetail.model_fields)


@pytest.mark.parametrize(
    "include",
    [
        ["participants"],
        ["directives"],
        ["shortcomings"],
        ["findings"],
        ["documents"],
        ["documents", "findings", "shortcomings", "directives", "participants"],
        ["directives", "participants"],
    ],
)
def test_read_meeting_one_statement_equals_one_statement_per_list(
    big_client: TestClient, engine: Engine, include: list[str]
) -> None:
    """The meeting and its lists in one statement (what PostgreSQL runs) give the bytes the
    meeting and one statement per list give (what SQLite runs), for every meeting, by id and by
    slug, whatever lists are asked for in whatever order."""
    from app.fastread import dumps, raw_cursor
    from app.routers.meetings import _read_meeting_one_statement, _read_meeting_statements

    dialect = engine.dialect
    with engine.connect() as conn:
        slugs = {id_: slug for id_, slug in conn.execute(select(MEETINGS.table.c.id, MEETINGS.table.c.slug))}
    lists = 0
    with raw_cursor(engine) as cur:
        for id_, slug in slugs.items():
            for ref in (str(id_), slug):
                one = _read_meeting_one_statement(cur, dialect, ref, include)
                assert list(one)[-len(include) :] == include
                assert dumps(one) == dumps(_read_meeting_statements(cur, dialect, ref, include)), ref
                lists += sum(len(one[name]) for name in include)
    assert lists > 0  # some meeting has records of these kinds
    r = big_client.get("/api/v1/meetings/1", params={"include": ",".join(include)})
    assert r.status_code == 200
    with raw_cursor(engine) as cur:
        assert r.content == dumps(_read_meeting_statements(cur, dialect, "1", include))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/directives", {"limit": 7}),
        ("/directives", {"limit": 5, "status": "open", "sort": "-id"}),
        ("/directives", {"limit": 3, "progress": "done_on_time"}),
        ("/directives", {"limit": 4, "date_from": "2018-01-01", "sort": "status,-id"}),
        ("/meetings", {"limit": 6}),
        ("/meetings", {"limit": 4, "sort": "title"}),
        ("/people", {"limit": 9, "name": "nguyen"}),
        ("/participants", {"limit": 8, "role": "chair"}),
        ("/shortcomings", {"limit": 5, "q": "nguon luc"}),
        ("/findings", {"limit": 5}),
        ("/documents", {"limit": 5, "sort": "kind,-title"}),
        ("/meetings/2/directives", {"limit": 2}),
        ("/meetings/1/documents", {"limit": 2}),
        ("/documents/1/meetings", {"limit": 2}),
        ("/directives/1/history", {"limit": 1}),
        ("/directives", {"limit": 6, "assignee": "so", "role": "lead"}),
        ("/directives", {"limit": 6, "role": "monitoring"}),
        ("/directives", {"limit": 6, "updated_since": "2000-01-01T00:00:00+07:00", "sort": "-status"}),
        ("/shortcomings", {"limit": 4, "addressed": "true"}),
        ("/shortcomings", {"limit": 4, "addressed": "false", "sort": "-id"}),
        ("/meetings/3/shortcomings", {"limit": 2}),
        ("/directives/1/assignees", {"limit": 1}),
        ("/meetings/8/reviews", {"limit": 1}),
    ],
)
def test_read_list_fast_path_equals_pydantic(
    big_client: TestClient, engine: Engine, path: str, params: dict[str, Any]
) -> None:
    """Every page of the list, followed by next_cursor, is what pydantic makes of the same records."""
    resource = {
        "/directives": DIRECTIVES,
        "/meetings": MEETINGS,
        "/people": PEOPLE,
        "/participants": PARTICIPANTS,
        "/shortcomings": SHORTCOMINGS,
        "/findings": FINDINGS,
        "/documents": DOCUMENTS,
        "/meetings/2/directives": DIRECTIVES,
        "/meetings/1/documents": CITATIONS,
        "/documents/1/meetings": MEETINGS,
        "/directives/1/history": DIRECTIVE_EVENTS,
        "/meetings/3/shortcomings": SHORTCOMINGS,
        "/directives/1/assignees": ASSIGNEES,
        "/meetings/8/reviews": REVIEWS,
    }[path]
    seen = 0
    cursor = None
    with engine.connect() as conn:
        for _ in range(100):
            r = big_client.get(f"/api/v1{path}", params={**params, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            body = r.json()
            if resource is CITATIONS:
                rows = conn.execute(
                    resource.select().where(
                        citation_t.c.meeting_id == 1,
                        citation_t.c.document_id.in_([i["id"] for i in body["items"]]),
                    )
                ).mappings()
                by_id = {row["id"]: resource.to_public(row) for row in rows}
                items = [by_id[i["id"]] for i in body["items"]]
            elif resource in (DIRECTIVE_EVENTS, ASSIGNEES, REVIEWS):
                stmt = resource.select().where(resource.table.c.id.in_([i["id"] for i in body["items"]]))
                by_id = {row["id"]: resource.to_public(row) for row in conn.execute(stmt).mappings()}
                items = [by_id[i["id"]] for i in body["items"]]
            else:
                items = [resource.get(conn, str(i["id"])) for i in body["items"]]
            page = Page[resource.public](  # type: ignore[name-defined]
                items=items, total=body["total"], next_cursor=body["next_cursor"]
            )
            assert r.content == pydantic_json(page)
            assert ("link" in r.headers) == (body["next_cursor"] is not None)
            seen += len(items)
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert seen == body["total"]
    assert seen > 0


def test_read_directives_total_counts_the_filter(big_client: TestClient, engine: Engine) -> None:
    with engine.connect() as conn:
        expected = conn.execute(
            select(func.count()).select_from(DIRECTIVES.table).where(DIRECTIVES.table.c.status == "open")
        ).scalar_one()
    r = big_client.get("/api/v1/directives", params={"status": "open", "limit": 1})
    assert r.status_code == 200
    assert r.json()["total"] == expected


@pytest.mark.parametrize("q", ["trien khai", "dang ky", "Đảng", "can"])
def test_search_fast_path_equals_pydantic(big_client: TestClient, q: str) -> None:
    r = big_client.get("/api/v1/search", params={"q": q, "limit": 5})
    assert r.status_code == 200, r.text
    page = TypeAdapter(Page[SearchHit]).validate_json(r.content)
    assert r.content == pydantic_json(page)
    assert page.items


@pytest.mark.usefixtures("no_response_cache")  # the same URL each time: answered anew
@pytest.mark.parametrize("q", ["trien khai", "can", "Đảng", "nguon luc", "xyzzy"])
def test_search_windows_find_the_newest_matches(
    big_client: TestClient, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    """PostgreSQL looks for the newest matches in windows of the newest documents first: with
    windows and a candidate count small enough to use every step, the answer is the same as
    with one search over everything (on SQLite, which has no windows, trivially so)."""
    from app import search

    monkeypatch.setattr(search, "SEARCH_CANDIDATES", 7)
    monkeypatch.setattr(search, "FIRST_WINDOW", 10**9)
    r = big_client.get("/api/v1/search", params={"q": q, "limit": 100})
    assert r.status_code == 200, r.text
    everything = r.json()
    for first, widest in ((3, 5), (3, 1000), (40, 10**6), (1, 2)):
        monkeypatch.setattr(search, "FIRST_WINDOW", first)
        monkeypatch.setattr(search, "MAX_WINDOW", widest)
        r = big_client.get("/api/v1/search", params={"q": q, "limit": 100})
        assert r.status_code == 200, r.text
        assert r.json() == everything, (first, widest)
    assert everything["total"] == min(7, everything["total"])


def test_read_directives_fast_path_carries_every_link(big_client: TestClient, engine: Engine) -> None:
    """The data the comparisons above run on has links of every kind, and the fast path's JSON
    aggregates carry each one: the directives' assignees (people and organizations) and
    addresses, and the shortcomings' addressed_by, as many as the link tables hold."""
    with engine.connect() as conn:
        assignees = conn.execute(select(func.count()).select_from(assignee_t)).scalar_one()
        people = conn.execute(
            select(func.count()).select_from(assignee_t).where(assignee_t.c.person_id.is_not(None))
        ).scalar_one()
        addresses = conn.execute(select(func.count()).select_from(addresses_t)).scalar_one()
    assert people > 0
    assert addresses > 0
    directives = big_client.get("/api/v1/directives", params={"limit": 100}).json()
    shortcomings = big_client.get("/api/v1/shortcomings", params={"limit": 100}).json()
    assert directives["next_cursor"] is None
    assert shortcomings["next_cursor"] is None
    found = [a for d in directives["items"] for a in d["assignees"]]
    assert len(found) == assignees
    assert sum(a["person_name"] is not None for a in found) == people
    assert sum(len(d["addresses"]) for d in directives["items"]) == addresses
    assert sum(len(s["addressed_by"]) for s in shortcomings["items"]) == addresses


def test_raw_cursor_one_statement_runs_outside_a_transaction(engine: Engine) -> None:
    """On PostgreSQL a single statement runs in autocommit mode (no BEGIN, no ROLLBACK: two round
    trips fewer), and the connection goes back to the pool in a transaction's mode again."""
    from app.fastread import raw_cursor

    postgresql = engine.dialect.name == "postgresql"
    for one_statement in (False, True):
        with raw_cursor(engine, one_statement=one_statement) as cur:
            cur.execute("SELECT count(*) FROM meeting")
            assert cur.fetchone()[0] > 0
            if postgresql:
                in_transaction = cur.connection.info.transaction_status != TransactionStatus.IDLE
            else:
                in_transaction = cur.connection.in_transaction
            # SQLite: BEGIN ourselves in both cases (a statement costs no round trip there)
            assert in_transaction is (not one_statement or not postgresql)
        fairy = engine.raw_connection()
        try:
            assert getattr(fairy.driver_connection, "autocommit", False) is False
        finally:
            fairy.close()
    # A write through the pooled connection is still undone by a rollback.
    with engine.connect() as conn:
        conn.execute(MEETINGS.table.update().values(title="không giữ"))
        conn.rollback()
        assert "không giữ" not in conn.execute(select(MEETINGS.table.c.title)).scalars().all()


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's autocommit mode")
def test_raw_cursor_one_statement_on_a_dropped_connection(engine: Engine) -> None:
    """The server drops the connection during the read: the error reaches the caller, the
    connection does not go back to the pool, and the next read works on a new one."""
    from app.fastread import raw_cursor

    dropped: list[int] = []

    def read_on_a_dropped_connection() -> None:
        with raw_cursor(engine, one_statement=True) as cur:
            cur.execute("SELECT pg_backend_pid()")
            dropped.append(cur.fetchone()[0])
            with engine.connect() as other:
                other.execute(select(func.pg_terminate_backend(dropped[0])))
            cur.execute("SELECT 1")

    with pytest.raises(OperationalError, match="terminat"):  # the server's own word, not ours
        read_on_a_dropped_connection()
    (pid,) = dropped
    with raw_cursor(engine, one_statement=True) as cur:
        cur.execute("SELECT pg_backend_pid()")
        assert cur.fetchone()[0] != pid
    fairy = engine.raw_connection()
    try:
        assert fairy.driver_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        fairy.close()


def test_model_object_refuses_fields_the_database_would_not_write_as_pydantic_does() -> None:
    """Booleans (SQLite's are 0 and 1) and numbers have no exact JSON from the database: a model
    with one cannot be made a JSON object in SQL (fastread.model_object), at import, not per read."""
    from sqlalchemy import column

    from app.fastread import model_object

    class Flagged(BaseModel):
        id: int
        done: bool

    with pytest.raises(TypeError, match=r"Flagged\.done"):
        model_object(Flagged, {"id": column("id"), "done": column("done")})
