# ruff: noqa: S603, S607  (the bench runs fixed local commands)
"""Benchmarks (not tests): build the data sets, measure with wrk, write bench/RESULTS.md.

    .venv/bin/python -m bench.run [--meetings 10000] [--duration 10s] [--connections 32]

Steps: generate a synthetic seed (python -m app generate), load it into a
SQLite file and into the PostgreSQL schema `bench` (timed; kept under
bench/out/ and reused while the meeting count matches), then for each server
(the constant-bytes ceiling in bench/ceiling.py, the API on SQLite, the API on
PostgreSQL) start one uvicorn process pinned to core 0 and run wrk pinned to
core 1, each figure twice. The app is measured as it is: nothing is tuned.

Also: Datasette (installed with the optional extra `bench`) serving the same
SQLite file, fetching the same meeting with the five requests it needs
(bench/datasette.lua), counted in whole meetings per second; search on a
second, larger data set (--search-meetings, about 1,000,000 directives), whose
load time and peak memory are reported; the resident memory (VmRSS, VmHWM) of
each API server after its runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PY = sys.executable
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = os.environ.get("BENCH_PG_SCHEMA", "bench")
PORT = 8765
INCLUDE = "participants,directives,shortcomings,documents"
SEARCH_WORD = "triển khai"  # in every meeting's summary and in many directives
LIST_FILTER = "status=open"
DEEP_PAGE = 1000
SEED = 42
DATASETTE_REQUESTS = 5  # requests of bench/datasette.lua per whole meeting


def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()  # noqa: S602
    except OSError as exc:
        return f"({exc})"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- set-up -----------------------------------------------------------------


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    log("wrk is missing: apt-get install -y wrk")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk could not be installed")
    return wrk


def ensure_datasette() -> None:
    """Datasette, from the optional extra `bench` (not a dependency of the API)."""
    if importlib.util.find_spec("datasette") is not None:
        return
    log("datasette is missing: pip install -e '.[bench]'")
    subprocess.run([PY, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[bench]"], check=True, cwd=ROOT)


# The first data set keeps the schema name it always had; others get their own.
_MAIN_MEETINGS: list[int] = []


def pg_schema(meetings: int) -> str:
    return PG_SCHEMA if not _MAIN_MEETINGS or meetings == _MAIN_MEETINGS[0] else f"{PG_SCHEMA}_{meetings}"


def sqlite_file(meetings: int) -> Path:
    return OUT / f"sqlite-{meetings}.db"


def db_env(backend: str, meetings: int) -> dict[str, str]:
    # As `make run` and the Dockerfile start the server (MALLOC_ARENA_MAX=2).
    env = {"MALLOC_ARENA_MAX": "2", **os.environ, "LOAD_SEED_ON_START": "false"}
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{sqlite_file(meetings)}"
        env.pop("DATABASE_SCHEMA", None)
    else:
        env["DATABASE_URL"] = PG_URL
        env["DATABASE_SCHEMA"] = pg_schema(meetings)
    return env


def meeting_ids(backend: str, meetings: int) -> tuple[int, int, int]:
    """(count, min id, max id) of the meetings in the data set, or (0, 0, 0)."""
    from sqlalchemy import create_engine, text

    env = db_env(backend, meetings)
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["options"] = f"-csearch_path={pg_schema(meetings)}"
    elif not sqlite_file(meetings).exists():
        return 0, 0, 0
    engine = create_engine(env["DATABASE_URL"], connect_args=connect_args)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("select count(*), min(id), max(id) from meeting")).one()
            return int(row[0]), int(row[1] or 0), int(row[2] or 0)
    except Exception:  # no schema yet
        return 0, 0, 0
    finally:
        engine.dispose()


def warm_store(backend: str, meetings: int) -> str:
    """Read the data set's files into the OS page cache before its servers are measured; what was read.

    The servers of one data set run one after the other, on whatever the runs before them left
    in memory. On the 1,000,000-directive set (9.3 GiB of SQLite file) the meeting route, random
    ids, measured 351 then 534 req/s with the response cache (1-4% hits), then 616-704 without
    it, on the server started after: the first server read from disk what the later one found in
    memory. Each server now starts with the same pages in memory (the machine has room for the
    files: free(1) is in the report); measured so, 1,233-1,284 and 1,419-1,425 req/s.
    PostgreSQL's tables and indexes are read with pg_prewarm (`read` mode: the OS cache, not
    shared_buffers): the extension is made for the warming and dropped after it, unless it was
    there already; where it cannot be made (not a superuser), nothing is read, and the report
    says so.
    """
    if backend == "sqlite":
        total = 0
        for suffix in ("", "-wal"):
            path = Path(f"{sqlite_file(meetings)}{suffix}")
            if path.exists():
                with path.open("rb") as f:
                    while chunk := f.read(64 * 2**20):
                        total += len(chunk)
        return f"{total / 2**30:.1f} GiB of SQLite file read"
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            present = text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_prewarm'")
            had = conn.execute(present).scalar_one()
            try:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            except DBAPIError as exc:
                return f"nothing read into memory (pg_prewarm: {str(exc.orig).splitlines()[0]})"
            try:
                blocks = conn.execute(
                    text(
                        "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0) FROM pg_class AS c "
                        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = :schema AND c.relkind IN ('r', 'i', 't')"
                    ),
                    {"schema": pg_schema(meetings)},
                ).scalar_one()
            finally:
                if not had:
                    conn.execute(text("DROP EXTENSION IF EXISTS pg_prewarm"))
    finally:
        admin.dispose()
    return f"{int(blocks) * 8 / 2**20:.1f} GiB of PostgreSQL tables and indexes read (pg_prewarm)"


# `seed load` streams the file, meeting by meeting: what it keeps grows with the file only by
# the slugs and ids of the records that later meetings may link to (368 MiB at the peak for the
# 2.2 GB file of 166,000 meetings). A load that would not fit in the memory available is skipped
# rather than run into the out-of-memory killer.
LOAD_MEMORY_PER_SEED_BYTE = 0.5


def mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def build(meetings: int, loads: dict[str, Any]) -> Path | None:
    """The data set of `meetings` meetings on both back ends; None if it cannot be loaded here."""
    OUT.mkdir(parents=True, exist_ok=True)
    seed_file = OUT / f"seed-{meetings}.json"
    if not seed_file.exists():
        log(f"generating {meetings} meetings -> {seed_file}")
        t0 = time.monotonic()
        subprocess.run(
            [
                PY,
                "-m",
                "app",
                "generate",
                "--meetings",
                str(meetings),
                "--seed",
                str(SEED),
                "-o",
                str(seed_file),
            ],
            check=True,
            cwd=ROOT,
        )
        loads["generate"] = {"seconds": round(time.monotonic() - t0, 1), "cached": False}
    else:
        loads.setdefault("generate", {"cached": True})
    loads["seed_bytes"] = seed_file.stat().st_size
    for backend in ("sqlite", "postgresql"):
        count, _, _ = meeting_ids(backend, meetings)
        if count == meetings:
            log(f"{backend}: data set present ({count} meetings), reusing it")
            loads.setdefault(backend, {"cached": True})
            continue
        need = loads["seed_bytes"] * LOAD_MEMORY_PER_SEED_BYTE
        if need > mem_available():
            reason = (
                f"not loaded: `seed load` would need about {need / 2**30:.1f} GiB "
                f"({LOAD_MEMORY_PER_SEED_BYTE}x the file) and {mem_available() / 2**30:.1f} GiB are available"
            )
            log(f"{backend}: {seed_file.name} {reason}")
            loads[backend] = {"skipped": reason}
            return None
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file(meetings)}{suffix}").unlink(missing_ok=True)
        else:
            from sqlalchemy import create_engine, text

            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {pg_schema(meetings)} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {pg_schema(meetings)}"))
            admin.dispose()
        log(f"{backend}: loading {seed_file.name} (one transaction)")
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [PY, "-m", "app", "seed", "load", str(seed_file)], cwd=ROOT, env=db_env(backend, meetings)
        )
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            sys.exit(f"{backend}: loading {seed_file.name} failed ({status})")
        seconds = round(time.monotonic() - t0, 1)
        peak_mb = round(usage.ru_maxrss / 1024, 1)  # ru_maxrss is in KiB on Linux
        log(f"{backend}: loaded in {seconds} s, peak memory {peak_mb} MiB")
        loads[backend] = {"seconds": seconds, "peak_mb": peak_mb, "cached": False}
    return seed_file


# -- servers and wrk ---------------------------------------------------------


class Server:
    def __init__(
        self, target: str, env: dict[str, str], cmd: list[str] | None = None, ready: str = "/healthz"
    ) -> None:
        """uvicorn serving `target` (or `cmd`), pinned to core 0; waits until `ready` answers."""
        self.target = target
        cmd = cmd or [
            PY, "-m", "uvicorn", target, "--host", "127.0.0.1",
            "--port", str(PORT), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        # taskset execs the server: the process's pid is the server's (for /proc/PID/status).
        self.proc = subprocess.Popen(["taskset", "-c", "0", *cmd], cwd=ROOT, env=env)
        deadline = time.monotonic() + 300  # the first start migrates a big data set
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server {target} exited with {self.proc.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{PORT}{ready}", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"server {target} did not start")

    def memory_mb(self) -> dict[str, float]:
        """VmRSS (resident now) and VmHWM (peak resident) of the server process, in MiB."""
        found: dict[str, float] = {}
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = round(int(value.split()[0]) / 1024, 1)
        except OSError:
            pass
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    raw: str = field(repr=False)
    alone_ms: float = float("nan")
    cache_hits: float = float("nan")  # share of answers from the API's response cache (Cache-Status)


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]
    return float(m.group(1)) * scale


def wrk(
    args: argparse.Namespace, url: str, script: Path | None = None, env: dict[str, str] | None = None
) -> Run:
    cmd = ["taskset", "-c", "1", args.wrk, "-t1", f"-c{args.connections}", f"-d{args.duration}", "--latency"]
    cmd += ["--timeout", args.timeout]
    # Every run counts the answers that came from the response cache (bench/count.lua).
    cmd += ["-s", str(script or ROOT / "bench" / "count.lua")]
    cmd.append(url)
    env = {**(env or os.environ), "BENCH_LUA_DIR": str(ROOT / "bench")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if re.search(r"Latency\s+0\.00us", out):  # no request completed: no latency to report
        p50 = p99 = float("nan")
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        m = re.search(pattern, out)
        if m:
            errors += sum(int(n) for n in re.findall(r"\d+", m.group(1)))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    run = Run(rps, p50, p99, errors, total, out)
    counted = re.search(r"cache hits: (\d+) of (\d+)", out)
    if counted and int(counted.group(2)):
        run.cache_hits = int(counted.group(1)) / int(counted.group(2))
    return run


def deep_cursor(base: str, pages: int) -> tuple[str | None, int]:
    """Follow next_cursor of the filtered directive list up to `pages` pages."""
    cursor: str | None = None
    depth = 1
    with httpx.Client(base_url=base, timeout=30) as client:
        while depth < pages:
            params = {"limit": "50", **dict(urllib.parse.parse_qsl(LIST_FILTER))}
            if cursor:
                params["cursor"] = cursor
            r = client.get("/api/v1/directives", params=params)
            r.raise_for_status()
            nxt = r.json().get("next_cursor")
            if not nxt:
                break
            cursor = nxt
            depth += 1
    return cursor, depth


def alone_ms(base: str, path: str, n: int = 3) -> float:
    """Median latency of `n` requests sent one at a time (no concurrency), in ms."""
    times = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def sample_size(base: str, lo: int, hi: int) -> int:
    import random

    rng = random.Random(1)  # noqa: S311
    sizes = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(50):
            r = client.get(f"/api/v1/meetings/{rng.randint(lo, hi)}", params={"include": INCLUDE})
            r.raise_for_status()
            sizes.append(len(r.content))
    return int(statistics.median(sizes))


# -- report ------------------------------------------------------------------


def machine() -> dict[str, str]:
    import fastapi
    import sqlalchemy
    import uvicorn

    try:
        import sqlcipher3.dbapi2 as sq

        sqlite_version = str(sq.sqlite_version) + " (sqlcipher3)"
    except ImportError:
        import sqlite3

        sqlite_version = sqlite3.sqlite_version
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # The code measured: the commit, and whether files differed from it.
        "code": (sh(f"git -C {ROOT} rev-parse --short HEAD") or "?")
        + (
            " with uncommitted changes"
            if sh(f"git -C {ROOT} status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md'")
            else ""
        ),
        "nproc": sh("nproc"),
        "lscpu": sh("lscpu | grep -E 'Model name|^CPU\\(s\\)|Thread|MHz|L2|L3|Hypervisor'"),
        "free": sh("free -h"),
        "kernel": platform.platform(),
        "loadavg_before": sh("cat /proc/loadavg"),
        "python": platform.python_version(),
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite_version,
        "postgresql": sh("psql -h 127.0.0.1 -U postgres -d test -Atc 'show server_version'") or "?",
        "wrk": sh("wrk --version 2>&1 | head -1") or "?",
    }


def fmt(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--timeout", default="30s", help="wrk --timeout (slower answers count as errors)")
    parser.add_argument("--runs", type=int, default=2, help="times each figure is measured")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--search-meetings",
        type=int,
        default=166_000,
        help="meetings of the data set that search is measured on (166,000: about 1,000,000 "
        "directives); 0: skip it",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build the data sets (timed, kept under bench/out/) and stop: a later run measures",
    )
    args = parser.parse_args()
    args.wrk = ensure_wrk()
    ensure_datasette()
    _MAIN_MEETINGS.append(args.meetings)
    if (os.cpu_count() or 1) < 2:
        log("warning: fewer than 2 cores: server and wrk will share core 0")
    started = time.monotonic()
    loads: dict[str, Any] = {}
    loads_file = OUT / f"loads-{args.meetings}.json"
    if loads_file.exists():
        previous = json.loads(loads_file.read_text())
        loads.update({k: {**v, "cached": True} if isinstance(v, dict) else v for k, v in previous.items()})
    if build(args.meetings, loads) is None:
        sys.exit(f"the data set of {args.meetings} meetings cannot be loaded here: {loads}")
    loads_file.write_text(json.dumps(loads, indent=2))
    big_loads: dict[str, Any] = {}
    big_ready = False
    if args.search_meetings:
        big_file = OUT / f"loads-{args.search_meetings}.json"
        if big_file.exists():
            previous = json.loads(big_file.read_text())
            big_loads.update(
                {k: {**v, "cached": True} if isinstance(v, dict) else v for k, v in previous.items()}
            )
        big_ready = build(args.search_meetings, big_loads) is not None
        big_file.write_text(json.dumps(big_loads, indent=2))
    if args.build_only:
        log(f"data sets built: {loads} {big_loads}")
        return 0
    facts = machine()
    base = f"http://127.0.0.1:{PORT}"
    results: list[tuple[str, str, str, list[Run]]] = []  # (server, name, url, runs)
    notes: list[str] = []
    memory: list[tuple[str, str, dict[str, float]]] = []  # (server, data set, VmRSS/VmHWM)

    warm = argparse.Namespace(**{**vars(args), "duration": "3s"})

    def measure(
        server: str,
        name: str,
        path: str,
        script: Path | None = None,
        env: dict[str, str] | None = None,
        alone_path: str | None = None,
    ) -> None:
        runs = []
        alone = alone_ms(base, alone_path or path)
        if alone == alone:
            log(f"{server:10} {name:22} one request alone: {alone:.1f} ms")
        for i in range(args.runs):
            run = wrk(args, base + ("/" if script else path), script, env)
            log(
                f"{server:10} {name:22} run {i + 1}: {run.rps:9.1f} req/s  p50 {run.p50_ms:8.2f} ms  "
                f"p99 {run.p99_ms:8.2f} ms  errors {run.errors}  cache hits {run.cache_hits:.0%}"
            )
            run.alone_ms = alone
            runs.append(run)
        results.append((server, name, path, runs))

    # Typical size of the meeting response, measured on SQLite, for the ceiling.
    _, lo, hi = meeting_ids("sqlite", args.meetings)
    srv = Server("app.main:app", db_env("sqlite", args.meetings))
    try:
        body_bytes = sample_size(base, lo, hi)
    finally:
        srv.stop()
    log(f"median meeting response: {body_bytes} bytes")

    srv = Server("bench.ceiling:app", {**os.environ, "BENCH_BODY_BYTES": str(body_bytes)})
    try:
        wrk(warm, base + "/api/v1/meetings/1")  # warm-up
        measure("ceiling", "constant bytes", "/api/v1/meetings/1", alone_path="/api/v1/meetings/1")
    finally:
        srv.stop()

    # Each back end twice: as deployed (the response cache on, app/cache.py), and with the
    # cache off, which measures what every request costs when it is not answered from memory.
    configurations = [
        (backend, label, extra)
        for backend in ("sqlite", "postgresql")
        for label, extra in ((backend, {}), (f"{backend}, no cache", {"RESPONSE_CACHE_BYTES": "0"}))
    ]
    for backend, label, extra in configurations:
        _, lo, hi = meeting_ids(backend, args.meetings)
        srv = Server("app.main:app", {**db_env(backend, args.meetings), **extra})
        try:
            cursors_file = OUT / f"cursors-{args.meetings}.json"
            cached = json.loads(cursors_file.read_text()) if cursors_file.exists() else {}
            if backend in cached:
                cursor, depth = cached[backend]["cursor"], cached[backend]["page"]
                if not extra:  # once per back end
                    notes.append(f"{backend}: deep cursor reused from {cursors_file.name}")
            else:
                t0 = time.monotonic()
                cursor, depth = deep_cursor(base, DEEP_PAGE)
                took = time.monotonic() - t0
                log(f"{backend}: followed {depth - 1} next_cursor links in {took:.1f} s")
                notes.append(
                    f"{backend}: following {depth - 1} `next_cursor` links one at a time took {took:.1f} s "
                    f"({took / max(1, depth - 1) * 1000:.0f} ms a page)"
                )
                cached[backend] = {"cursor": cursor, "page": depth, "seconds": round(took, 1)}
                cursors_file.write_text(json.dumps(cached, indent=2))
            if not extra:
                notes.append(f"{backend}: deep page = page {depth} of `/directives?{LIST_FILTER}&limit=50`")
            q = urllib.parse.quote(SEARCH_WORD)
            lua_env = {**os.environ, "BENCH_MIN_ID": str(lo), "BENCH_MAX_ID": str(hi)}
            # warm-up: the meeting route, for the caches of the database and of Python
            lua = ROOT / "bench" / "meeting.lua"
            wrk(warm, base + "/", lua, lua_env)
            path = f"/api/v1/meetings/{{{lo}..{hi}}}?include={INCLUDE}"
            one = f"/api/v1/meetings/{(lo + hi) // 2}?include={INCLUDE}"
            measure(label, "meeting (include=all)", path, lua, lua_env, alone_path=one)
            measure(label, "list page 1", f"/api/v1/directives?{LIST_FILTER}&limit=50")
            if cursor:
                measure(
                    label,
                    f"list page {depth}",
                    f"/api/v1/directives?{LIST_FILTER}&limit=50&cursor={urllib.parse.quote(cursor)}",
                )
            measure(label, f"search q={SEARCH_WORD}", f"/api/v1/search?q={q}")
            memory.append((label, f"{args.meetings} meetings", srv.memory_mb()))
        finally:
            srv.stop()

    # Datasette on the same SQLite file: the meeting with the five requests it takes.
    _, lo, hi = meeting_ids("sqlite", args.meetings)
    db_file = sqlite_file(args.meetings)
    # Label columns, so that `_labels=on` names the people and documents as the API does.
    labels = {"person": {"label_column": "full_name"}, "document": {"label_column": "title"}}
    metadata = OUT / "datasette-metadata.json"
    metadata.write_text(json.dumps({"databases": {db_file.stem: {"tables": labels}}}))
    srv = Server(
        "datasette",
        dict(os.environ),
        cmd=[
            *(PY, "-m", "datasette", "serve", str(db_file), "--metadata", str(metadata)),
            *("--host", "127.0.0.1", "--port", str(PORT)),
        ],
        ready="/-/versions.json",
    )
    try:
        lua = ROOT / "bench" / "datasette.lua"
        lua_env = {**os.environ, "BENCH_MIN_ID": str(lo), "BENCH_MAX_ID": str(hi), "BENCH_DB": db_file.stem}
        wrk(warm, base + "/", lua, lua_env)
        measure(
            "datasette",
            f"meeting ({DATASETTE_REQUESTS} requests)",
            f"/{db_file.stem}/meeting/{{id}}.json + participant, directive, shortcoming, meeting_document "
            "?meeting_id={id}",
            lua,
            lua_env,
            alone_path=f"/{db_file.stem}/directive.json?meeting_id={(lo + hi) // 2}&_size=max&_labels=on",
        )
    finally:
        srv.stop()

    # Search on about 1,000,000 directives, and the servers' memory on that data set.
    for backend in ("sqlite", "postgresql"):
        if "skipped" in big_loads.get(backend, {}):
            notes.append(f"{args.search_meetings} meetings on {backend}: {big_loads[backend]['skipped']}")
    if big_ready:
        q = urllib.parse.quote(SEARCH_WORD)
        # As above: with the response cache (a repeated query is answered from memory) and
        # without it (what each search costs when the data has just changed).
        for backend, label, extra in configurations:
            label = label.replace(backend, f"{backend} 1M", 1)
            warmed = warm_store(backend, args.search_meetings)
            log(f"{label}: {warmed}")
            if not extra:  # once per back end
                notes.append(f"{backend} 1M: before each of its servers, {warmed}")
            srv = Server("app.main:app", {**db_env(backend, args.search_meetings), **extra})
            try:
                wrk(warm, base + f"/api/v1/search?q={q}")  # warm-up
                measure(label, f"search q={SEARCH_WORD}", f"/api/v1/search?q={q}")
                measure(label, "search q=dang ky", "/api/v1/search?q=dang%20ky")
                # As people type: the last word a prefix of several words (ban, bang, banh...).
                measure(label, "search q=uy ban", "/api/v1/search?q=uy%20ban")
                _, lo, hi = meeting_ids(backend, args.search_meetings)
                lua_env = {**os.environ, "BENCH_MIN_ID": str(lo), "BENCH_MAX_ID": str(hi)}
                lua = ROOT / "bench" / "meeting.lua"
                wrk(warm, base + "/", lua, lua_env)  # warm-up, as on the main data set
                measure(
                    label,
                    "meeting (include=all)",
                    f"/api/v1/meetings/{{{lo}..{hi}}}?include={INCLUDE}",
                    lua,
                    lua_env,
                    alone_path=f"/api/v1/meetings/{(lo + hi) // 2}?include={INCLUDE}",
                )
                memory.append((label, f"{args.search_meetings} meetings", srv.memory_mb()))
            finally:
                srv.stop()

    ceiling = statistics.mean(r.rps for r in results[0][3])
    elapsed = time.monotonic() - started
    facts["loadavg_after"] = sh("cat /proc/loadavg")
    write_report(args, facts, loads, body_bytes, results, ceiling, notes, elapsed, big_loads, memory)
    log(f"done in {elapsed / 60:.1f} min; wrote {args.output}")
    return 0


def _find(results: list[tuple[str, str, str, list[Run]]], server: str, prefix: str) -> list[Run]:
    for s, name, _path, runs in results:
        if s == server and name.startswith(prefix):
            return runs
    return []


def rps(runs: list[Run]) -> float:
    return statistics.mean(r.rps for r in runs) if runs else float("nan")


def p99(runs: list[Run]) -> float:
    return max(r.p99_ms for r in runs) if runs else float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets(
    results: list[tuple[str, str, str, list[Run]]],
    ceiling: float,
    big_loads: dict[str, Any],
    memory: list[tuple[str, str, dict[str, float]]],
    args: argparse.Namespace,
) -> list[str]:
    """The targets of issue 4, each against this run's figures (means of the runs)."""

    def find(server: str, prefix: str) -> list[Run]:
        return _find(results, server, prefix)

    rows = []
    datasette = rps(find("datasette", "meeting")) / DATASETTE_REQUESTS
    for backend in ("sqlite", "postgresql"):
        for server in (backend, f"{backend}, no cache"):
            rows += _request_targets(results, server, ceiling, datasette)
        big_servers = (f"{backend} 1M", f"{backend} 1M, no cache")
        for server in big_servers:
            search = find(server, "search q=")
            if search:
                ratio, worst = rps(search) / ceiling, p99(search)
                rows.append(
                    f"| {server}: search, 1,000,000 directives | p99 ≤ 50 ms; ≥ 10% of the ceiling | "
                    f"p99 {worst:.1f} ms; {ratio:.0%} | {verdict(worst <= 50 and ratio >= 0.1)} |"
                )
        load = big_loads.get(backend, {})
        if load.get("seconds") is not None:
            peak = load.get("peak_mb", float("nan"))
            rows.append(
                f"| {backend}: seed load of {args.search_meetings} meetings | ≤ 90 s; peak ≤ 500 MB | "
                f"{load['seconds']} s; {peak} MiB | {verdict(load['seconds'] <= 90 and peak <= 500)} |"
            )
        for server, data_set, mem in memory:
            if server in big_servers and data_set.startswith(str(args.search_meetings)):
                rss = mem.get("VmHWM", float("nan"))
                rows.append(
                    f"| {server}: server memory, {data_set} | ≤ 250 MB resident | "
                    f"peak {rss} MiB | {verdict(rss <= 250)} |"
                )
    return [
        "",
        "## Against the targets (issue 4)",
        "",
        "Means of the runs above; the ceiling's mean is the reference.",
        "",
        "| what | target | measured | |",
        "|---|---|---|---|",
        *rows,
    ]


