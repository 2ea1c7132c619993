"""The loader's bulk path (app.seeding._Bulk: records new to the database written as plain rows,
a chunk at a time) writes exactly what its record-by-record path (_Merge) writes.

Each case loads the same files into two empty databases of the back end under test, one with
app.seeding.BULK off, and compares every table row by row (the change feed's JSON as text, the
search rows and, on SQLite, the full-text index), the load's own timestamps set aside.
"""

from __future__ import annotations

import copy
import gc
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect, text

from app import background, seeding
from app.db import create_db_engine
from app.generate import write_seed
from app.seed_schema import SeedError, open_seed, read_seed
from app.seeding import create_schema, load_seed
from tests.conftest import BACKEND, drop_settings_schema, make_settings

# A UTC time written by the load (created_at, updated_at, the feed's `at`, in the feed's JSON too).
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\+00:00|Z)")


def dump(engine: Engine) -> list[str]:
    """Every row of every table, in key order, as text, with the load's times replaced."""
    out: list[str] = []
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version" or table.startswith("search_fts"):
                continue
            cols = [c["name"] for c in inspector.get_columns(table) if c["name"] != "folded_tsv"]
            order = "seq" if table == "change" else ("id" if "id" in cols else ", ".join(cols))
            for row in conn.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}")):
                out.append(table + "|" + _STAMP.sub("<now>", "|".join(map(str, row))))
        if engine.dialect.name == "sqlite":
            for row in conn.execute(text("SELECT rowid, folded FROM search_fts ORDER BY rowid")):
                out.append(f"search_fts|{row[0]}|{row[1]}")
            match = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :q ORDER BY rowid")
            for query in ("nghi*", "ubnd", "tinh uy", "chu tich", "so noi vu"):
                hits = conn.execute(match, {"q": query})
                out.append(f"search_fts MATCH {query}|{[r[0] for r in hits]}")
    return out


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty databases (schema only) of the back end under test."""
    made = []
    for name in ("by_record", "bulk"):
        (tmp_path / name).mkdir()
        settings = make_settings(tmp_path / name)
        engine = create_db_engine(settings)
        create_schema(engine)
        made.append((settings, engine))
    yield made[0][1], made[1][1]
    for settings, engine in made:
        engine.dispose()
        drop_settings_schema(settings)


def generated(tmp_path: Path, name: str, meetings: int, seed: int) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as out:
        write_seed(out, meetings, seed)
    return path


def unknown_person(tmp_path: Path, meetings: int = 20, seed: int = 13) -> Path:
    """A generated file whose last meeting names a person the file does not have: its load
    fails at the end, after writing every chunk before."""
    data: dict[str, Any] = json.loads(generated(tmp_path, "g.json", meetings, seed).read_bytes())
    data["meetings"][-1]["participants"][0]["person"] = "nobody-at-all"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def load_both(
    engines: tuple[Engine, Engine], files: list[Path], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> list[list[str]]:
    """Load `files` in turn into each database (streamed), record by record, then in bulk."""
    reports = []
    for engine, bulk in zip(engines, (False, True), strict=True):
        monkeypatch.setattr(seeding, "BULK", bulk)
        for path in files:
            with open_seed(path) as stream:
                report = load_seed(engine, stream, chunk=chunk)
            reports.append((report.created, report.updated, report.unchanged))
    half = len(reports) // 2
    assert reports[:half] == reports[half:]
    return [dump(engine) for engine in engines]


def test_bulk_load_into_an_empty_database_writes_what_the_record_path_writes(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated file (links to shortcomings and reviews of other chunks, forward and back)
    in small chunks: the same rows, ids, search rows, change entries (updates included)."""
    data: dict[str, Any] = json.loads(generated(tmp_path, "g.json", 60, 5).read_bytes())
    # links to a later chunk: a directive of the first meeting answers a shortcoming of the last
    later = next(m for m in reversed(data["meetings"]) if m["shortcomings"])
    first = next(m for m in data["meetings"] if m["directives"])
    first["directives"][0]["addresses"].append(later["shortcomings"][0]["slug"])
    # and back: a directive of the last meeting answers a shortcoming of the first chunk
    earlier = next(m for m in data["meetings"] if m["shortcomings"])
    last = next(m for m in reversed(data["meetings"]) if m["directives"])
    last["directives"][0]["addresses"].append(earlier["shortcomings"][0]["slug"])
    path = tmp_path / "linked.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    by_record, bulk = load_both(engines, [path], monkeypatch, chunk=7)
    assert any(line.startswith("change|") and "|update|" in line for line in bulk)  # links across chunks
    assert len(bulk) > 3000
    assert bulk == by_record


