"""The synthetic seed generator: deterministic, valid, NFC, and loadable."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from app.__main__ import main
from app.generate import PROVINCES, slugify, write_seed
from app.models import Directive, Meeting
from app.seed_schema import read_seed
from app.seeding import create_schema, load_seed

N = 20


def generated(meetings: int = N, seed: int = 7) -> str:
    out = io.StringIO()
    write_seed(out, meetings, seed)
    return out.getvalue()


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "seed.json"
    assert main(["generate", "--meetings", str(N), "--seed", "7", "-o", str(path)]) == 0
    return path


def test_same_seed_gives_identical_bytes(seed_file: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.json"
    assert main(["generate", "--meetings", str(N), "--seed", "7", "-o", str(again)]) == 0
    assert again.read_bytes() == seed_file.read_bytes()
    assert generated().encode("utf-8") == seed_file.read_bytes()


def test_different_seed_gives_different_output() -> None:
    assert generated(seed=7) != generated(seed=8)


def test_output_validates_and_counts_match(seed_file: Path) -> None:
    seed = read_seed(seed_file)
    assert len(seed.meetings) == N
    assert len({m.slug for m in seed.meetings}) == N
    directives = sum(len(m.directives) for m in seed.meetings)
    assert 2 * N <= directives <= 10 * N
    assert all(m.participants and m.findings and m.shortcomings and m.documents for m in seed.meetings)


def test_text_is_nfc_vietnamese(seed_file: Path) -> None:
    raw = seed_file.read_text(encoding="utf-8")
    assert raw == unicodedata.normalize("NFC", raw)
    assert any(c in raw for c in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
    assert "-NQ/" in raw or "-KH/" in raw or "-QĐ/" in raw or "-CT/" in raw


def test_extracted_texts_lie_inside_their_quotes(seed_file: Path) -> None:
    seed = read_seed(seed_file)
    for m in seed.meetings:
        assert m.summary
        for d in m.directives:
            assert d.text in d.source_quote
        for s in m.shortcomings:
            assert s.text in s.source_quote
        for f in m.findings:
            assert f.text in f.source_quote
        names = {p.slug: p.full_name for p in seed.people}
        for p in m.participants:
            assert names[p.person] in p.source_quote
            assert p.title in p.source_quote


def test_stdout_output_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--meetings", "2", "--seed", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["meetings"]) == 2


def test_slugify_and_provinces() -> None:
    assert slugify("Đặng Thị Hoa") == "dang-thi-hoa"
    assert slugify("Bà Rịa - Vũng Tàu") == "ba-ria-vung-tau"
    assert len(set(PROVINCES)) == 63


def test_loads_into_the_database(seed_file: Path, empty_engine: Engine) -> None:
    seed = read_seed(seed_file)
    create_schema(empty_engine)
    report = load_seed(empty_engine, seed, file=seed_file)
    assert report.created["meetings"] == N
    with empty_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Meeting)).scalar_one() == N
        directives = conn.execute(select(func.count()).select_from(Directive)).scalar_one()
    assert directives == sum(len(m.directives) for m in seed.meetings)


def test_generated_links_are_consistent(seed_file: Path) -> None:
    """Assignees name the directive's addressees (lead first), or a participant's person;
    `addresses` name shortcomings of the same meeting; reviews, directives of earlier dates."""
    seed = read_seed(seed_file)
    issued = {d.slug: m.date for m in seed.meetings for d in m.directives}
    roles: set[str] = set()
    n_addresses = n_reviews = 0
    for m in seed.meetings:
        people = {p.person for p in m.participants}
        shortcomings = {s.slug for s in m.shortcomings}
        for d in m.directives:
            organizations = [a.organization for a in d.assignees if a.organization is not None]
            assert organizations == d.addressees
            assert d.assignees[0].role.value == "lead"
            for a in d.assignees:
                roles.add(a.role.value)
                assert a.person is None or a.person in people
                assert a.source_quote is None or d.text in a.source_quote
            assert set(d.addresses) <= shortcomings
            n_addresses += len(d.addresses)
        for r in m.reviews:
            assert issued[r.directive] < m.date
            assert r.source_quote is not None
            assert r.outcome in r.source_quote
            n_reviews += 1
    assert roles == {"lead", "coordinating", "monitoring"}
    assert n_addresses > 0
    assert n_reviews > 0


def test_generated_links_load(seed_file: Path, empty_engine: Engine) -> None:
    seed = read_seed(seed_file)
    create_schema(empty_engine)
    report = load_seed(empty_engine, seed, file=seed_file)
    assert report.created["assignees"] == sum(len(d.assignees) for m in seed.meetings for d in m.directives)
    assert report.created["addresses"] == sum(len(d.addresses) for m in seed.meetings for d in m.directives)
    assert report.created["reviews"] == sum(len(m.reviews) for m in seed.meetings)
