"""The streamed seed reader (app.seed_schema.SeedStream) and the chunked load over it.

A streamed load must give what the whole-file load gives (the same API answers, the
same rows), report a problem of any meeting, however late, by its JSON path and keep
nothing, and hold a bounded amount of memory whatever the file's size.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from app import seed_schema
from app.db import create_db_engine
from app.generate import write_seed
from app.seed_schema import SeedError, open_seed, read_seed
from app.seeding import create_schema, load_seed
from tests.conftest import SEED_FILE, drop_settings_schema, make_settings
from tests.test_exports import api_answers, exported, row_counts

GENERATED = 40


@pytest.fixture
def generated_file(tmp_path: Path) -> Path:
    path = tmp_path / "generated.json"
    with path.open("w", encoding="utf-8") as out:
        write_seed(out, GENERATED, 7)
    return path


@pytest.fixture
def second_engine(tmp_path: Path) -> Iterator[Engine]:
    """Another empty database (schema only) of the back end under test."""
    (tmp_path / "second").mkdir()
    settings = make_settings(tmp_path / "second")
    engine = create_db_engine(settings)
    create_schema(engine)
    yield engine
    engine.dispose()
    drop_settings_schema(settings)


def raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def read_through(path: Path) -> None:
    """Read a file as `seed check` does: every meeting, then the links checked at the end."""
    with open_seed(path) as stream:
        for _ in stream.records():
            pass
        stream.finish()


def change_entries(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT collection, record_slug, action FROM change")).all()
    return sorted((r[0], r[1], r[2]) for r in rows)


def ids_by_slug(engine: Engine, table: str) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(text(f"SELECT id, slug FROM {table} ORDER BY id"))]


def test_load_seed_streamed_equals_whole_file(
    empty_engine: Engine, second_engine: Engine, generated_file: Path
) -> None:
    create_schema(empty_engine)
    whole = load_seed(empty_engine, read_seed(generated_file), chunk=10_000)
    with open_seed(generated_file) as stream:
        streamed = load_seed(second_engine, stream, chunk=7)  # several chunks, the last a short one
    assert streamed.created == whole.created
    assert streamed.created["meetings"] == GENERATED
    assert row_counts(second_engine) == row_counts(empty_engine)
    for table in ("meeting", "participant", "directive", "shortcoming", "finding"):
        assert ids_by_slug(second_engine, table) == ids_by_slug(empty_engine, table), table
    assert api_answers(second_engine) == api_answers(empty_engine)
    assert exported(second_engine) == exported(empty_engine)
    assert change_entries(second_engine) == change_entries(empty_engine)


def test_load_seed_streamed_twice_changes_nothing(
    empty_engine: Engine, generated_file: Path, tmp_path: Path
) -> None:
    create_schema(empty_engine)
    path = generated_file  # with assignees, addresses and reviews
    with open_seed(path) as stream:
        load_seed(empty_engine, stream, chunk=9)
    before = row_counts(empty_engine)
    with open_seed(path) as stream:
        again = load_seed(empty_engine, stream, chunk=9)
    assert not any(again.created.values()), again.created
    assert not any(again.updated.values()), again.updated
    assert len(again.skipped_meetings) == GENERATED
    assert row_counts(empty_engine) == before


def test_load_seed_streamed_late_problems_keep_nothing(
    engine: Engine, generated_file: Path, tmp_path: Path
) -> None:
    """Problems in the last meetings, read long after the first chunks were written: reported by
    path (each one, with the forward link checked at the end), and the database is as before."""
    data = raw(generated_file)
    late = data["meetings"][GENERATED - 3]
    late["directives"][0]["issued_by"] = "x"
    del data["meetings"][GENERATED - 2]["participants"][0]["role"]
    data["meetings"][1]["directives"][0]["addresses"] = ["khong-co-thieu-sot"]
    bad = write(tmp_path / "late.json", data)
    before = row_counts(engine)
    with open_seed(bad) as stream, pytest.raises(SeedError) as caught:
        load_seed(engine, stream, chunk=5)
    assert caught.value.file == str(bad)
    assert caught.value.problems == [
        f"meetings[{GENERATED - 3}].directives[0].issued_by: unknown participant 'x'",
        f"meetings[{GENERATED - 2}].participants[0].role: Field required",
        "meetings[1].directives[0].addresses[0]: unknown shortcoming 'khong-co-thieu-sot'",
    ]
    assert row_counts(engine) == before


def test_load_seed_streamed_late_slug_clash_keeps_nothing(
    engine: Engine, generated_file: Path, tmp_path: Path
) -> None:
    """A late meeting's record with a slug of the seeded meeting: refused by path, nothing kept."""
    data = raw(generated_file)
    taken = raw(SEED_FILE)["meetings"][0]["findings"][0]["slug"]
    data["meetings"][GENERATED - 1]["findings"][0]["slug"] = taken
    bad = write(tmp_path / "clash.json", data)
    before = row_counts(engine)
    with open_seed(bad) as stream, pytest.raises(SeedError) as caught:
        load_seed(engine, stream, chunk=5)
    assert caught.value.problems == [
        f"meetings[{GENERATED - 1}].findings[0].slug: slug '{taken}' already exists in the database"
    ]
    assert row_counts(engine) == before


