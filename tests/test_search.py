"""/search and the folding it relies on: as Vietnamese users type."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import problem_of

DANG_KY = "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh"


def search(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/search", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def directive_id(client: TestClient, slug: str) -> int:
    value: int = client.get(f"/api/v1/directives/{slug}").json()["id"]
    return value


class TestSearch:
    @pytest.mark.parametrize(
        "q",
        [
            "đăng ký",  # as written
            "dang ky",  # no diacritics: đ is a letter of its own, not a combining mark
            "DANG KY",  # any case
            "ĐĂNG KÝ",
            unicodedata.normalize("NFD", "đăng ký"),  # decomposed input
            "dang k",  # the last word may be a prefix
        ],
    )
    def test_search_finds_dang_ky(self, client: TestClient, q: str) -> None:
        body = search(client, q=q)
        wanted = directive_id(client, DANG_KY)
        hits = [(h["type"], h["id"]) for h in body["items"]]
        assert ("directive", wanted) in hits
        hit = next(h for h in body["items"] if (h["type"], h["id"]) == ("directive", wanted))
        assert "«đăng» «ký»" in hit["snippet"]
        assert hit["url"] == f"/api/v1/directives/{hit['id']}"

    def test_search_all_words_must_match(self, client: TestClient) -> None:
        assert search(client, q="dang ky hop nhat")["total"] == 0

    def test_search_each_type(self, client: TestClient) -> None:
        expected = {
            "person": "vo thanh hao",
            "participant": "pho chu tich ubnd",
            "meeting": "hoi nghi truc tuyen",
            "directive": "khong thanh lap to chuc moi",
            "shortcoming": "tham muu cap huyen",
            "finding": "to chi dao",
            "document": "chuong trinh hanh dong so 28",
        }
        for type_, q in expected.items():
            body = search(client, q=q, type=type_)
            assert body["total"] >= 1, (type_, q)
            assert {h["type"] for h in body["items"]} == {type_}

    def test_search_ranked_best_first(self, client: TestClient) -> None:
        body = search(client, q="hop nhat van phong")
        scores = [h["score"] for h in body["items"]]
        assert scores == sorted(scores, reverse=True)
        assert body["items"][0]["title"] == "hợp nhất văn phòng khi có điều kiện"

    def test_search_paginated_without_gaps(self, client: TestClient) -> None:
        whole = search(client, q="tinh uy", limit=100)
        assert whole["total"] > 5
        seen: list[tuple[str, int]] = []
        cursor = None
        for _ in range(100):  # bounded: a cursor that never ends must fail, not hang
            params: dict[str, Any] = {"q": "tinh uy", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = search(client, **params)
            seen.extend((h["type"], h["id"]) for h in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [(h["type"], h["id"]) for h in whole["items"]]
        assert len(seen) == whole["total"]

    def test_search_meeting_filter(self, client: TestClient) -> None:
        assert search(client, q="tinh uy", meeting_id=2)["total"] == 0
        assert search(client, q="tinh uy", meeting_id=1)["total"] > 0

    def test_search_no_match(self, client: TestClient) -> None:
        assert search(client, q="bitcoin") == {"items": [], "total": 0, "next_cursor": None}

    @pytest.mark.parametrize("q", ['"', "***", "-", "AND OR NOT", "(", "a:b", "dang^ky"])
    def test_search_query_syntax_is_not_interpreted(self, client: TestClient, q: str) -> None:
        r = client.get("/api/v1/search", params={"q": q})
        assert r.status_code in (200, 422)
        if r.status_code == 422:
            assert problem_of(r)["invalid_params"][0]["name"] == "query.q"

    def test_search_missing_q(self, client: TestClient) -> None:
        r = client.get("/api/v1/search")
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.q"

    def test_search_punctuation_only(self, client: TestClient) -> None:
        r = client.get("/api/v1/search", params={"q": "!!!"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"] == "query.q"

    def test_search_bad_type(self, client: TestClient) -> None:
        r = client.get("/api/v1/search", params={"q": "x", "type": "vote"})
        assert r.status_code == 422
        assert problem_of(r)["invalid_params"][0]["name"].startswith("query.type")


class TestTextFilters:
    @pytest.mark.parametrize("q", ["dang ky", "ĐĂNG KÝ", unicodedata.normalize("NFD", "đăng ký")])
    def test_read_directives_q_folds(self, client: TestClient, q: str) -> None:
        r = client.get("/api/v1/directives", params={"q": q})
        assert r.status_code == 200
        assert [d["slug"] for d in r.json()["items"]] == [DANG_KY]
