"""/search and the folding it relies on: as Vietnamese users type."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.models.search import HitType
from app.pagination import encode_cursor
from app.search import BM25_B, BM25_K1, BM25_TYPICAL_LENGTH, doc_t
from tests.conftest import BACKEND, problem_of, sqlite_plan
from tests.test_writes import NEW_MEETING

DANG_KY = "ben-tre-2018-03-20-nq18-19-dang-ky-lam-viec-so-nganh"


def search(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/search", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def create_directive(
    client: TestClient, auth: dict[str, str], slug: str, text: str, meeting_id: int | None = None
) -> int:
    source = client.get("/api/v1/directives/1").json()
    body = {
        "slug": slug,
        "meeting_id": meeting_id or source["meeting_id"],
        "issued_by": source["issued_by"],
        "text": text,
        "addressees": ["Sở Nội vụ"],
        "due_date": "2030-12-31",
        "source_quote": "trích dẫn",
    }
    r = client.post("/api/v1/directives", json=body, headers=auth)
    assert r.status_code == 201, r.text
    value: int = r.json()["id"]
    return value


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

    @pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's score (PostgreSQL's is its ts_rank)")
    def test_search_score_is_bm25_of_the_matched_words(
        self, client: TestClient, auth: dict[str, str], engine: Engine
    ) -> None:
        """A hit's score on SQLite: the words the query matched, saturated, against the length of
        its text (BM25, each word weighted alike), from the record and the query alone. FTS5
        counts the words itself, whatever other characters the text holds."""
        id_ = create_directive(client, auth, "zqx-score", "Zqxa báo cáo \x01 zqxa, zqxb \x01 đúng hạn")
        body = search(client, q="zqxa zqxb")
        assert [h["id"] for h in body["items"]] == [id_]
        with engine.connect() as conn:
            folded = conn.execute(
                select(doc_t.c.folded).where(doc_t.c.type == "directive", doc_t.c.record_id == id_)
            ).scalar_one()
        tf = 3
        length_ratio = len(folded) / BM25_TYPICAL_LENGTH
        expected = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length_ratio))
        assert body["items"][0]["score"] == round(expected, 6)

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

    @pytest.mark.parametrize("type_", [None, "directive"])
    def test_search_cursor_past_the_last_hit(self, client: TestClient, type_: str | None) -> None:
        """A page after every hit is empty, and still has the total."""
        params: dict[str, Any] = {"q": "tinh uy", "limit": 100} | ({"type": type_} if type_ else {})
        whole = search(client, **params)
        assert whole["total"] > 0
        lowest = min(h["score"] for h in whole["items"])
        past = encode_cursor("-score,id", [lowest - 1, 0])
        assert search(client, **params, cursor=past) == {
            "items": [],
            "total": whole["total"],
            "next_cursor": None,
        }

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


# Queries on the seed with hits of several types, several words, and last words that are whole
# words of the index ("uy", "ky") or only the beginnings of longer ones ("k", "d", "phon").
SEED_QUERIES = [
    "tinh uy",
    "dang ky",
    "dang k",
    "hop nhat van phong",
    "van phon",
    "ubnd",
    "chi dao",
    "d",
    "to chuc",
]


class TestSearchPaths:
    """The faster ways the search takes give the answers of the plain ones."""

    @pytest.mark.parametrize("q", SEED_QUERIES)
    def test_unfiltered_equals_every_type(self, client: TestClient, q: str) -> None:
        """Without a filter, SQLite ranks the matches within its FTS5 table alone; with a type
        filter, through the join to search_document. Asking for every type must not change
        the hits, their order, their scores or the total."""
        every = search(client, q=q, type=[t.value for t in HitType], limit=100)
        assert every["total"] > 0
        assert search(client, q=q, limit=100) == every

    @pytest.mark.skipif(BACKEND != "sqlite", reason="FTS5's prefix queries: SQLite only")
    @pytest.mark.usefixtures("no_response_cache")  # the same URLs twice: answered anew
    def test_whole_last_word_equals_prefix_query(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SQLite asks FTS5 for the last word alone when no longer word of the index begins
        with it: the answers are those of the prefix query, scores included."""
        from app import search as search_module

        asked: list[str] = []
        checked = search_module._sqlite_tokens

        def spy(cur: Any, toks: list[str]) -> list[str]:
            out = checked(cur, toks)
            asked.append(out[-1])
            return out

        monkeypatch.setattr(search_module, "_sqlite_tokens", spy)
        fast = {q: search(client, q=q, limit=100) for q in SEED_QUERIES}
        # Both kinds were asked for: whole words, and prefixes of longer ones.
        assert {"uy", "ky"} <= set(asked)
        assert {"k*", "d*", "phon*"} <= set(asked)
        monkeypatch.setattr(search_module, "_sqlite_tokens", lambda cur, toks: [*toks[:-1], toks[-1] + "*"])
        assert {q: search(client, q=q, limit=100) for q in SEED_QUERIES} == fast

    @pytest.mark.parametrize("q", SEED_QUERIES)
    def test_meeting_filter_keeps_the_meetings_hits(self, client: TestClient, q: str) -> None:
        """The meeting filter gives the hits of the meeting among all hits, in their order."""
        every = search(client, q=q, limit=100)
        assert every["total"] < 100  # all of them
        mine = [h for h in every["items"] if h["meeting_id"] == 1]
        assert mine
        body = search(client, q=q, meeting_id=1, limit=100)
        assert body["items"] == mine
        assert body["total"] == len(mine)

    def test_meeting_filter_with_other_records_among_its_own(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        """A record added to a meeting after another meeting's records (its search document's id
        is then past theirs) is found with the meeting's others, and the other's are not."""
        r = client.post("/api/v1/meetings", json=NEW_MEETING | {"summary": "Rà soát zqxword"}, headers=auth)
        assert r.status_code == 201, r.text
        other = r.json()["id"]
        late = create_directive(client, auth, "zqx-late", "Rà soát zqxword muộn", meeting_id=1)
        early = search(client, q="ra soat", meeting_id=1, limit=100)["items"]
        assert {(h["type"], h["id"]) for h in early} >= {("directive", late)}
        assert all(h["meeting_id"] == 1 for h in early)
        assert [(h["type"], h["id"]) for h in search(client, q="zqxword", meeting_id=1)["items"]] == [
            ("directive", late)
        ]
        assert [(h["type"], h["id"]) for h in search(client, q="zqxword", meeting_id=other)["items"]] == [
            ("meeting", other)
        ]
        assert search(client, q="zqxword", meeting_id=10**6)["total"] == 0

    def test_last_word_stays_a_prefix_after_writes(self, client: TestClient, auth: dict[str, str]) -> None:
        """A word that no longer word began with is a prefix again once one is written."""

        def create(slug: str, text: str) -> int:
            return create_directive(client, auth, slug, text)

        def found(q: str) -> set[int]:
            return {h["id"] for h in search(client, q=q, type="directive", limit=100)["items"]}

        first = create("zqx-1", "Rà soát quy trình zqxhop trong quý")
        assert found("zqxhop") == {first}
        assert found("ra soat zqxhop") == {first}
        second = create("zqx-2", "Rà soát quy trình zqxhopnhat trong quý")
        assert found("zqxhop") == {first, second}
        assert found("ra soat zqxhop") == {first, second}
        assert found("zqxhopnhat") == {second}
        assert found("zqxho") == {first, second}


class TestTextFilters:
    @pytest.mark.parametrize("q", ["dang ky", "ĐĂNG KÝ", unicodedata.normalize("NFD", "đăng ký")])
    def test_read_directives_q_folds(self, client: TestClient, q: str) -> None:
        r = client.get("/api/v1/directives", params={"q": q})
        assert r.status_code == 200
        assert [d["slug"] for d in r.json()["items"]] == [DANG_KY]

    @pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's plans and its INDEXED BY")
    def test_read_directives_q_reads_each_match_from_an_index_not_its_row(
        self,
        client: TestClient,
        engine: Engine,
        fast_statements: list[tuple[str, Any]],
        no_response_cache: None,
    ) -> None:
        """A ?q= filter keeps the record ids of the matches of one type: their type and record id
        come from search_document's index (migration a7d3e9f1c2b5), not from each match's row
        with its texts, for the page and for its total alike."""
        r = client.get("/api/v1/directives", params={"q": "nghi quyet", "limit": 1})
        assert r.status_code == 200
        assert r.json()["total"] > 1  # counted: there is a next page
        filtered = [(sql, params) for sql, params in fast_statements if "search_fts MATCH" in sql]
        assert len(filtered) == 2  # the page, its total
        for sql, params in filtered:
            plan = sqlite_plan(engine, sql, params)
            reads = [
                step for step in plan if step.startswith(("SEARCH search_document", "SCAN search_document"))
            ]
            assert reads == [
                "SEARCH search_document USING COVERING INDEX "
                "ix_search_document_id_type_meeting_id_record_id (id=? AND type=?)"
            ], plan
