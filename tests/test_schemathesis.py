"""Property-based tests generated from the app's own OpenAPI document (Schemathesis).

Every read operation is called in the examples, coverage and fuzzing phases,
with schema-valid and schema-violating data, against a freshly seeded database,
and every response goes through all of Schemathesis's checks: no server error,
status code, content type, headers and body conforming to the document, valid
data accepted, invalid data rejected, 405 with an Allow header for other methods.

The write operations run the same phases and checks with a real write-scoped
key, on a database of their own that the cases change as they go; and once
more without a key, in the examples and fuzzing phases only: the answer is then
the documented 401 whatever the request (400 or 422 if its body cannot be read),
and the coverage phase's hundreds of bodies per operation would only be refused
the same way (they took about 80 s of each run of the suite). That a write needs
its key is also checked with the key: `ignored_auth` sends a write that succeeded
again without a key and with a wrong one.

Below them, regression tests for what these runs (and the NUL and overflow cases
they pointed at) found.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Engine

from app.auth import limiter
from app.db import create_db_engine, get_engine
from app.main import app
from app.startup import prepare_database
from tests.conftest import drop_settings_schema, make_settings, problem_of, write_key


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The app without its lifespan.

    Schemathesis starts an ASGI app's lifespan, and the app's prepares the
    production database (it calls get_engine() itself, not through the
    dependency): the database under test is the fixture's.
    """
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await app(scope, receive, send)


WRITE_METHODS = ["POST", "PATCH", "DELETE"]


def api_schema(phases: list[str]) -> Any:
    """The app's OpenAPI document with every check on, in both generation modes, in `phases`
    (a configuration of its own: the phases are the schema's, not the test's)."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", asgi_app)
    loaded.config.checks.update(included_check_names=["all"])
    loaded.config.generation.update(modes=list(schemathesis.GenerationMode))
    loaded.config.phases.update(phases=phases)
    # A change or delete without If-Match is answered 428 Precondition Required (RFC 6585).
    loaded.config.checks.missing_required_header.expected_statuses = [
        *loaded.config.checks.missing_required_header.expected_statuses,
        "428",
    ]
    return loaded


schema = api_schema(["examples", "coverage", "fuzzing"])
reads = schema.exclude(method=WRITE_METHODS)
writes = schema.include(method=WRITE_METHODS)
writes_without_a_key = api_schema(["examples", "fuzzing"]).include(method=WRITE_METHODS)


@pytest.fixture(scope="module")
def seeded_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One seeded database for the module: the API only reads."""
    s = make_settings(Path(tmp_path_factory.mktemp("schemathesis")))
    engine = create_db_engine(s)
    try:
        prepare_database(engine, s)
        yield engine
    finally:
        engine.dispose()
        drop_settings_schema(s)


@pytest.fixture
def seeded_app(seeded_engine: Engine) -> Iterator[None]:
    app.dependency_overrides[get_engine] = lambda: seeded_engine
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_engine, None)


def issued_cursor(case: schemathesis.Case) -> str | None:
    """A cursor this API issued for the same request: the one of its first page of one
    (asked for as JSON: a CSV or NDJSON download has no pages, and ignores a cursor)."""
    query = case.query
    case.query = {**{k: v for k, v in query.items() if k not in ("cursor", "format")}, "limit": 1}
    try:
        response = case.call()
    finally:
        case.query = query
    if response.status_code != 200:
        return None
    cursor: str | None = response.json()["next_cursor"]
    return cursor


@pytest.mark.usefixtures("seeded_app")
@reads.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case) -> None:
    # Generated keys fail authentication: without this, the failure limiter would
    # answer every request after the first few with 429 (tests/test_auth.py tests it).
    limiter.reset()
    # A cursor is opaque: only the ones the API issued are valid, and any other is
    # rightly a 422 (documented). In schema-valid cases, send one the API issued for
    # the same query in place of the generated string, so that no check is turned off.
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    if positive and case.query and case.query.get("cursor") is not None:
        cursor = issued_cursor(case)
        if cursor is None:
            del case.query["cursor"]
        else:
            case.query["cursor"] = cursor
    case.call_and_validate()


