"""The ceiling: a minimal FastAPI app answering constant bytes.

It returns BENCH_BODY_BYTES bytes (the size of a typical meeting response of
the real API, measured by bench/run.py) for any GET, so that the figures of
the real API can be read as a fraction of what FastAPI + uvicorn can do on the
same core with no database and no serialisation.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Response

SIZE = int(os.environ.get("BENCH_BODY_BYTES", "8000"))
BODY = (b'{"pad":"' + b"x" * max(0, SIZE - 10) + b'"}')[:SIZE]

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/{path:path}")
async def constant(path: str) -> Response:
    return Response(content=BODY, media_type="application/json")
