"""The OpenAPI document: complete, with problem responses and examples taken from
the seed, and the offline /docs and /redoc pages."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import icalendar
import jsonschema_rs
import pytest
from fastapi import routing
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth import create_key
from app.main import app
from app.models.apikey import Scope
from tests.conftest import BACKEND, SEED_FILE

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_JSON = "application/problem+json"
# Routes FastAPIOffline serves outside the document: the two documentation pages.
DOC_PAGES = {"/docs", "/docs/oauth2-redirect", "/redoc"}
# Public models with their examples, and the request that answers the same record.
EXAMPLE_SOURCES = {
    "PersonPublic": "/api/v1/people/{slug}",
    "MeetingPublic": "/api/v1/meetings/{slug}",
    "ParticipantPublic": "/api/v1/participants/{slug}",
    "DirectivePublic": "/api/v1/directives/{slug}",
    "ShortcomingPublic": "/api/v1/shortcomings/{slug}",
    "FindingPublic": "/api/v1/findings/{slug}",
    "DocumentPublic": "/api/v1/documents/{slug}",
}
PUBLIC_MODELS = {*EXAMPLE_SOURCES, "MeetingDetail", "CitationPublic", "SearchHit"}
TIMESTAMPS = ("created_at", "updated_at")
STREAM_TYPES = ["text/csv", "application/x-ndjson"]
SUCCESS = {"GET": "200", "POST": "201", "PATCH": "200", "DELETE": "204"}
WRITES = {"POST", "PATCH", "DELETE"}
# The problems every write can answer: a body that cannot be read, no key or a bad
# one, a read-only key, a body too large, an invalid request, too many failed
# authentications, a conflict.
WRITE_PROBLEMS = {"400", "401", "403", "409", "413", "422", "429"}
# And those of a write to an existing record: it may be missing, and If-Match is required.
RECORD_WRITE_PROBLEMS = {"404", "412", "428"}
PROBLEM_HEADERS = {"401": "WWW-Authenticate", "403": "WWW-Authenticate", "429": "Retry-After"}
# In this order: the participant example takes part in the meeting the meeting example creates.
WRITE_PATHS = (
    "/api/v1/meetings",
    "/api/v1/people",
    "/api/v1/directives",
    "/api/v1/participants",
    "/api/v1/shortcomings",
    "/api/v1/findings",
    "/api/v1/documents",
)


# Writes to the links between records (app/routers/links.py), under their parent's path.
LINK_WRITES = {
    ("POST", "/api/v1/directives/{ref}/assignees"),
    ("PATCH", "/api/v1/directives/{ref}/assignees/{assignee_ref}"),
    ("DELETE", "/api/v1/directives/{ref}/assignees/{assignee_ref}"),
    ("POST", "/api/v1/meetings/{ref}/reviews"),
    ("DELETE", "/api/v1/meetings/{ref}/reviews/{review_id}"),
    ("POST", "/api/v1/meetings/{ref}/documents"),
    ("DELETE", "/api/v1/meetings/{ref}/documents/{document_ref}"),
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return document


@pytest.fixture(scope="module")
def seed_strings() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(SEED_FILE.read_text(encoding="utf-8")))
    return found


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = doc["components"]["schemas"][name]
    return schema


def decoded(media_type: str, text: str) -> list[Any]:
    """The records of a CSV, NDJSON or iCalendar example (their texts, for the seed checks)."""
    if media_type == "text/csv":
        header, *rows = list(csv.reader(io.StringIO(text)))
        # List fields are JSON arrays in one cell.
        return [
            {k: json.loads(v) if v.startswith("[") else v for k, v in zip(header, row, strict=True)}
            for row in rows
        ]
    if media_type == "application/x-ndjson":
        return [json.loads(line) for line in text.splitlines()]
    calendar = icalendar.Calendar.from_ical(text)
    return [
        # DESCRIPTION joins texts with line breaks, LOCATION the connection points with "; ".
        [line for value in c.values() for line in re.split(r"\n|; ", str(value))]
        for c in calendar.walk("VEVENT")
    ]


def examples_in(node: Any) -> Iterator[Any]:
    """Every example value anywhere in the document: `example`, and `examples` as
    a list (JSON Schema) or as a map of Example objects (OpenAPI). A CSV, NDJSON or
    iCalendar example gives its records."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("text/csv", "application/x-ndjson", "text/calendar"):
                yield from decoded(key, value["example"])
            elif key == "example":
                yield value
            elif key == "examples" and isinstance(value, list):
                yield from value
            elif key == "examples" and isinstance(value, dict):
                yield from (ex["value"] for ex in value.values() if isinstance(ex, dict) and "value" in ex)
            else:
                yield from examples_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from examples_in(value)