@pytest.mark.usefixtures("seeded_app")
@writes_without_a_key.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_writes_without_a_key(case: schemathesis.Case) -> None:
    limiter.reset()  # as in test_api: else 429 after the first few failed authentications
    response = case.call_and_validate()
    # A body that cannot be read is refused before the key is looked at: 400, or 422 if it is
    # not JSON; any other request, 401.
    if response.status_code == 400:
        assert response.json()["detail"] == "There was an error parsing the body", response.text
    elif response.status_code == 422:
        assert {p["type"] for p in response.json()["invalid_params"]} == {"json_invalid"}, response.text
    else:
        assert response.status_code == 401, response.text


@pytest.fixture(scope="module")
def writable_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A seeded database for the write run: the cases change it as they go."""
    s = make_settings(Path(tmp_path_factory.mktemp("schemathesis-writes")))
    engine = create_db_engine(s)
    try:
        prepare_database(engine, s)
        yield engine
    finally:
        engine.dispose()
        drop_settings_schema(s)


@pytest.fixture(scope="module")
def writer_headers(writable_engine: Engine) -> dict[str, str]:
    return write_key(writable_engine, "schemathesis")


@pytest.fixture
def writable_app(writable_engine: Engine) -> Iterator[None]:
    app.dependency_overrides[get_engine] = lambda: writable_engine
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_engine, None)


# What a write checks that a JSON Schema cannot say: that a referenced record
# exists, that a time zone name is known, that a status change is allowed, that
# an end comes after a start. A schema-valid body may still break one of these,
# and is then rightly refused with a 422 naming the field; any other 422 on
# schema-valid data is a mismatch between the document and the API.
SEMANTIC_FIELDS = {
    "body.meeting_id",
    "body.person_id",
    "body.issued_by",
    "body.document_id",
    "body.timezone",
    "body.status",
    # Links (app/routers/links.py): the shortcomings a directive answers must exist; a review's
    # directive must exist and come from an earlier meeting; an assignee is exactly one of an
    # organization and a person (both or neither: a 422 on person_id or organization).
    "body.addresses",
    "body.directive_id",
    "body.organization",
}
POSITIVE_STATUSES = {409, 429, 401, 403, 404}


def accepts_valid_writes(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Positive data acceptance, allowing only the 422s a schema cannot foresee."""
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    status = response.status_code
    if status < 400 or status in POSITIVE_STATUSES:
        return
    names = {p["name"] for p in response.json().get("invalid_params", [])} if status == 422 else set()
    refused = f"schema-valid {case.method} {case.formatted_path} refused: {status} {response.text}"
    assert status == 422, refused
    assert names, refused
    assert names <= SEMANTIC_FIELDS, refused


def current_etag(case: schemathesis.Case, headers: dict[str, str]) -> str | None:
    """The record's ETag now, as a client would get it with GET before a change."""
    response = case.call(method="GET", headers=headers)
    values = response.headers.get("etag") if response.status_code == 200 else None
    return values[0] if values else None


@pytest.mark.usefixtures("writable_app")
@writes.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_writes(case: schemathesis.Case, writer_headers: dict[str, str]) -> None:
    # The write routes with a real write-scoped key. Schema-valid cases send what
    # a client sends: the record's current ETag in If-Match (not a generated one,
    # which is rightly a 412), and a new Idempotency-Key for each new request (a
    # generated one reused with another body is rightly a 422), so that the write
    # itself is exercised.
    limiter.reset()
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    if positive and case.method in {"PATCH", "DELETE"}:
        etag = current_etag(case, writer_headers)
        if etag is not None:
            case.headers = {**(case.headers or {}), "If-Match": etag}
    if positive and case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(
        headers=writer_headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[accepts_valid_writes],
    )


@pytest.mark.parametrize(
    ("configured", "phases"),
    [(schema, {"examples", "coverage", "fuzzing"}), (writes_without_a_key, {"examples", "fuzzing"})],
    ids=["reads-and-writes", "writes-without-a-key"],
)
def test_every_check_is_on(configured: Any, phases: set[str]) -> None:
    enabled = {p for p in ("examples", "coverage", "fuzzing") if getattr(configured.config.phases, p).enabled}
    assert enabled == phases
    checks = configured.config.checks
    for name in (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "positive_data_acceptance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    ):
        assert getattr(checks, name).enabled, name


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