def test_read_seed_stream_forward_links(generated_file: Path, tmp_path: Path) -> None:
    """A directive may answer a shortcoming of a meeting further on in the file, and a meeting may
    review a directive of a meeting that comes later in the file but earlier in time."""
    data = raw(generated_file)
    first, last = data["meetings"][0], data["meetings"][-1]
    first["directives"][0]["addresses"] = [last["shortcomings"][0]["slug"]]
    older, newer = sorted((first, last), key=lambda m: m["date"])
    assert older["date"] < newer["date"]
    newer["reviews"] = [{"directive": older["directives"][0]["slug"], "outcome": "Đã hoàn thành."}]
    path = write(tmp_path / "forward.json", data)
    with open_seed(path) as stream:
        slugs = [m.slug for kind, m in stream.records() if kind == "meetings"]
        stream.finish()
    assert slugs == [m["slug"] for m in data["meetings"]]
    assert read_seed(path).meetings[0].directives[0].addresses == [last["shortcomings"][0]["slug"]]


def test_load_seed_streamed_forward_links_and_the_feed(
    empty_engine: Engine, second_engine: Engine, generated_file: Path, tmp_path: Path
) -> None:
    """Links to a meeting further on in the file are written when it has been merged: the
    database is the whole-file load's, and the change feed replays into the same answers."""
    from app.replay import replay

    data = raw(generated_file)
    first, last = data["meetings"][0], data["meetings"][-1]
    first["directives"][0]["addresses"] = [last["shortcomings"][0]["slug"]]
    older, newer = sorted((first, last), key=lambda m: m["date"])
    newer["reviews"] = [{"directive": older["directives"][0]["slug"], "outcome": "Đã hoàn thành."}]
    path = write(tmp_path / "forward.json", data)
    create_schema(empty_engine)
    whole = load_seed(empty_engine, read_seed(path), chunk=10_000)
    with open_seed(path) as stream:
        streamed = load_seed(second_engine, stream, chunk=3)
    assert streamed.created == whole.created

    def answers(engine: Engine) -> dict[str, Any]:
        # A review waiting for its directive is written after the others: another id.
        return {
            key: [{k: v for k, v in r.items() if k != "id"} for r in value]
            if key.endswith("/reviews")
            else value
            for key, value in api_answers(engine).items()
        }

    assert answers(second_engine) == answers(empty_engine)
    with second_engine.connect() as conn:
        feed = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT seq, collection, record_id, record_slug, action, actor, at, data"
                    " FROM change ORDER BY seq"
                )
            )
        ]
    # The directive whose link came at the end of the file has an update entry with it.
    linked = [e for e in feed if e["collection"] == "directives" and e["action"] == "update"]
    assert len(linked) == 1
    data_of = linked[0]["data"] if isinstance(linked[0]["data"], dict) else json.loads(linked[0]["data"])
    assert data_of["slug"] == first["directives"][0]["slug"]
    assert data_of["addresses"]
    replica_settings = make_settings(tmp_path / "replica")
    (tmp_path / "replica").mkdir(exist_ok=True)
    replica = create_db_engine(replica_settings)
    try:
        create_schema(replica)
        for e in feed:
            if not isinstance(e["data"], (dict, type(None))):
                e["data"] = json.loads(e["data"])
            e["at"] = e["at"] if isinstance(e["at"], str) else e["at"].isoformat()
        replay(replica, iter(feed))
        assert api_answers(replica) == api_answers(second_engine)
    finally:
        replica.dispose()
        drop_settings_schema(replica_settings)