def _request_targets(
    results: list[tuple[str, str, str, list[Run]]], server: str, ceiling: float, datasette: float
) -> list[str]:
    """The rows of the per-request targets for one server of the run."""

    def find(prefix: str) -> list[Run]:
        return _find(results, server, prefix)

    rows = []
    meeting = find("meeting")
    ratio, worst = rps(meeting) / ceiling, p99(meeting)
    rows.append(
        f"| {server}: meeting with everything | ≥ 50% of the ceiling, p99 ≤ 20 ms | "
        f"{ratio:.0%}, p99 {worst:.1f} ms | {verdict(ratio >= 0.5 and worst <= 20)} |"
    )
    times = rps(meeting) / datasette
    rows.append(
        f"| {server}: the same against Datasette | ≥ 15× its whole meetings/s ({fmt(datasette)}) | "
        f"{times:.1f}× | {verdict(times >= 15)} |"
    )
    first = find("list page 1")
    deep = [
        runs
        for s, n, _p, runs in results
        if s == server and n.startswith("list page ") and n != "list page 1"
    ]
    ratio = rps(first) / ceiling
    slower = rps(first) / rps(deep[0]) if deep else float("nan")
    rows.append(
        f"| {server}: keyset list page of 50 with a filter | deep page within 1.2× of page 1; "
        f"≥ 25% of the ceiling | deep {slower:.2f}× page 1's time; {ratio:.0%} | "
        f"{verdict(slower <= 1.2 and ratio >= 0.25)} |"
    )
    return rows