def strings_in(node: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    """(key, string) for every string inside an example value."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for k, value in node.items():
            yield from strings_in(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value, key)


class TestRoutes:
    def test_every_route_is_documented(self, doc: dict[str, Any]) -> None:
        routes: set[tuple[str, str]] = set()
        hidden: set[str] = set()
        for route in routing.iter_route_contexts(app.routes):
            if not isinstance(route.original_route, routing.APIRoute):
                continue
            if not route.include_in_schema:
                hidden.add(route.path_format)
                continue
            routes.update((method, route.path_format) for method in route.methods)
        documented = {(method, path) for method, path, _ in operations(doc)}
        assert documented == routes
        assert len(routes) >= 20
        assert hidden == DOC_PAGES

    def test_document_is_served(self, doc: dict[str, Any]) -> None:
        assert doc["openapi"].startswith("3.")
        for key in ("title", "version", "description"):
            assert doc["info"][key], key

    def test_every_operation_has_a_summary_and_a_unique_id(self, doc: dict[str, Any]) -> None:
        ids = [op["operationId"] for _, _, op in operations(doc)]
        assert len(ids) == len(set(ids))
        for method, path, op in operations(doc):
            assert op.get("summary", "").strip(), f"{method} {path} has no summary"
            assert op.get("tags"), f"{method} {path} has no tag"

    def test_every_parameter_is_described(self, doc: dict[str, Any]) -> None:
        for method, path, op in operations(doc):
            for param in op.get("parameters", []):
                where = f"{method} {path} {param['in']}.{param['name']}"
                assert param.get("description") or param.get("schema"), where
                assert "schema" in param, where
            for name in re.findall(r"{(\w+)}", path):
                (param,) = [p for p in op["parameters"] if p["name"] == name]
                assert param["in"] == "path"
                assert param["required"] is True
                assert param["description"], f"{method} {path}: path parameter {name}"


class TestResponses:
    def test_success_responses(self, doc: dict[str, Any]) -> None:
        """200 with JSON for GET and PATCH, 201 with the record, Location and ETag for
        POST, 204 without a body for DELETE: one success each."""
        for method, path, op in operations(doc):
            where = f"{method} {path}"
            success = [code for code in op["responses"] if code.startswith(("2", "3"))]
            assert success == [SUCCESS[method]], f"{where} documents {success}"
            ok = op["responses"][SUCCESS[method]]
            assert ok.get("description"), where
            if method == "DELETE":
                assert "content" not in ok, where
                continue
            if path == "/api/v1/calendar.ics":
                assert list(ok["content"]) == ["text/calendar"], where
                continue
            params = {p["name"] for p in op.get("parameters", [])}
            # Collections also stream CSV and NDJSON (?format= or Accept), and answer 406 for
            # an Accept header that allows none of the three.
            expected = ["application/json", *STREAM_TYPES] if "format" in params else ["application/json"]
            assert list(ok["content"]) == expected, where
            assert "schema" in ok["content"]["application/json"], where
            if "format" in params:
                assert "406" in op["responses"], where
                assert ok["headers"]["Content-Disposition"]["required"] is False, where
            headers = ok.get("headers", {})
            if method == "POST":
                assert headers["Location"]["required"] is True, where
                assert headers["ETag"]["required"] is True, where
            if method == "PATCH":
                assert headers["ETag"]["required"] is True, where
            for name, header in headers.items():
                assert header.get("description"), f"{where} {name}"
                assert header["schema"]["type"] == "string", f"{where} {name}"

    def test_problem_responses_are_documented(self, doc: dict[str, Any]) -> None:
        for method, path, op in operations(doc):
            responses = op["responses"]
            if "{" in path:
                assert "404" in responses, f"{method} {path} has a path id but no 404"
            if op.get("parameters") or "requestBody" in op:
                assert "422" in responses, f"{method} {path} has parameters but no 422"
            assert any(code.startswith(("4", "5")) for code in responses) or path == "/healthz"

    def test_write_problems_are_documented(self, doc: dict[str, Any]) -> None:
        writes = [(method, path, op) for method, path, op in operations(doc) if method in WRITES]
        links = {(m, p) for m, p, _ in writes if (m, p) in LINK_WRITES}
        assert links == LINK_WRITES
        assert {(m, p.removesuffix("/{ref}")) for m, p, _ in writes if (m, p) not in links} == {
            (m, p) for m in WRITES for p in WRITE_PATHS
        }
        for method, path, op in writes:
            problems = {code for code in op["responses"] if code.startswith(("4", "5"))}
            expected = WRITE_PROBLEMS | (RECORD_WRITE_PROBLEMS if "{" in path else set())
            if method == "POST" and "{" in path:  # a create under a parent that may not exist
                expected = WRITE_PROBLEMS | {"404"}
            assert problems == expected, f"{method} {path}"

    def test_writes_need_a_bearer_key(self, doc: dict[str, Any]) -> None:
        (scheme,) = doc["components"]["securitySchemes"]
        assert doc["components"]["securitySchemes"][scheme] | {"description": ""} == {
            "type": "http",
            "scheme": "bearer",
            "description": "",
        }
        assert "security" not in doc  # reads are public
        for method, path, op in operations(doc):
            if method in WRITES:
                assert op["security"] == [{scheme: []}], f"{method} {path}"
            else:
                assert "security" not in op, f"{method} {path}"

    def test_write_headers_are_documented(self, doc: dict[str, Any]) -> None:
        for method, path, op in operations(doc):
            if method not in WRITES:
                continue
            headers = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}
            if method == "POST":
                assert set(headers) == {"Idempotency-Key"}, f"{method} {path}"
            else:
                assert set(headers) == {"If-Match"}, f"{method} {path}"
                # Required by the contract; its absence is answered with 428 (documented).
                assert headers["If-Match"]["required"] is True
                assert headers["If-Match"]["schema"]["pattern"].startswith("^")
                assert "428" in op["responses"]
            for code, name in PROBLEM_HEADERS.items():
                assert op["responses"][code]["headers"][name]["required"] is True, f"{method} {path} {code}"

    def test_problem_responses_are_problem_json(self, doc: dict[str, Any]) -> None:
        for method, path, op in operations(doc):
            for code, response in op["responses"].items():
                if not code.startswith(("4", "5")):
                    continue
                where = f"{method} {path} {code}"
                assert response.get("description"), where
                assert list(response["content"]) == [PROBLEM_JSON], where
                media = response["content"][PROBLEM_JSON]
                assert media["schema"] == {"$ref": PROBLEM_REF}, where
                assert media["example"]["status"] == int(code), where
                assert media["example"]["title"], where

    def test_problem_schema(self, doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        problem = schemas["Problem"]
        assert set(problem["required"]) == {"title", "status"}
        assert {"type", "title", "status", "detail", "instance", "invalid_params"} <= set(
            problem["properties"]
        )
        # FastAPI's own validation error shape is never answered, so never documented.
        assert "HTTPValidationError" not in schemas
        assert "ValidationError" not in schemas

    def test_every_response_schema_has_an_example(self, doc: dict[str, Any]) -> None:
        for method, path, op in operations(doc):
            for code, response in op["responses"].items():
                for media_type, media in response.get("content", {}).items():
                    where = f"{method} {path} {code} {media_type}"
                    if "example" in media or media.get("examples"):
                        continue
                    schema = resolve(doc, media["schema"])
                    if schema.get("examples"):
                        continue
                    # Or each property has its own (small models such as Health).
                    properties = schema.get("properties", {})
                    assert properties, f"{where}: no example"
                    for name, prop in properties.items():
                        assert prop.get("examples"), f"{where}: no example, nor for {name}"


def request_example(op: dict[str, Any]) -> Any:
    return op["requestBody"]["content"]["application/json"]["example"]


class TestExamples:
    def test_public_models_have_examples(self, doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        for name in PUBLIC_MODELS:
            assert len(schemas[name].get("examples", [])) >= 1, name

    def test_request_bodies_have_examples(self, doc: dict[str, Any]) -> None:
        bodies = 0
        for method, path, op in operations(doc):
            if "requestBody" not in op:
                assert method in {"GET", "DELETE"}, f"{method} {path} has no request body"
                continue
            bodies += 1
            body = op["requestBody"]
            assert body["required"] is True, f"{method} {path}"
            assert list(body["content"]) == ["application/json"], f"{method} {path}"
            example = request_example(op)
            assert isinstance(example, dict), f"{method} {path}"
            assert example, f"{method} {path}"
        assert bodies == 2 * len(WRITE_PATHS) + len({(m, p) for m, p in LINK_WRITES if m != "DELETE"})

    def test_examples_match_their_schemas(self, doc: dict[str, Any]) -> None:
        checked = 0
        for name, schema in doc["components"]["schemas"].items():
            root = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
            validator = jsonschema_rs.validator_for(root, validate_formats=True)
            for example in schema.get("examples", []):
                errors = [e.message for e in validator.iter_errors(example)]
                assert not errors, f"example of {name}: {errors}"
                checked += 1
        for method, path, op in operations(doc):
            for code, response in op["responses"].items():
                for media in response.get("content", {}).values():
                    if "example" in media:
                        root = {**media["schema"], "components": doc["components"]}
                        validator = jsonschema_rs.validator_for(root, validate_formats=True)
                        errors = [e.message for e in validator.iter_errors(media["example"])]
                        assert not errors, f"example of {method} {path} {code}: {errors}"
                        checked += 1
            if "requestBody" in op:
                media = op["requestBody"]["content"]["application/json"]
                root = {**media["schema"], "components": doc["components"]}
                validator = jsonschema_rs.validator_for(root, validate_formats=True)
                errors = [e.message for e in validator.iter_errors(media["example"])]
                assert not errors, f"request example of {method} {path}: {errors}"
                checked += 1
        assert checked >= len(PUBLIC_MODELS)

    def test_vietnamese_example_text_comes_from_the_seed(
        self, doc: dict[str, Any], seed_strings: set[str]
    ) -> None:
        """Examples cannot drift from the data: every non-ASCII text is the seed's."""
        checked = 0
        for example in examples_in(doc):
            for key, text in strings_in(example):
                if text.isascii():
                    continue
                checked += 1
                if key == "snippet":
                    # A window of a seed text with the matches marked «like this».
                    plain = text.replace("«", "").replace("»", "").strip("…")
                    for line in plain.split("\n"):
                        assert any(line in s for s in seed_strings), f"snippet {line!r} is not in the seed"
                else:
                    assert text in seed_strings, f"example {key}={text!r} is not in data/seed.json"
        assert checked >= 30

    def test_example_slugs_come_from_the_seed(self, doc: dict[str, Any], seed_strings: set[str]) -> None:
        creates = [request_example(op) for method, _, op in operations(doc) if method == "POST"]
        new = {example["slug"] for example in creates if "slug" in example}
        slugs = [text for example in examples_in(doc) for key, text in strings_in(example) if key == "slug"]
        assert len(slugs) >= len(PUBLIC_MODELS) + len(new)
        for slug in slugs:
            if slug in new:
                # A create's example names a new record: a seed record's slug, suffixed.
                assert slug not in seed_strings, slug
                assert any(slug.startswith(f"{s}-") for s in seed_strings), slug
            else:
                assert slug in seed_strings, slug

    def test_request_examples_are_what_the_api_accepts(
        self, doc: dict[str, Any], client: TestClient, engine: Engine
    ) -> None:
        """Each create example creates its record, each change example applies to the
        seed record of the read examples, with the documented headers."""
        auth = {"Authorization": f"Bearer {create_key(engine, 'docs', Scope.write).key}"}
        schemas = doc["components"]["schemas"]
        for path in WRITE_PATHS:
            item = doc["paths"][path]
            example = request_example(item["post"])
            r = client.post(path, json=example, headers=auth)
            assert r.status_code == 201, (path, r.text)
            assert r.headers["location"] == f"{path}/{r.json()['id']}"
            assert r.headers["etag"] == client.get(r.headers["location"]).headers["etag"]
            assert {k: r.json()[k] for k in example} == example

            change = request_example(doc["paths"][f"{path}/{{ref}}"]["patch"])
            public = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            name = resolve(doc, public)["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]
            (record,) = schemas[name]["examples"]
            target = f"{path}/{record['slug']}"
            etag = client.get(target).headers["etag"]
            r = client.patch(target, json=change, headers={**auth, "If-Match": etag})
            assert r.status_code == 200, (target, r.text)
            assert {k: r.json()[k] for k in change} == change
            assert r.headers["etag"] == client.get(target).headers["etag"]

    def test_examples_are_what_the_api_answers(self, doc: dict[str, Any], client: TestClient) -> None:
        """Ids included: the loader numbers records in seed order from 1."""
        schemas = doc["components"]["schemas"]

        def untimed(value: Any) -> Any:  # timestamps differ from load to load, nested ones too
            if isinstance(value, list):
                return [untimed(v) for v in value]
            if isinstance(value, dict):
                return {k: untimed(v) for k, v in value.items() if k not in TIMESTAMPS}
            return value

        def same(example: dict[str, Any], answer: dict[str, Any]) -> None:
            expected = untimed(example)
            assert {k: untimed(answer[k]) for k in expected} == expected
            assert set(answer) == set(example)

        for name, template in EXAMPLE_SOURCES.items():
            (example,) = schemas[name]["examples"]
            r = client.get(template.format(slug=example["slug"]))
            assert r.status_code == 200, name
            same(example, r.json())

        (detail,) = schemas["MeetingDetail"]["examples"]
        related = ("participants", "directives", "shortcomings", "findings", "documents")
        r = client.get(f"/api/v1/meetings/{detail['slug']}", params={"include": ",".join(related)})
        assert r.status_code == 200
        answer = r.json()
        same(
            {k: v for k, v in detail.items() if k not in related},
            {k: answer[k] for k in answer if k not in related},
        )
        for name in related:
            for item in detail[name]:
                (match,) = [a for a in answer[name] if a["id"] == item["id"]]
                same(item, match)

        (citation,) = schemas["CitationPublic"]["examples"]
        r = client.get(f"/api/v1/meetings/{citation['meeting_id']}/documents")
        (match,) = [d for d in r.json()["items"] if d["id"] == citation["id"]]
        same(citation, match)

        (hit,) = schemas["SearchHit"]["examples"]
        query = next(
            ex
            for p in doc["paths"]["/api/v1/search"]["get"]["parameters"]
            if p["name"] == "q"
            for ex in p["schema"]["examples"]
        )
        r = client.get("/api/v1/search", params={"q": query, "type": hit["type"]})
        (match,) = [h for h in r.json()["items"] if h["id"] == hit["id"]]
        # The score depends on the back end's ranking function: the example's is SQLite's.
        same({k: v for k, v in hit.items() if k != "score"}, {k: v for k, v in match.items() if k != "score"})
        assert isinstance(match["score"], float)
        if BACKEND == "sqlite":
            assert match["score"] == hit["score"]


class LinkParser(HTMLParser):
    """The URLs a page loads: script src, link href, and the spec-url of <redoc>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (tag, name) in {("script", "src"), ("link", "href"), ("redoc", "spec-url")}:
                self.urls.append(value)


class TestDocsPages:
    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    def test_docs_page_uses_only_local_assets(self, client: TestClient, page: str) -> None:
        r = client.get(page)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        parser = LinkParser()
        parser.feed(r.text)
        assert any(url.endswith(".js") for url in parser.urls), parser.urls
        for url in parser.urls:
            parts = urlsplit(url)
            assert not parts.scheme, f"{page} loads {url} from elsewhere"
            assert not parts.netloc, f"{page} loads {url} from elsewhere"
            assert url.startswith("/"), url
        # Nor any script or stylesheet named anywhere else in the page (inline code included).
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", r.text)
        assert "fonts.googleapis.com" not in r.text
        for url in parser.urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url
            if url.endswith(".js"):
                assert "javascript" in asset.headers["content-type"], url
            if url.endswith(".css"):
                assert asset.headers["content-type"].startswith("text/css"), url

    def test_swagger_ui_loads_the_local_document(self, client: TestClient) -> None:
        html = client.get("/docs").text
        assert "url: '/openapi.json'" in html
        assert client.get("/openapi.json").status_code == 200