def test_read_seed_stream_meetings_first(generated_file: Path, tmp_path: Path) -> None:
    """Meetings before people and documents: read in two passes, the same records."""
    data = raw(generated_file)
    reordered = {"meetings": data["meetings"], "documents": data["documents"], "people": data["people"]}
    path = write(tmp_path / "reordered.json", reordered)
    with open_seed(path) as stream:
        records = list(stream.records())
        stream.finish()
    whole = read_seed(generated_file)
    # people and documents first (in the file's order of the two), then the meetings
    assert records == [
        *(("documents", d) for d in whole.documents),
        *(("people", p) for p in whole.people),
        *(("meetings", m) for m in whole.meetings),
    ]


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(extra=[1]), "extra: Extra inputs are not permitted"),
        (lambda d: d.update(schema_version=2), "schema_version: Input should be less than or equal to 1"),
        (lambda d: d.update(people={}), "people: Input should be a valid list"),
        (
            lambda d: d["people"][3].update(full_name=" X"),
            "people[3].full_name: Value error, text must not start or end with white space",
        ),
    ],
    ids=["extra_key_after_meetings", "schema_version", "people_not_a_list", "bad_person"],
)
def test_read_seed_stream_top_level_problems(
    generated_file: Path, tmp_path: Path, edit: Any, problem: str
) -> None:
    data = copy.deepcopy(raw(generated_file))
    edit(data)
    path = write(tmp_path / "bad.json", data)
    with pytest.raises(SeedError) as whole:
        read_seed(path)
    assert problem in whole.value.problems
    with pytest.raises(SeedError) as caught:
        read_through(path)
    assert problem in caught.value.problems


def test_read_seed_stream_truncated_file(generated_file: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes(generated_file.read_bytes()[:-2000])
    with pytest.raises(SeedError) as caught:
        read_through(cut)
    assert caught.value.problems[0].startswith("$: not valid JSON (")


# --- memory -------------------------------------------------------------------------------------

MEMORY_MEETINGS = 600
MEMORY_CHUNK = 50
MEMORY_BOUND = 20_000_000  # bytes (tracemalloc peak); the whole file as models is several times more


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    with path.open("w", encoding="utf-8") as out:
        write_seed(out, MEMORY_MEETINGS, 11)
    return path


def traced_peak(run: Any) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_read_seed_whole_file_exceeds_the_bound(big_file: Path) -> None:
    """The bound below is a real one: holding the file (read_seed) goes far past it."""
    assert traced_peak(lambda: read_seed(big_file)) > 2 * MEMORY_BOUND


def test_load_seed_streamed_memory_is_bounded(empty_engine: Engine, big_file: Path) -> None:
    """What a streamed load holds at most: a chunk of meetings and the slugs, not the file.

    (A small chunk keeps the test quick under tracemalloc; the default chunk of 200 peaks near
    16 MB whatever the file's size.)
    """
    create_schema(empty_engine)

    def load() -> None:
        with open_seed(big_file) as stream:
            report = load_seed(empty_engine, stream, chunk=MEMORY_CHUNK)
        assert report.created["meetings"] == MEMORY_MEETINGS

    assert traced_peak(load) < MEMORY_BOUND
    with empty_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text("meeting"))).scalar_one() == MEMORY_MEETINGS


def test_load_seed_streamed_dry_run_writes_nothing(empty_engine: Engine, generated_file: Path) -> None:
    create_schema(empty_engine)
    before = row_counts(empty_engine)
    with open_seed(generated_file) as stream:
        report = load_seed(empty_engine, stream, dry_run=True, chunk=6)
    whole = read_seed(generated_file)
    assert report.dry_run
    assert report.created["meetings"] == GENERATED
    assert report.created["people"] == len(whole.people)
    assert report.created["directives"] == sum(len(m.directives) for m in whole.meetings)
    assert row_counts(empty_engine) == before