def write_report(
    args: argparse.Namespace,
    facts: dict[str, str],
    loads: dict[str, Any],
    body_bytes: int,
    results: list[tuple[str, str, str, list[Run]]],
    ceiling: float,
    notes: list[str],
    elapsed: float,
    big_loads: dict[str, Any],
    memory: list[tuple[str, str, dict[str, float]]],
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {facts['date']} by `make bench` (bench/run.py), {elapsed / 60:.1f} min in all, "
        f"on the code of commit {facts['code']}.",
        "Benchmarks, not tests: CI does not run them.",
        "",
        "## Set-up",
        "",
        f"* Data set: `python -m app generate --meetings {args.meetings} --seed {SEED}` "
        f"({loads.get('seed_bytes', 0) / 1e6:.1f} MB of JSON).",
        "* One uvicorn process (one worker) pinned to core 0: `taskset -c 0 python -m uvicorn app.main:app "
        "--no-access-log --log-level warning`.",
        f"* Load generator pinned to core 1: `taskset -c 1 wrk -t1 -c{args.connections} -d{args.duration} "
        f"--latency --timeout {args.timeout} URL` (each figure measured {args.runs} times in a row, "
        "after a 3 s warm-up).",
        f"* Ceiling: bench/ceiling.py, a minimal FastAPI app answering {body_bytes} constant bytes "
        "(the median size of the meeting response with every include) to any GET.",
        f"* Meeting: `GET /api/v1/meetings/{{random id}}?include={INCLUDE}`, "
        "ids drawn uniformly by bench/meeting.lua.",
        f"* List: `GET /api/v1/directives?{LIST_FILTER}&limit=50`, first page and a deep page whose cursor "
        "was reached by following `next_cursor` beforehand.",
        f"* Search: `GET /api/v1/search?q={SEARCH_WORD}` (a phrase of every meeting's summary).",
        "* Servers are started with `LOAD_SEED_ON_START=false` on the prepared data sets, and "
        "`MALLOC_ARENA_MAX=2` as `make run` and the Dockerfile start them.",
        f"* Datasette {sh(PY + ' -m datasette --version').split()[-1]} (the `bench` extra) serves the same "
        "SQLite file (`datasette serve FILE`, default settings, pinned to core 0); bench/datasette.lua "
        f"fetches a random meeting with its {DATASETTE_REQUESTS} requests in sequence (the meeting row, "
        "then participant, directive, shortcoming and meeting_document rows with `?meeting_id=`, "
        "`_size=max`, foreign keys labelled with `_labels=on`, people and documents labelled by "
        "name and title): whole meetings/s = req/s / "
        f"{DATASETTE_REQUESTS}.",
        f"* Search at scale: a second data set, `--meetings {args.search_meetings} --seed {SEED}` "
        f"({big_loads.get('seed_bytes', 0) / 1e6:.1f} MB of JSON), servers `sqlite 1M` and `postgresql 1M`, "
        f"each with the cache and without it: `q={SEARCH_WORD}` (the target's), `q=dang ky` (few matches) "
        "and `q=uy ban` (as typed: the last word a prefix of several words).",
        "* Memory: VmRSS and VmHWM of the server process from /proc/PID/status after its runs.",
        "",
        "## Data-set build times",
        "",
        "| step | seconds |",
        "|---|---|",
    ]
    for label, data in (
        (f"{args.meetings} meetings", loads),
        (f"{args.search_meetings} meetings", big_loads),
    ):
        if not data:
            continue
        for key in ("generate", "sqlite", "postgresql"):
            v = data.get(key, {})
            secs = v.get("seconds")
            cached = " (from an earlier run; files reused)" if v.get("cached") and secs is not None else ""
            peak = f", peak memory {v['peak_mb']} MiB" if v.get("peak_mb") else ""
            step = key if key == "generate" else "load " + key
            untimed = "not timed (the file was there already)" if v.get("cached") else "?"
            took = secs if secs is not None else v.get("skipped", untimed)
            lines.append(f"| {label}: {step} | {took}{peak}{cached} |")
    lines += [
        "",
        "## Figures",
        "",
        f"req/s and latency per wrk run; the ratio is req/s over the ceiling's mean req/s ({fmt(ceiling)}).",
        "",
        "| server | request | run | req/s | p50 ms | p99 ms | ratio to ceiling | errors | alone ms "
        "| cache hits |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for server, name, _path, runs in results:
        for i, r in enumerate(runs):
            lines.append(
                f"| {server} | {name} | {i + 1} | {fmt(r.rps)} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
                f"{r.rps / ceiling:.3f} | {r.errors} | {r.alone_ms:.1f} | "
                f"{'' if r.cache_hits != r.cache_hits else f'{r.cache_hits:.0%}'} |"
            )
    lines += targets(results, ceiling, big_loads, memory, args)
    lines += [
        "",
        "## Server memory",
        "",
        "| server | data set | VmRSS MiB | VmHWM MiB |",
        "|---|---|---|---|",
    ]
    for server, data_set, mem in memory:
        lines.append(f"| {server} | {data_set} | {mem.get('VmRSS', '?')} | {mem.get('VmHWM', '?')} |")
    lines += ["", "Notes:", ""] + [f"* {n}" for n in notes]
    lines += [
        "* `errors` counts non-2xx/3xx answers and socket errors (including timeouts: wrk "
        f"`--timeout {args.timeout}`) reported by wrk; `nan` latencies: no request completed.",
        "* `alone ms`: median of 3 requests sent one at a time before the wrk runs (no concurrency).",
        "* `cache hits`: the share of answers the API gave from its response cache (app/cache.py; "
        "counted by bench/count.lua from the `Cache-Status` header). `no cache` servers run with "
        "`RESPONSE_CACHE_BYTES=0`: every answer is made from the database.",
        "* The machine is shared (other processes may run during the measurement): "
        f"load average before `{facts['loadavg_before']}`, after `{facts['loadavg_after']}`.",
        "",
        "## Machine",
        "",
        "```",
        f"nproc: {facts['nproc']}",
        facts["lscpu"],
        "",
        facts["free"],
        "",
        f"kernel: {facts['kernel']}",
        f"Python {facts['python']}, FastAPI {facts['fastapi']}, uvicorn {facts['uvicorn']}, "
        f"SQLAlchemy {facts['sqlalchemy']}",
        f"SQLite {facts['sqlite']}, PostgreSQL {facts['postgresql']}, {facts['wrk']}",
        "```",
        "",
        "## Commands",
        "",
        "```",
        f"make bench   # = {Path(PY).relative_to(ROOT) if PY.startswith(str(ROOT)) else PY} -m bench.run "
        f"--meetings {args.meetings} --duration {args.duration} --connections {args.connections} "
        f"--timeout {args.timeout} --runs {args.runs}",
        "```",
        "",
        "## Raw wrk output",
        "",
    ]
    for server, name, path, runs in results:
        for i, r in enumerate(runs):
            lines += [
                f"### {server}: {name} (run {i + 1})",
                "",
                f"`{path}`",
                "",
                "```",
                r.raw.strip(),
                "```",
                "",
            ]
    args.output.write_text("\n".join(lines))
    print("\n".join(lines[: lines.index("## Machine")]))


if __name__ == "__main__":
    sys.exit(main())
