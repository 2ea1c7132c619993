"""In-process timing of the hot read routes: µs per request, no HTTP server, no wrk.

Each request goes through the whole ASGI app (middlewares, routing, parameter
validation, the threadpool hop, the database, serialisation), called directly
from an asyncio loop one request at a time, so the figures are per-request CPU
cost on one core and can be compared before/after a change on the same data:

    DATABASE_URL=sqlite:////tmp/m.db .venv/bin/python -m bench.inproc --n 500
    .venv/bin/python -m bench.inproc --n 3 --downloads --only download   # CSV and NDJSON downloads
    .venv/bin/python -m bench.inproc --bodies out.json   # also keep a hash of each body

Not a test and not the benchmark (bench/run.py is): a development tool.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
from typing import Any

os.environ.setdefault("LOAD_SEED_ON_START", "false")
# Every request its own: with the response cache, a route asked for one URL again and again
# would be timed from memory after its first answer (RESPONSE_CACHE_BYTES=67108864 to time that).
os.environ.setdefault("RESPONSE_CACHE_BYTES", "0")

INCLUDE = "participants,directives,shortcomings,documents"


def _cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def call(app: Any, url: str) -> tuple[int, bytes, dict[str, str]]:
    parts = urllib.parse.urlsplit(url)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": urllib.parse.unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Then, as a server does, nothing until the client goes: a streamed answer listens for
        # that while it sends, and an answer at once would keep it from ever sending.
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update({k.decode(): v.decode() for k, v in message["headers"]})
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks), headers


async def main_async(args: argparse.Namespace) -> int:
    from app.db import default_engine
    from app.main import app

    engine = default_engine()
    with engine.connect() as conn:
        lo, hi = conn.exec_driver_sql("select min(id), max(id) from meeting").one()
        dlo, dhi = conn.exec_driver_sql("select min(id), max(id) from directive").one()
    rng = random.Random(1)  # noqa: S311  (which records to ask for, not secrets)
    deep = _cursor("id", [dlo + (dhi - dlo) * 9 // 10])
    trien_khai = urllib.parse.quote("triển khai")
    _, first, _ = await call(app, f"/api/v1/search?q={trien_khai}")
    search_page_2 = json.loads(first)["next_cursor"]
    routes: dict[str, list[str]] = {
        "meeting include=all": [
            f"/api/v1/meetings/{rng.randint(lo, hi)}?include={INCLUDE}" for _ in range(200)
        ],
        "meeting alone": [f"/api/v1/meetings/{rng.randint(lo, hi)}" for _ in range(200)],
        "directives status=open p1": ["/api/v1/directives?status=open&limit=50"],
        "directives status=open deep": [f"/api/v1/directives?status=open&limit=50&cursor={deep}"],
        "directives meeting_id": [
            f"/api/v1/directives?meeting_id={rng.randint(lo, hi)}&limit=50" for _ in range(200)
        ],
        "meetings p1": ["/api/v1/meetings?limit=50"],
        "participants p1": ["/api/v1/participants?limit=50"],
        "shortcomings p1": ["/api/v1/shortcomings?limit=50"],
        "people p1": ["/api/v1/people?limit=50"],
        "documents p1": ["/api/v1/documents?limit=50"],
        "meeting directives (nested)": [
            f"/api/v1/meetings/{rng.randint(lo, hi)}/directives" for _ in range(200)
        ],
        "directive one": [f"/api/v1/directives/{rng.randint(dlo, dhi)}" for _ in range(200)],
        "search q=triển khai": ["/api/v1/search?q=" + urllib.parse.quote("triển khai")],
        "search q=dang ky": ["/api/v1/search?q=dang+ky&limit=5"],
        "search q=triển khai page 2": [f"/api/v1/search?q={trien_khai}&cursor={search_page_2}"],
        "search q=tri (prefix)": ["/api/v1/search?q=tri"],
        "search type=directive": [f"/api/v1/search?q={trien_khai}&type=directive"],
        "search type=person (rare)": [f"/api/v1/search?q={trien_khai}&type=person"],
        "search meeting_id": [
            f"/api/v1/search?q={trien_khai}&meeting_id={rng.randint(lo, hi)}" for _ in range(200)
        ],
        # what grows with the database: counts over whole collections (use a small --n at scale)
        "stats": ["/api/v1/stats"],
        "stats date range": ["/api/v1/stats?date_from=2020-01-01&date_to=2020-03-01"],
        "directives date range": ["/api/v1/directives?date_from=2020-01-01&date_to=2020-03-01"],
        "directives progress=overdue": ["/api/v1/directives?progress=overdue"],
        "directives assignee=uy ban": ["/api/v1/directives?assignee=uy+ban"],
        "directives q=triển khai": [f"/api/v1/directives?q={trien_khai}"],
        "meetings q=triển khai": [f"/api/v1/meetings?q={trien_khai}"],
        "shortcomings addressed=false": ["/api/v1/shortcomings?addressed=false"],
        "people name=nguyen": ["/api/v1/people?name=nguyen"],
    }
    if args.downloads:  # whole collections, each request a whole body: use a small --n
        routes.update(
            {
                "download directives ndjson": ["/api/v1/directives?format=ndjson"],
                "download directives csv": ["/api/v1/directives?format=csv"],
                "download directives csv assignee=uy ban": ["/api/v1/directives?format=csv&assignee=uy+ban"],
                "download directives ndjson date range": [
                    "/api/v1/directives?format=ndjson&date_from=2020-01-01&date_to=2020-03-01"
                ],
            }
        )
    if args.only:
        routes = {k: v for k, v in routes.items() if any(o in k for o in args.only)}
    bodies: dict[str, str] = {}
    # CPU µs: the process's CPU time (every thread) per request, which the load of other
    # processes on the machine disturbs far less than the wall-clock figures.
    print(f"{'route':32} {'CPU µs':>9} {'mean µs':>9} {'p50 µs':>9} {'p90 µs':>9}  bytes")
    for name, urls in routes.items():
        for url in urls[:5]:  # warm-up; also the bodies to compare
            status, body, _ = await call(app, url)
            if status != 200:
                print(f"{name}: {url} answered {status}: {body[:300]!r}", file=sys.stderr)
                return 1
            bodies[url] = hashlib.blake2b(body, digest_size=16).hexdigest()
        times = []
        size = 0
        cpu0 = time.process_time()
        for i in range(args.n):
            url = urls[i % len(urls)]
            t0 = time.perf_counter_ns()
            _, body, _ = await call(app, url)
            times.append((time.perf_counter_ns() - t0) / 1000)
            size = len(body)
        cpu = (time.process_time() - cpu0) / args.n * 1e6
        times.sort()
        print(
            f"{name:32} {cpu:9.0f} {statistics.mean(times):9.0f} {times[len(times) // 2]:9.0f} "
            f"{times[len(times) * 9 // 10]:9.0f}  {size}"
        )
    if args.bodies:
        with open(args.bodies, "w") as f:
            json.dump(bodies, f, indent=1, sort_keys=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="requests per route")
    parser.add_argument("--bodies", help="write a hash of each warm-up body to this JSON file")
    parser.add_argument("--only", nargs="*", help="only routes whose name contains one of these")
    parser.add_argument(
        "--downloads", action="store_true", help="also whole CSV and NDJSON downloads (seconds each at scale)"
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
