"""The seed: faithful to the source article, and loaded all-or-nothing.

Fidelity: every quote is a verbatim passage of the report, every extracted text
lies inside its own quote, and the report's byline is not mistaken for a
participant. Loading: idempotent, and a bad seed (caught by validation or by
the database) raises with the JSON path of the problem and changes nothing.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select, table
from sqlmodel import SQLModel

import app.seeding
from app.config import ROOT, Settings
from app.models import Finding
from app.seed_schema import SeedError, SeedFile, json_schema, parse_seed, read_seed, validate_references
from app.seeding import COLLECTIONS, create_schema, is_empty, load_seed
from app.startup import prepare_database
from tests.conftest import ARTICLE, SEED_FILE, SHARED_ARTICLE

SCHEMA_FILE = ROOT / "data" / "seed.schema.json"
ARTICLE_BYTES = ARTICLE.read_bytes()
ARTICLE_TEXT = ARTICLE_BYTES.decode("utf-8")
RAW_SEED: dict[str, Any] = json.loads(SEED_FILE.read_bytes())
MEETING_SLUG = "ben-tre-2018-03-20-nq18-19"
MODEL_TABLES = sorted(SQLModel.metadata.tables)

EXPECTED_ROWS = {
    "person": 5,
    "document": 5,
    "meeting": 1,
    "participant": 5,
    "directive": 10,
    "shortcoming": 5,
    "finding": 4,
    "meeting_document": 5,
}


def all_quotes(seed: SeedFile) -> Iterator[tuple[str, str]]:
    """(JSON path, source_quote) of every quoted record of the seed."""
    for m_i, m in enumerate(seed.meetings):
        for kind in ("participants", "directives", "shortcomings", "findings", "documents"):
            for i, item in enumerate(getattr(m, kind)):
                yield f"meetings[{m_i}].{kind}[{i}]", item.source_quote
        for i, d in enumerate(m.directives):
            for j, a in enumerate(d.assignees):
                if a.source_quote is not None:
                    yield f"meetings[{m_i}].directives[{i}].assignees[{j}]", a.source_quote
        for i, r in enumerate(m.reviews):
            if r.source_quote is not None:
                yield f"meetings[{m_i}].reviews[{i}]", r.source_quote


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table in the database (on SQLite, the FTS shadow tables too)."""
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one() for name in names
        }


def write_seed(path: Path, data: dict[str, Any] | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode())
    return path


