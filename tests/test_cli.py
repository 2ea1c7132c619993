"""The command line (python -m app seed ...) and the server's start-up, as processes.

Each test runs the real entry point with DATABASE_URL on a SQLite file of its
own, whatever TEST_BACKEND says: what is tested here is the process boundary
(exit codes, stdout/stderr, files touched), not the back end. So they run in
the SQLite run of `make test` only: the PostgreSQL run would repeat the same
tests on the same SQLite files (26 s of it), and skips them, saying why.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, table

from app.config import ROOT, Settings
from app.db import create_db_engine
from app.seed_schema import read_seed
from app.startup import prepare_database
from tests.conftest import SEED_FILE, SQLITE_ONLY

pytestmark = SQLITE_ONLY

RAW_SEED: dict[str, Any] = json.loads(SEED_FILE.read_bytes())
SEED_ARG = "data/seed.json"  # relative to ROOT, the working directory of every run
TABLES = ("person", "document", "meeting", "participant", "directive", "shortcoming", "finding")


def run_app(db: Path, *args: str, seed_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=app_env(db, seed_file),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def app_env(db: Path, seed_file: Path | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_SCHEMA", "SEED_FILE", "LOAD_SEED_ON_START"}
    }
    env["DATABASE_URL"] = f"sqlite:///{db}"
    if seed_file is not None:
        env["SEED_FILE"] = str(seed_file)
    return env


def sqlite_settings(db: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{db}", database_schema=None, seed_file=SEED_FILE)


def row_counts(db: Path) -> dict[str, int]:
    """Rows of the record tables; {} when the database has no schema."""
    engine = create_db_engine(sqlite_settings(db))
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return {
                name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in TABLES
                if name in present
            }
    finally:
        engine.dispose()


def problem_lines(stderr: str, file: Path) -> list[str]:
    """The 'FILE: path: message' lines of stderr (log lines of the run left out)."""
    return [line for line in stderr.splitlines() if line.startswith(f"{file}: ")]


def bad_seed(tmp_path: Path) -> Path:
    data = copy.deepcopy(RAW_SEED)
    data["meetings"][0]["directives"][0]["issued_by"] = "x"
    data["meetings"][0]["documents"][1]["document"] = "nq-99-khong-co"
    path = tmp_path / "bad-seed.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


BAD_LINES = [
    "meetings[0].directives[0].issued_by: unknown participant 'x'",
    "meetings[0].documents[1].document: unknown document 'nq-99-khong-co'",
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A SQLite file not yet created, alone in its directory."""
    (tmp_path / "db").mkdir()
    return tmp_path / "db" / "cli.db"


