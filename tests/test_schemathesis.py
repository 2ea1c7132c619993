"""Property-based tests generated from the app's own OpenAPI document (Schemathesis).

Each generated case is sent to every back end of SCHEMATHESIS_BACKENDS (default:
TEST_BACKEND's), one after the other, each with its own database: generating the
cases is most of these tests' cost (about three quarters), and it is paid once
for all the back ends. `make test` runs this module in a run of its own, against
SQLite and PostgreSQL, beside the two runs of the rest of the suite
(scripts/test-backends). The back ends, seeded alike, must also answer each read
alike: the same status, and for a list the same total and the same page.

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

The regression tests for what these runs found are in tests/test_api_regressions.py,
which every back end's run runs.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Engine

from app.auth import limiter
from app.db import create_db_engine, get_engine
from app.main import app
from app.startup import prepare_database
from tests.conftest import BACKEND, drop_settings_schema, make_settings, write_key

# The back ends every generated case is sent to.
BACKENDS = os.environ.get("SCHEMATHESIS_BACKENDS", BACKEND).split()


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


def seeded_engines(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[dict[str, Engine]]:
    """A seeded database on each back end of BACKENDS, by back end."""
    engines: dict[str, Engine] = {}
    made = []
    try:
        for backend in BACKENDS:
            s = make_settings(Path(tmp_path_factory.mktemp(f"{name}-{backend}")), backend=backend)
            made.append(s)
            engines[backend] = create_db_engine(s)
            prepare_database(engines[backend], s)
        yield engines
    finally:
        for engine in engines.values():
            engine.dispose()
        for s in made:
            drop_settings_schema(s)


@pytest.fixture(scope="module")
def read_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """One seeded database per back end for the module's reads: the API only reads."""
    yield from seeded_engines(tmp_path_factory, "schemathesis")


@contextlib.contextmanager
def serving(backend: str, engine: Engine) -> Iterator[None]:
    """The app on `engine`; a failure says which back end it was on."""
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        yield
    except BaseException as exc:
        exc.add_note(f"back end: {backend}")
        raise
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


def agreed(case: schemathesis.Case, response: Any) -> tuple[Any, ...]:
    """What every back end must answer alike, from the same data: the status; a list's total
    (the same records match a filter or a search on each); and but for search (ranked by each
    back end's own score), the records of the page in their order (keys sort alike). Only the
    status with `updated_since`: each back end's database was seeded at its own moment."""
    if case.query and "updated_since" in case.query:
        return (response.status_code,)
    total = None
    media_type = (response.headers.get("content-type") or [""])[0]  # Schemathesis: a list per header
    if response.status_code == 200 and media_type.startswith("application/json"):
        body = response.json()
        total = body.get("total") if isinstance(body, dict) else None
        if isinstance(body, dict) and "items" in body and "search" not in case.formatted_path:
            ids = tuple(i.get("id", i.get("seq")) if isinstance(i, dict) else None for i in body["items"])
            return response.status_code, total, ids
    return response.status_code, total


@reads.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case, read_engines: dict[str, Engine]) -> None:
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    query = case.query
    answers: dict[str, tuple[Any, ...]] = {}
    for backend, engine in read_engines.items():
        with serving(backend, engine):
            # Generated keys fail authentication: without this, the failure limiter would
            # answer every request after the first few with 429 (tests/test_auth.py tests it).
            limiter.reset()
            # A cursor is opaque: only the ones the API issued are valid, and any other is
            # rightly a 422 (documented). In schema-valid cases, send one the API issued for
            # the same query in place of the generated string, so that no check is turned off.
            case.query = query
            if positive and query and query.get("cursor") is not None:
                cursor = issued_cursor(case)
                case.query = {k: v for k, v in query.items() if k != "cursor"}
                if cursor is not None:
                    case.query["cursor"] = cursor
            answers[backend] = agreed(case, case.call_and_validate())
    request = f"{case.method} {case.formatted_path} {query}"
    assert len(set(answers.values())) <= 1, f"the back ends answer {request} differently: {answers}"


UNREADABLE_BODY = {"There was an error parsing the body", "Invalid Content-Length header."}


@writes_without_a_key.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_writes_without_a_key(case: schemathesis.Case, read_engines: dict[str, Engine]) -> None:
    for backend, engine in read_engines.items():
        with serving(backend, engine):
            limiter.reset()  # as in test_api: else 429 after the first few failed authentications
            response = case.call_and_validate()
            # A body that cannot be read is refused before the key is looked at: 400 (its bytes,
            # or a Content-Length that is not a number: app/limits.py), or 422 if it is not JSON;
            # any other request, 401.
            if response.status_code == 400:
                assert response.json()["detail"] in UNREADABLE_BODY, response.text
            elif response.status_code == 422:
                invalid = {p["type"] for p in response.json()["invalid_params"]}
                assert invalid == {"json_invalid"}, response.text
            else:
                assert response.status_code == 401, response.text


@pytest.fixture(scope="module")
def writable_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """A seeded database per back end for the write run: the cases change them as they go."""
    yield from seeded_engines(tmp_path_factory, "schemathesis-writes")


@pytest.fixture(scope="module")
def writer_headers(writable_engines: dict[str, Engine]) -> dict[str, dict[str, str]]:
    """A write-scoped key's headers, by back end."""
    return {backend: write_key(engine, "schemathesis") for backend, engine in writable_engines.items()}


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


@writes.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_writes(
    case: schemathesis.Case, writable_engines: dict[str, Engine], writer_headers: dict[str, dict[str, str]]
) -> None:
    # The write routes with a real write-scoped key. Schema-valid cases send what
    # a client sends: the record's current ETag in If-Match (not a generated one,
    # which is rightly a 412), and a new Idempotency-Key for each new request (a
    # generated one reused with another body is rightly a 422), so that the write
    # itself is exercised.
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    headers = case.headers
    for backend, engine in writable_engines.items():
        with serving(backend, engine):
            limiter.reset()
            case.headers = dict(headers) if headers is not None else None
            if positive and case.method in {"PATCH", "DELETE"}:
                etag = current_etag(case, writer_headers[backend])
                if etag is not None:
                    case.headers = {**(case.headers or {}), "If-Match": etag}
            if positive and case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            case.call_and_validate(
                headers=writer_headers[backend],
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