def test_bulk_load_over_records_the_database_has(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second file with the first's meetings (some changed) and new ones after them: chunks of
    records the database has are merged as before, new chunks written in bulk, the same result."""
    first = generated(tmp_path, "first.json", 30, 8)
    data: dict[str, Any] = json.loads(first.read_bytes())
    more = read_seed(generated(tmp_path, "more.json", 50, 9))
    second = copy.deepcopy(data)
    second["meetings"][1]["title"] += " (sửa)"
    second["meetings"][4]["directives"][0]["text"] += " ngay"
    # people, documents and meetings of another file, with other slugs: new to the database
    people = [
        p.model_dump(mode="json") for p in more.people if p.slug not in {x["slug"] for x in data["people"]}
    ]
    documents = [
        d.model_dump(mode="json")
        for d in more.documents
        if d.slug not in {x["slug"] for x in data["documents"]}
    ]
    slugs = {m["slug"] for m in data["meetings"]}
    meetings = [m.model_dump(mode="json") for m in more.meetings if m.slug not in slugs]
    second["people"] += people
    second["documents"] += documents
    second["meetings"] += meetings[:20]
    path = tmp_path / "second.json"
    path.write_text(json.dumps(second, ensure_ascii=False), "utf-8")
    try:
        read_seed(path)
    except Exception as exc:  # the other file's meetings may name its own people only
        pytest.skip(f"the combined file is not valid: {exc}")
    by_record, bulk = load_both(engines, [first, path], monkeypatch, chunk=6)
    assert any(line.startswith("change|") and "|update|" in line for line in bulk)
    assert bulk == by_record


@pytest.mark.skipif(BACKEND != "postgresql", reason="VACUUM and the planner's statistics are PostgreSQL's")
def test_bulk_load_vacuums_and_analyzes_the_filled_tables(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a load that made many records: statistics for the planner, and the visibility map
    an index-only scan needs (a list's total counted from its index)."""
    engine = engines[0]
    monkeypatch.setattr(seeding, "ANALYZE_AFTER", 100)
    with open_seed(generated(tmp_path, "g.json", 30, 3)) as stream:
        load_seed(engine, stream)
    query = text(
        "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema() AND relname = 'directive'"
    )
    with engine.connect() as conn:
        assert conn.execute(query).scalar_one() is True


@pytest.mark.skipif(BACKEND != "postgresql", reason="the planner's statistics are PostgreSQL's")
def test_bulk_load_analyzes_as_the_tables_fill(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During a long load, inside its transaction: statistics of the rows loaded so far each
    time they double, so that the load's own look-ups are not planned for empty tables."""
    engine = engines[0]
    monkeypatch.setattr(seeding, "ANALYZE_AFTER", 100)
    seen: list[tuple[int, float]] = []  # (directives loaded, what the planner believes)
    analyze = seeding._analyze

    def spy(conn: Any) -> None:
        analyze(conn)
        loaded = conn.exec_driver_sql("SELECT count(*) FROM directive").scalar_one()
        believed = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass('directive')"
        ).scalar_one()
        seen.append((loaded, believed))

    monkeypatch.setattr(seeding, "_analyze", spy)
    with open_seed(generated(tmp_path, "g.json", 40, 3)) as stream:
        load_seed(engine, stream, chunk=2)
    assert all(believed == loaded for loaded, believed in seen)
    counts = [loaded for loaded, _ in seen if loaded]  # the first may come before any meeting
    assert len(counts) >= 3
    assert all(later >= 1.5 * earlier for earlier, later in itertools.pairwise(counts))


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's: that its load runs none of PostgreSQL's ANALYZEs")
def test_bulk_load_sqlite_does_not_analyze_during_the_load(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeding, "ANALYZE_AFTER", 100)
    calls: list[Any] = []
    monkeypatch.setattr(seeding, "_analyze", calls.append)
    with open_seed(generated(tmp_path, "g.json", 40, 3)) as stream:
        load_seed(engines[0], stream, chunk=2)
    assert calls == []


sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's: FTS5, journal modes")


def fts_commands(engine: Engine) -> list[str]:
    """The FTS5 commands run on `engine` from now on (option and value, or the command)."""
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = re.match(r"INSERT INTO search_fts\(search_fts(?:, rank)?\) VALUES \((.*)\)$", statement)
        if found:
            seen.append(found.group(1))

    event.listen(engine, "before_cursor_execute", spy)
    return seen


def fts_merges(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
        rows = conn.exec_driver_sql(
            "SELECT k, v FROM search_fts_config WHERE k LIKE '%merge' OR k = 'hashsize'"
        )
        return {k: v for k, v in rows}


@sqlite_only
def test_bulk_load_into_an_empty_sqlite_database_merges_the_index_once_at_its_end(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    """FTS5 merges no segments while the load writes them (and writes larger ones), and all of
    them into one at its end; its defaults are set again for the writes that follow. A load
    into a database that has records leaves them as they are."""
    engine = engines[0]
    commands = fts_commands(engine)
    with open_seed(generated(tmp_path, "g.json", 30, 4)) as stream:
        load_seed(engine, stream, chunk=7)
    assert commands == [
        "'automerge', 0",
        "'crisismerge', 512",
        "'hashsize', 16777216",
        "'optimize'",
        "'automerge', 4",
        "'crisismerge', 16",
        "'hashsize', 1048576",
    ]
    assert fts_merges(engine) == {"automerge": 4, "crisismerge": 16, "hashsize": 1048576}
    commands.clear()
    with open_seed(generated(tmp_path, "more.json", 5, 6)) as stream:
        load_seed(engine, stream)
    assert commands == []
    with engine.connect() as conn:
        hits = conn.exec_driver_sql("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'chi thi'")
        assert hits.scalar_one() > 0


@sqlite_only
def test_bulk_load_into_an_empty_sqlite_database_that_fails_leaves_the_index_s_merges_as_they_were(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    path = unknown_person(tmp_path)
    engine = engines[0]
    commands = fts_commands(engine)
    with open_seed(path) as stream, pytest.raises(SeedError, match="nobody-at-all"):
        load_seed(engine, stream, chunk=5)
    assert commands == ["'automerge', 0", "'crisismerge', 512", "'hashsize', 16777216"]
    assert fts_merges(engine) == {}  # FTS5's defaults: nothing set


# --- a large load into an empty SQLite file: the rollback journal instead of WAL ------------------


def journal_mode(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()).lower()


@pytest.fixture
def journal_modes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The journal modes the loader sets, in order (every load counts as large)."""
    monkeypatch.setattr(seeding, "ROLLBACK_JOURNAL_MIN_BYTES", 0)
    modes: list[str] = []
    journal = seeding._journal

    def spy(conn: Any, mode: str | None = None) -> str:
        result = journal(conn, mode)
        if mode is not None:
            modes.append(f"{mode.lower()}->{result}")
        return result

    monkeypatch.setattr(seeding, "_journal", spy)
    return modes


@sqlite_only
def test_large_load_into_an_empty_sqlite_file_goes_through_the_rollback_journal(
    engines: tuple[Engine, Engine], tmp_path: Path, journal_modes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rows as a load through WAL, and the file is in WAL mode again after it."""
    path = generated(tmp_path, "g.json", 40, 11)
    wal, switched = engines
    with open_seed(path) as stream:
        load_seed(switched, stream, chunk=9, bulk_journal=True)
    assert journal_modes == ["delete->delete", "wal->wal"]
    assert journal_mode(switched) == "wal"
    monkeypatch.setattr(seeding, "ROLLBACK_JOURNAL_MIN_BYTES", 1 << 60)
    with open_seed(path) as stream:
        load_seed(wal, stream, chunk=9, bulk_journal=True)
    assert journal_modes == ["delete->delete", "wal->wal"]  # no switch for a small file
    assert dump(switched) == dump(wal)


@sqlite_only
def test_large_load_keeps_wal_when_another_connection_has_the_file_open(
    engines: tuple[Engine, Engine], tmp_path: Path, journal_modes: list[str]
) -> None:
    """Another process reading the database: the load neither waits for it nor locks it out."""
    engine = engines[0]
    other = create_db_engine(make_settings(tmp_path / "by_record"))
    try:
        with other.connect() as reader:
            assert reader.exec_driver_sql("SELECT count(*) FROM meeting").scalar_one() == 0
            reader.rollback()  # the read ends; the connection keeps the file open
            with open_seed(generated(tmp_path, "g.json", 10, 12)) as stream:
                report = load_seed(engine, stream, bulk_journal=True)
            assert report.created["meetings"] == 10
            assert journal_modes == []  # the switch was refused: nothing to switch back
            assert reader.exec_driver_sql("SELECT count(*) FROM meeting").scalar_one() == 10
    finally:
        other.dispose()
    assert journal_mode(engine) == "wal"


@sqlite_only
def test_large_load_that_fails_leaves_the_file_empty_and_in_wal_mode(
    engines: tuple[Engine, Engine], tmp_path: Path, journal_modes: list[str]
) -> None:
    path = unknown_person(tmp_path)
    engine = engines[0]
    with open_seed(path) as stream, pytest.raises(SeedError, match="nobody-at-all"):
        load_seed(engine, stream, chunk=5, bulk_journal=True)
    assert journal_modes == ["delete->delete", "wal->wal"]
    assert journal_mode(engine) == "wal"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM meeting").scalar_one() == 0


@sqlite_only
def test_large_load_at_a_server_s_start_keeps_wal(
    engines: tuple[Engine, Engine], tmp_path: Path, journal_modes: list[str]
) -> None:
    """Without bulk_journal (how app.startup loads the seed file), readers are never locked out."""
    engine = engines[0]
    with open_seed(generated(tmp_path, "g.json", 10, 14)) as stream:
        load_seed(engine, stream)
    assert journal_modes == []
    assert journal_mode(engine) == "wal"


@sqlite_only
def test_seed_load_command_uses_the_rollback_journal_for_a_large_file(
    engines: tuple[Engine, Engine], tmp_path: Path, journal_modes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.__main__ import main
    from app.config import get_settings

    engine = engines[0]
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    engine.dispose()
    get_settings.cache_clear()
    try:
        assert main(["seed", "load", str(generated(tmp_path, "g.json", 10, 15))]) == 0
    finally:
        get_settings.cache_clear()
    assert journal_modes == ["delete->delete", "wal->wal"]
    assert journal_mode(engine) == "wal"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM meeting").scalar_one() == 10


def test_load_collects_garbage_less_often_while_it_runs(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    """The collector's first threshold is LOAD_GC_THRESHOLD during a load, and is what it was
    after it, whether the load succeeded or failed."""
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    with open_seed(generated(tmp_path, "g.json", 6, 21)) as stream:
        load_seed(engines[0], stream, chunk=2, progress=lambda _: during.append(gc.get_threshold()))
    assert during
    assert set(during) == {(seeding.LOAD_GC_THRESHOLD, *before[1:])}
    assert gc.get_threshold() == before
    with open_seed(unknown_person(tmp_path, 6, 21)) as stream, pytest.raises(SeedError):
        load_seed(engines[1], stream, chunk=2)
    assert gc.get_threshold() == before


def test_bulk_load_into_an_empty_database_resolves_earlier_chunks_slugs_without_asking_it(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    """Reviews and addresses naming records of earlier chunks: a load into an empty database
    knows their ids, and that its meetings have no reviews but its own (a look-up would wait
    for the writes in the background); a load into one that has records looks them up."""
    engine = engines[0]
    lookups: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        slugs = re.search(r"FROM (directive|shortcoming)\s+WHERE \1\.slug IN", statement)
        reviews = re.search(r"WHERE directive_review\.meeting_id IN", statement)
        if slugs or reviews:
            lookups.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    with open_seed(generated(tmp_path, "g.json", 60, 5)) as stream:
        report = load_seed(engine, stream, chunk=7)
    assert report.created["reviews"] > 0
    assert report.created["addresses"] > 0
    assert lookups == []
    with open_seed(generated(tmp_path, "more.json", 30, 8)) as stream:
        load_seed(engine, stream, chunk=7)
    assert any("slug IN" in statement for statement in lookups)
    assert any("directive_review.meeting_id IN" in statement for statement in lookups)


def test_bulk_load_into_an_empty_database_runs_no_statement_of_its_own_per_chunk(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    """In a load into an empty database, every chunk's rows, links, search rows and change
    entries go to the background writes (app.background), and nothing is read back: any
    statement the loader ran on the load's connection would wait for all of them. So the
    loader runs as many of its own in 20 chunks as in 4 (ANALYZE aside: it follows the count
    of records; PostgreSQL's ids come from the sequences on a connection of their own)."""
    path = generated(tmp_path, "g.json", 40, 5)
    own: list[list[str]] = []
    for engine, chunk in zip(engines, (2, 10), strict=True):
        statements: list[str] = []

        def spy(conn: Any, cursor: Any, statement: str, *args: Any, seen: list[str] = statements) -> None:
            if background.of(conn) is not None and not statement.startswith("ANALYZE"):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", spy)
        with open_seed(path) as stream:
            report = load_seed(engine, stream, chunk=chunk)
        event.remove(engine, "before_cursor_execute", spy)
        assert report.created["addresses"] > 0
        assert report.created["reviews"] > 0
        own.append(statements)
    assert len(own[0]) == len(own[1])


postgresql_only = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's triggers")


def dangling_people(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault of the bulk writer's own: the people's ids it hands on are not the ones written."""
    people = seeding._Bulk.people

    def wrong(self: Any, batch: Any) -> dict[str, int]:
        return {slug: id_ + 1_000_000 for slug, id_ in people(self, batch).items()}

    monkeypatch.setattr(seeding._Bulk, "people", wrong)


def test_bulk_load_into_an_empty_database_that_writes_a_reference_to_nothing_keeps_nothing(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite checks each row's foreign keys; PostgreSQL, its per-row triggers off for such a
    load, checks every table once at its end (_check_references): either way the load fails."""
    dangling_people(monkeypatch)
    fault = "FOREIGN KEY constraint failed" if BACKEND == "sqlite" else r"participant\(person_id\) = \(1000"
    with open_seed(generated(tmp_path, "g.json", 6, 4)) as stream, pytest.raises(Exception, match=fault):
        load_seed(engines[0], stream, chunk=2)
    with engines[0].connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM person").scalar_one() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM participant").scalar_one() == 0


@postgresql_only
def test_bulk_load_into_an_empty_postgresql_database_turns_the_row_triggers_off_for_its_transaction(
    engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    engine = engines[0]
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    with open_seed(generated(tmp_path, "g.json", 6, 4)) as stream:
        load_seed(engine, stream, chunk=2)
    event.remove(engine, "before_cursor_execute", spy)
    assert seeding.REPLICA_ROLE in seen
    with engine.connect() as conn:  # the setting ended with the load's transaction
        assert conn.exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"


@postgresql_only
def test_bulk_load_keeps_the_row_triggers_when_the_schema_has_its_own(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trigger someone added fires for a load into an empty database too (so does a rule)."""
    for engine, added in zip(engines, ("trigger", "rule"), strict=True):
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE seen (id int)")
            if added == "trigger":
                conn.exec_driver_sql(
                    "CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "INSERT INTO seen VALUES (NEW.id); RETURN NEW; END $$"
                )
                conn.exec_driver_sql(
                    "CREATE TRIGGER note AFTER INSERT ON meeting FOR EACH ROW EXECUTE FUNCTION note()"
                )
            else:
                # (COPY, which writes the tables' rows, fires no rule: the change feed's INSERT does)
                conn.exec_driver_sql(
                    "CREATE RULE note AS ON INSERT TO change WHERE NEW.collection = 'meetings' "
                    "DO ALSO INSERT INTO seen VALUES (NEW.record_id)"
                )
        checked: list[Any] = []
        monkeypatch.setattr(seeding, "_check_references", checked.append)
        with open_seed(generated(tmp_path, "g.json", 6, 4)) as stream:
            load_seed(engine, stream, chunk=2)
        assert checked == []
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM seen").scalar_one() == 6


@postgresql_only
def test_bulk_load_goes_on_with_the_row_triggers_when_it_may_not_turn_them_off(
    engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role without the right to set session_replication_role (here: a value it refuses): the
    load runs with the triggers, in the same transaction, and has no tables to check after."""
    monkeypatch.setattr(seeding, "REPLICA_ROLE", "SET LOCAL session_replication_role = nobody")
    checked: list[Any] = []
    monkeypatch.setattr(seeding, "_check_references", checked.append)
    with open_seed(generated(tmp_path, "g.json", 6, 4)) as stream:
        report = load_seed(engines[0], stream, chunk=2)
    assert report.created["meetings"] == 6
    assert checked == []
    dangling_people(monkeypatch)
    with (
        open_seed(generated(tmp_path, "g.json", 6, 4)) as stream,
        pytest.raises(Exception, match="foreign key"),
    ):
        load_seed(engines[1], stream, chunk=2)