class TestSeedCheck:
    def test_check_seed(self, db: Path) -> None:
        r = run_app(db, "seed", "check", SEED_ARG)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == (
            f"{SEED_ARG}: valid: 5 people, 5 documents, 1 meetings, 10 directives, 5 shortcomings"
        )
        assert list(db.parent.iterdir()) == []  # no database file, journal or WAL

    def test_check_seed_bad_file(self, db: Path, tmp_path: Path) -> None:
        bad = bad_seed(tmp_path)
        r = run_app(db, "seed", "check", str(bad))
        assert r.returncode == 1
        assert r.stdout == ""
        assert r.stderr.splitlines() == [f"{bad}: {line}" for line in BAD_LINES]
        assert list(db.parent.iterdir()) == []

    def test_check_seed_missing_file(self, db: Path, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere.json"
        r = run_app(db, "seed", "check", str(missing))
        assert r.returncode == 1
        assert r.stderr.startswith(f"{missing}: $: cannot read file")
        assert "Traceback" not in r.stderr

    def test_read_seed_schema(self, db: Path) -> None:
        r = run_app(db, "seed", "schema")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == json.loads((ROOT / "data" / "seed.schema.json").read_text("utf-8"))


class TestSeedLoad:
    def test_load_seed_twice(self, db: Path) -> None:
        first = run_app(db, "seed", "load", SEED_ARG)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == (
            f"{SEED_ARG}: created 5 people, 5 documents, 1 meetings, 5 participants, "
            "10 directives, 4 assignees, 5 shortcomings, 4 findings, 5 citations, 4 addresses"
        )
        loaded = row_counts(db)
        assert loaded == {
            "person": 5,
            "document": 5,
            "meeting": 1,
            "participant": 5,
            "directive": 10,
            "shortcoming": 5,
            "finding": 4,
        }
        second = run_app(db, "seed", "load", SEED_ARG)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == f"{SEED_ARG}: created nothing new; 1 meeting(s) already present"
        assert row_counts(db) == loaded

    def test_load_seed_bad_file(self, db: Path, tmp_path: Path) -> None:
        bad = bad_seed(tmp_path)
        r = run_app(db, "seed", "load", str(bad))
        assert r.returncode == 1
        assert problem_lines(r.stderr, bad) == [f"{bad}: {line}" for line in BAD_LINES]
        assert "Traceback" not in r.stderr
        # Streamed: validated while loading, in the load's transaction, rolled back.
        assert set(row_counts(db).values()) == {0}

    def test_load_seed_slug_clash(self, db: Path, tmp_path: Path) -> None:
        """A second meeting reusing a finding slug of the first: refused by path, nothing kept."""
        engine = create_db_engine(sqlite_settings(db))
        prepare_database(engine, sqlite_settings(db))
        engine.dispose()
        loaded = row_counts(db)
        assert loaded["meeting"] == 1
        data = copy.deepcopy(RAW_SEED)
        data["meetings"][0]["slug"] = "ben-tre-2018-03-21-khac"
        for kind in ("participants", "directives", "shortcomings"):
            for item in data["meetings"][0][kind]:
                item["slug"] += "-khac"
        for d in data["meetings"][0]["directives"]:
            d["issued_by"] += "-khac"
            d["addresses"] = [s + "-khac" for s in d.get("addresses", [])]
            for a in d.get("assignees", []):
                a["slug"] += "-khac"
        clash = tmp_path / "clash.json"
        clash.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        read_seed(clash)  # valid on its own: the clash is with the database
        r = run_app(db, "seed", "load", str(clash))
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        expected = [
            f"{clash}: meetings[0].findings[{i}].slug: slug '{f['slug']}' already exists in the database"
            for i, f in enumerate(data["meetings"][0]["findings"])
        ]
        assert problem_lines(r.stderr, clash) == expected
        assert row_counts(db) == loaded


class TestSeedInit:
    def test_init_seed_idempotent(self, db: Path) -> None:
        first = run_app(db, "seed", "init", seed_file=SEED_FILE)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == f"database ready (sqlite:///{db})"
        loaded = row_counts(db)
        assert loaded["meeting"] == 1
        assert loaded["directive"] == 10
        second = run_app(db, "seed", "init", seed_file=SEED_FILE)
        assert second.returncode == 0, second.stderr
        assert row_counts(db) == loaded

    def test_init_seed_bad_file(self, db: Path, tmp_path: Path) -> None:
        bad = bad_seed(tmp_path)
        r = run_app(db, "seed", "init", seed_file=bad)
        assert r.returncode == 1
        assert problem_lines(r.stderr, bad) == [f"{bad}: {line}" for line in BAD_LINES]
        assert "Traceback" not in r.stderr
        assert set(row_counts(db).values()) == {0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestServerStartup:
    def test_start_server_bad_seed_file(self, db: Path, tmp_path: Path) -> None:
        bad = bad_seed(tmp_path)
        cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
        cmd += ["--port", str(free_port())]
        try:
            r = subprocess.run(
                cmd,
                cwd=ROOT,
                env=app_env(db, seed_file=bad),
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:  # the server came up with a bad seed
            pytest.fail(f"the server did not exit within 20 s: {exc.stderr!r}")
        assert r.returncode != 0
        assert problem_lines(r.stderr, bad) == [f"{bad}: {line}" for line in BAD_LINES]
        assert row_counts(db).get("meeting", 0) == 0