# --- the fast reader and its fall-back to ijson -------------------------------------------------


def streamed(path: Path) -> list[tuple[str, Any]]:
    with open_seed(path) as stream:
        records = list(stream.records())
        stream.finish()
    return records


def whole_records(path: Path) -> list[tuple[str, Any]]:
    whole = read_seed(path)
    return [
        *(("people", p) for p in whole.people),
        *(("documents", d) for d in whole.documents),
        *(("meetings", m) for m in whole.meetings),
    ]


@pytest.mark.parametrize("indent", [None, 2], ids=["one_line", "indented"])
def test_read_seed_stream_fast_reader_reads_what_read_seed_reads(
    generated_file: Path, tmp_path: Path, indent: int | None
) -> None:
    path = tmp_path / "laid_out.json"
    path.write_text(json.dumps(raw(generated_file), ensure_ascii=indent is None, indent=indent), "utf-8")
    assert streamed(path) == whole_records(generated_file)
    assert streamed(generated_file) == whole_records(generated_file)


@pytest.mark.parametrize(
    "tail",
    [b" x", b"}", b",{}"],
    ids=["garbage_after_the_object", "second_close", "second_value"],
)
def test_read_seed_stream_trailing_text_is_ijsons_error(
    generated_file: Path, tmp_path: Path, tail: bytes
) -> None:
    """The fast reader leaves what follows the object to ijson, which names the problem."""
    path = tmp_path / "tail.json"
    path.write_bytes(generated_file.read_bytes().rstrip() + tail)
    with pytest.raises(SeedError) as caught:
        read_through(path)
    assert caught.value.problems[0].startswith("$: not valid JSON (")


def test_read_seed_stream_fall_back_after_records_read(
    generated_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A late problem that the fast reader leaves to ijson (here NaN, which the stdlib decoder
    would take): ijson reads on past the records read already, none twice."""
    monkeypatch.setattr(seed_schema, "_READ", 4096)  # read in small steps: the hand-over comes late
    data = raw(generated_file)
    text = json.dumps(data, ensure_ascii=False)
    late = tmp_path / "late.json"
    # an extra key holding NaN after the meetings: not JSON
    late.write_text(text[:-1] + ', "extra": NaN}', "utf-8")
    with pytest.raises(SeedError) as caught:
        read_through(late)
    assert caught.value.problems[0].startswith("$: not valid JSON (")
    # a surrogate pair escaped (\ud83d\ude00): the fast reader leaves it to ijson, same records
    data["meetings"][-1]["summary"] += " 😀"
    escaped = tmp_path / "escaped.json"
    escaped.write_text(json.dumps(data, ensure_ascii=True), "utf-8")
    assert "\\ud83d" in escaped.read_text("utf-8")
    records = streamed(escaped)
    assert [k for k, _ in records] == [k for k, _ in whole_records(generated_file)]
    assert records[-1][1].summary.endswith("😀")
    assert records[:-1] == whole_records(generated_file)[:-1]


def test_read_seed_stream_problems_once_after_a_fall_back(
    generated_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Problems the fast reader found before handing over are not reported twice."""
    monkeypatch.setattr(seed_schema, "_READ", 4096)  # read in small steps: the hand-over comes late
    data = raw(generated_file)
    data["people"][3]["full_name"] = " X"
    data["meetings"][2]["title"] = " Y"
    data["meetings"][-1]["summary"] += " 😀"  # escaped below: the fast reader hands over there
    found = []
    for ascii_only in (True, False):  # handed over to ijson; read by the fast reader alone
        path = tmp_path / f"bad-{ascii_only}.json"
        path.write_text(json.dumps({**data, "extra": 1}, ensure_ascii=ascii_only), "utf-8")
        with pytest.raises(SeedError) as caught:
            read_through(path)
        found.append(caught.value.problems)
    assert found[0] == found[1]
    assert len(found[0]) == len(set(found[0]))
    assert "people[3].full_name: Value error, text must not start or end with white space" in found[0]
    assert "extra: Extra inputs are not permitted" in found[0]