def renamed_meeting(data: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The seed with its meeting and all the meeting's records under new slugs."""
    data = copy.deepcopy(data)
    for m in data["meetings"]:
        m["slug"] += suffix
        for kind in ("participants", "directives", "shortcomings", "findings"):
            for item in m[kind]:
                item["slug"] += suffix
        for d in m["directives"]:
            d["issued_by"] += suffix
            d["addresses"] = [s + suffix for s in d.get("addresses", [])]
            for a in d.get("assignees", []):
                a["slug"] += suffix
    return data


# --- fidelity to the source article -------------------------------------------------


class TestSeedFidelity:
    def test_read_seed_counts(self, seed: SeedFile) -> None:
        (meeting,) = seed.meetings
        counts = {
            "person": len(seed.people),
            "document": len(seed.documents),
            "meeting": len(seed.meetings),
            "participant": len(meeting.participants),
            "directive": len(meeting.directives),
            "shortcoming": len(meeting.shortcomings),
            "finding": len(meeting.findings),
            "meeting_document": len(meeting.documents),
        }
        assert counts == EXPECTED_ROWS

    def test_read_seed_quotes_are_verbatim(self, seed: SeedFile) -> None:
        quotes = list(all_quotes(seed))
        assert len(quotes) == 5 + 10 + 5 + 4 + 5 + 4  # ... and the four assignees
        missing = [path for path, quote in quotes if quote.encode("utf-8") not in ARTICLE_BYTES]
        assert missing == []

    def test_read_seed_texts_inside_their_quotes(self, seed: SeedFile) -> None:
        outside = [
            f"meetings[{m_i}].{kind}[{i}]"
            for m_i, m in enumerate(seed.meetings)
            for kind in ("directives", "shortcomings", "findings")
            for i, item in enumerate(getattr(m, kind))
            if item.text not in item.source_quote
        ]
        assert outside == []

    def test_read_seed_participants_named_in_their_quotes(self, seed: SeedFile) -> None:
        names = {p.slug: p.full_name for p in seed.people}
        (meeting,) = seed.meetings
        for p in meeting.participants:
            assert names[p.person] in p.source_quote, p.slug
            assert p.title in p.source_quote, p.slug
            # The office is the one written right before the name.
            assert f"{p.title} {names[p.person]}" in ARTICLE_TEXT, p.slug

    def test_read_seed_chair_issues_the_directives(self, seed: SeedFile) -> None:
        (meeting,) = seed.meetings
        chairs = [p for p in meeting.participants if p.role == "chair"]
        assert [p.person for p in chairs] == ["vo-thanh-hao"]
        assert "Bí thư Tỉnh ủy Võ Thành Hạo chủ trì hội nghị" in ARTICLE_TEXT
        assert {d.issued_by for d in meeting.directives} == {chairs[0].slug}

    def test_read_seed_assignees_named_in_their_quotes(self, seed: SeedFile) -> None:
        """Each assignee is an organization the article names, in the passage quoted, and only
        the roles the text supports: lead for the body told to act, coordinating for the
        departments it must work with; no monitoring (the article tells nobody to supervise)."""
        (meeting,) = seed.meetings
        found = {
            (d.slug.removeprefix(f"{MEETING_SLUG}-"), a.role.value, a.organization)
            for d in meeting.directives
            for a in d.assignees
        }
        assert found == {
            ("chi-dao-quyet-liet", "lead", "từng cấp ủy, tổ chức đảng"),
            ("ke-hoach-cap-xa-phuong", "lead", "Các huyện ủy, thành ủy"),
            ("dang-ky-lam-viec-so-nganh", "lead", "từng đơn vị, địa phương"),
            ("dang-ky-lam-viec-so-nganh", "coordinating", "các sở, ngành"),
        }
        for d in meeting.directives:
            for a in d.assignees:
                assert a.person is None
                assert a.organization is not None
                assert a.source_quote is not None
                assert a.organization in a.source_quote, a.slug
                assert a.source_quote in d.source_quote, a.slug

    def test_read_seed_addresses_answer_their_shortcomings(self, seed: SeedFile) -> None:
        """A directive answers a shortcoming where its words take up the shortcoming's."""
        (meeting,) = seed.meetings
        texts = {s.slug: s.text for s in meeting.shortcomings}
        pairs = {(d.text, texts[s]) for d in meeting.directives for s in d.addresses}
        echoes = {  # a phrase of the shortcoming and the directive's answer to it
            "trông chờ hướng dẫn của cấp trên": "không trông chờ hướng dẫn của cấp trên",
            "chung chung": "thật cụ thể",
            "chưa tiếp cận": "chưa cập nhật",
            "khó thực hiện": "những đơn vị dễ, có thể làm ngay",
        }
        assert len(pairs) == len(echoes) == 4
        for directive, shortcoming in pairs:
            assert any(a in shortcoming and b in directive for a, b in echoes.items()), directive

    def test_read_seed_byline_not_participants(self, seed: SeedFile) -> None:
        (meeting,) = seed.meetings
        assert meeting.source.author == "Hoàng Lam"
        assert meeting.source.photographer == "H. Hiệp"
        byline = {meeting.source.author, meeting.source.photographer}
        assert all(name in ARTICLE_TEXT for name in byline)
        assert byline.isdisjoint(p.full_name for p in seed.people)
        assert not [p.slug for p in meeting.participants for name in byline if name in p.source_quote]

    @pytest.mark.skipif(not SHARED_ARTICLE.exists(), reason="no ../shared/source beside this clone")
    def test_read_seed_article_is_the_projects_copy(self) -> None:
        assert ARTICLE.read_bytes() == SHARED_ARTICLE.read_bytes()

    def test_read_seed_source_matches_article(self, seed: SeedFile) -> None:
        (meeting,) = seed.meetings
        first_line = ARTICLE_TEXT.splitlines()[0]
        assert meeting.title == meeting.source.title == first_line
        assert meeting.source.file == ARTICLE.name
        assert meeting.source.published_at.isoformat() == "2018-03-20T16:53:00+07:00"
        assert "20/03/2018 - 16:53" in ARTICLE_TEXT
        assert meeting.summary in ARTICLE_TEXT
        assert meeting.purpose in ARTICLE_TEXT

    def test_read_seed_cited_document_numbers_in_quotes(self, seed: SeedFile) -> None:
        numbers = {d.slug: d.number for d in seed.documents}
        (meeting,) = seed.meetings
        for c in meeting.documents:
            assert numbers[c.document], c.document
            assert numbers[c.document] in c.source_quote, c.document

    def test_read_seed_text_is_nfc(self) -> None:
        raw = SEED_FILE.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", raw)
        assert unicodedata.is_normalized("NFC", ARTICLE_TEXT)
        strings: list[str] = []

        def walk(node: object) -> None:
            if isinstance(node, str):
                strings.append(node)
            elif isinstance(node, dict):
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(RAW_SEED)
        assert len(strings) > 100
        assert [s for s in strings if not unicodedata.is_normalized("NFC", s)] == []

    def test_read_seed_references_resolve(self, seed: SeedFile) -> None:
        assert validate_references(seed) == []
        people = {p.slug for p in seed.people}
        documents = {d.slug for d in seed.documents}
        for m in seed.meetings:
            participants = {p.slug for p in m.participants}
            assert {p.person for p in m.participants} <= people
            assert {d.issued_by for d in m.directives} <= participants
            assert {c.document for c in m.documents} <= documents
        slugs = [
            item.slug
            for m in seed.meetings
            for kind in ("participants", "directives", "shortcomings", "findings")
            for item in getattr(m, kind)
        ]
        assert len(slugs) == len(set(slugs))


class TestSeedSchema:
    def test_read_seed_schema_file_up_to_date(self) -> None:
        assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()

    def test_validate_seed_against_schema_file(self) -> None:
        schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        bad = copy.deepcopy(RAW_SEED)
        del bad["meetings"][0]["participants"][0]["role"]
        try:
            import jsonschema
        except ImportError:
            try:
                import jsonschema_rs  # what schemathesis 4 brings
            except ImportError:
                pytest.skip("neither jsonschema nor jsonschema_rs is installed")
            validator = jsonschema_rs.Draft202012Validator(schema)
            assert [e.message for e in validator.iter_errors(RAW_SEED)] == []
            assert not validator.is_valid(bad)
        else:
            validator = jsonschema.Draft202012Validator(schema)
            assert [e.message for e in validator.iter_errors(RAW_SEED)] == []
            assert not validator.is_valid(bad)


# --- loading ----------------------------------------------------------------------------


def schema_only(engine: Engine) -> Engine:
    create_schema(engine)
    return engine


class TestLoadSeed:
    def test_load_seed_counts(self, empty_engine: Engine, seed: SeedFile) -> None:
        engine = schema_only(empty_engine)
        assert is_empty(engine)
        report = load_seed(engine, seed)
        assert report.created == dict.fromkeys(COLLECTIONS, 0) | {
            "people": 5,
            "documents": 5,
            "meetings": 1,
        } | {
            "participants": 5,
            "directives": 10,
            "shortcomings": 5,
            "findings": 4,
            "citations": 5,
            "assignees": 4,
            "addresses": 4,
        }
        counts = row_counts(engine)
        assert {k: counts[k] for k in EXPECTED_ROWS} == EXPECTED_ROWS
        assert counts["search_document"] == 5 + 5 + 1 + 5 + 10 + 5 + 4
        assert not is_empty(engine)

    def test_load_seed_twice_creates_nothing(self, engine: Engine, seed: SeedFile) -> None:
        before = row_counts(engine)
        report = load_seed(engine, seed)
        assert not any(report.created.values()), report.created
        assert report.skipped_meetings == [MEETING_SLUG]
        assert report.summary() == "created nothing new; 1 meeting(s) already present"
        assert row_counts(engine) == before

    def test_load_seed_second_meeting_reuses_people_and_documents(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        before = row_counts(engine)
        seed = read_seed(write_seed(tmp_path / "second.json", renamed_meeting(RAW_SEED, "-bis")))
        report = load_seed(engine, seed)
        assert report.created["people"] == report.created["documents"] == 0
        assert report.created["meetings"] == 1
        after = row_counts(engine)
        assert after["person"] == before["person"] == 5
        assert after["document"] == before["document"] == 5
        for name in ("meeting", "participant", "directive", "shortcoming", "finding", "meeting_document"):
            assert after[name] == 2 * before[name], name

    def test_prepare_database_twice_idempotent(self, empty_engine: Engine, settings: Settings) -> None:
        prepare_database(empty_engine, settings)
        once = row_counts(empty_engine)
        assert {k: once[k] for k in EXPECTED_ROWS} == EXPECTED_ROWS
        prepare_database(empty_engine, settings)
        assert row_counts(empty_engine) == once

    def test_prepare_database_no_seed_when_disabled(self, empty_engine: Engine, settings: Settings) -> None:
        prepare_database(empty_engine, settings.model_copy(update={"load_seed_on_start": False}))
        counts = row_counts(empty_engine)
        assert set(counts) >= {*EXPECTED_ROWS, "search_document"}
        assert {name: counts[name] for name in MODEL_TABLES} == dict.fromkeys(MODEL_TABLES, 0)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


def _copy_from(path: tuple[Any, ...], source: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in source:
            node = node[key]
        _set(path, node)(data)

    return mutate


M = ("meetings", 0)
NFD_FINDING = unicodedata.normalize("NFD", RAW_SEED["meetings"][0]["findings"][0]["text"])
QUOTE_WITH_NUL = "Tuy nhiên,\x00 sự thống nhất"

# (id, mutation of the seed or raw bytes, a problem line the error must report)
BAD_SEEDS: list[tuple[str, Callable[[dict[str, Any]], None] | bytes, str]] = [
    ("invalid_json", b'{"people": [', "$: not valid JSON"),
    ("invalid_utf8", b'{"people": "\xff"}', "$: not valid JSON"),
    (
        "missing_field",
        _delete((*M, "participants", 0, "role")),
        "meetings[0].participants[0].role: Field required",
    ),
    (
        "unknown_participant",
        _set((*M, "directives", 3, "issued_by"), "x"),
        "meetings[0].directives[3].issued_by: unknown participant 'x'",
    ),
    (
        "unknown_document",
        _set((*M, "documents", 4, "document"), "nq-99-khong-co"),
        "meetings[0].documents[4].document: unknown document 'nq-99-khong-co'",
    ),
    (
        "duplicate_person",
        _copy_from(("people", 2, "slug"), ("people", 1, "slug")),
        "people[2].slug: duplicate slug 'phan-van-mai'",
    ),
    (
        "duplicate_directive",
        _copy_from((*M, "directives", 9, "slug"), (*M, "directives", 0, "slug")),
        "meetings[0].directives[9].slug: duplicate slug 'ben-tre-2018-03-20-nq18-19-chi-dao-quyet-liet'",
    ),
    (
        "not_nfc",
        _set((*M, "findings", 0, "text"), NFD_FINDING),
        "meetings[0].findings[0].text: Value error, text must be in Unicode NFC",
    ),
    (
        "nul_in_quote",
        _set((*M, "shortcomings", 0, "source_quote"), QUOTE_WITH_NUL),
        "meetings[0].shortcomings[0].source_quote: Value error, NUL characters are not allowed",
    ),
    (
        "nul_in_url",
        _set((*M, "source", "url"), "https://baodongkhoi.vn/\x00"),
        "meetings[0].source.url: Value error, NUL characters are not allowed",
    ),
    (
        "timezone_too_long",
        _set((*M, "timezone"), "Asia/" + "X" * 60),
        "meetings[0].timezone: String should have at most 64 characters",
    ),
    (
        "naive_time",
        _set((*M, "source", "published_at"), "2018-03-20T16:53:00"),
        "meetings[0].source.published_at: a time needs its UTC offset",
    ),
]


@pytest.fixture(params=["empty", "seeded"])
def target(request: pytest.FixtureRequest) -> Engine:
    """A database with the schema and no rows, or with the seed loaded."""
    if request.param == "seeded":
        return request.getfixturevalue("engine")  # type: ignore[no-any-return]
    return schema_only(request.getfixturevalue("empty_engine"))


def load_into(engine: Engine, settings: Settings, seed_file: Path) -> None:
    """Start-up on an empty database; an explicit load on a seeded one."""
    if is_empty(engine):
        prepare_database(engine, settings.model_copy(update={"seed_file": seed_file}))
    else:
        load_seed(engine, read_seed(seed_file))


class TestLoadBadSeed:
    @pytest.mark.parametrize(
        ("mutation", "problem"), [c[1:] for c in BAD_SEEDS], ids=[c[0] for c in BAD_SEEDS]
    )
    def test_load_seed_bad_file_changes_nothing(
        self,
        target: Engine,
        settings: Settings,
        tmp_path: Path,
        mutation: Callable[[dict[str, Any]], None] | bytes,
        problem: str,
    ) -> None:
        if isinstance(mutation, bytes):
            data: dict[str, Any] | bytes = mutation
        else:
            data = copy.deepcopy(RAW_SEED)
            mutation(data)
        bad = write_seed(tmp_path / "bad.json", data)
        before = row_counts(target)
        with pytest.raises(SeedError) as caught:
            load_into(target, settings, bad)
        assert caught.value.file == str(bad)
        assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
        assert f"{bad}: {problem}" in caught.value.report()
        assert row_counts(target) == before

    def test_load_seed_slug_taken_by_other_meeting(self, engine: Engine, tmp_path: Path) -> None:
        """A new meeting whose participant slug belongs to the seeded meeting: refused, nothing kept."""
        data = renamed_meeting(RAW_SEED, "-bis")
        data["meetings"][0]["participants"][0]["slug"] = RAW_SEED["meetings"][0]["participants"][0]["slug"]
        for d in data["meetings"][0]["directives"]:
            d["issued_by"] = data["meetings"][0]["participants"][0]["slug"]
        bad = write_seed(tmp_path / "bad.json", data)
        seed = read_seed(bad)  # valid on its own: the clash is with the database
        before = row_counts(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, seed, file=bad)
        assert caught.value.problems == [
            "meetings[0].participants[0].slug: slug "
            "'ben-tre-2018-03-20-nq18-19-vo-thanh-hao' already exists in the database"
        ]
        assert str(bad) in str(caught.value)
        assert row_counts(engine) == before

    def test_load_seed_late_slug_clash_keeps_nothing(self, engine: Engine, tmp_path: Path) -> None:
        """The clash is on the last finding: the rows before it must not be kept either."""
        data = renamed_meeting(RAW_SEED, "-bis")
        data["meetings"][0]["findings"][3]["slug"] = RAW_SEED["meetings"][0]["findings"][3]["slug"]
        seed = read_seed(write_seed(tmp_path / "bad.json", data))
        before = row_counts(engine)
        with pytest.raises(SeedError) as caught:
            load_seed(engine, seed)
        assert [p.split(":")[0] for p in caught.value.problems] == ["meetings[0].findings[3].slug"]
        assert row_counts(engine) == before

    @pytest.mark.parametrize("state", ["empty", "seeded"])
    def test_load_seed_failure_midway_rolls_back(
        self,
        state: str,
        empty_engine: Engine,
        settings: Settings,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Any error during the load (here: inserting findings) leaves the database as it was."""
        if state == "seeded":
            prepare_database(empty_engine, settings)
            seed = parse_seed(json.dumps(renamed_meeting(RAW_SEED, "-bis")))
        else:
            create_schema(empty_engine)
            seed = read_seed(SEED_FILE)
        real_insert = app.seeding._insert_many

        def failing_insert(conn: Any, model: Any, rows: Any) -> list[int]:
            if model is Finding:
                raise RuntimeError("disk full")
            return real_insert(conn, model, rows)

        real_rows = app.seeding.changes.insert_rows

        def failing_rows(conn: Any, table: str, columns: Any, rows: Any) -> None:
            if table == "finding":  # the bulk path's insert (records new to the database)
                raise RuntimeError("disk full")
            real_rows(conn, table, columns, rows)

        monkeypatch.setattr(app.seeding, "_insert_many", failing_insert)
        monkeypatch.setattr(app.seeding.changes, "insert_rows", failing_rows)
        before = row_counts(empty_engine)
        with pytest.raises(RuntimeError, match="disk full"):
            load_seed(empty_engine, seed)
        assert row_counts(empty_engine) == before

    def test_prepare_database_missing_seed_file(
        self, empty_engine: Engine, settings: Settings, tmp_path: Path
    ) -> None:
        missing = tmp_path / "nowhere.json"
        with pytest.raises(SeedError) as caught:
            prepare_database(empty_engine, settings.model_copy(update={"seed_file": missing}))
        assert caught.value.problems[0].startswith("$: cannot read file")
        assert caught.value.file == str(missing)
        counts = row_counts(empty_engine)
        assert {name: counts[name] for name in MODEL_TABLES} == dict.fromkeys(MODEL_TABLES, 0)
