"""The application: routers under /api/v1, problem+json errors, ETags, offline docs."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from app import errors, openapi_docs
from app.auth import read_access
from app.cache import ResponseCacheMiddleware
from app.config import get_settings
from app.db import default_engine
from app.etag import ETagMiddleware
from app.limits import BodySizeLimitMiddleware
from app.models.common import Problem
from app.routers import (
    changes,
    directives,
    documents,
    exports,
    findings,
    health,
    links,
    meetings,
    participants,
    people,
    search,
    shortcomings,
    stats,
)
from app.routers import writes as write_routes
from app.seed_schema import SeedError
from app.startup import prepare_database

log = logging.getLogger("app")

DESCRIPTION = """
Records of government meetings: the meeting, who took part and in what office,
the directives issued and their follow-up, the shortcomings found, the positive
findings and the documents cited, each with the verbatim passage of the source
it comes from.

* Collections share one envelope, `{"items": [...], "total": N, "next_cursor": ...}`,
  with keyset pagination (`cursor`, `limit`) and a `Link: rel="next"` header.
* Records are addressed by integer id or by slug.
* Search and text filters ignore case, diacritics (đ/d too) and Unicode normal form.
* Every GET answers with an `ETag`; send it back in `If-None-Match` for a 304.
* Every error is an RFC 9457 `application/problem+json` document.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # anyio's default is 40 threads; each beyond the pool's connections only waits, holding memory.
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = settings.threadpool_size or 2 * settings.db_pool_size
    try:
        await run_in_threadpool(prepare_database, default_engine(), settings)
    except SeedError as exc:
        log.error("the seed file cannot be loaded:\n%s", exc.report())
        raise
    # What import and start-up made (routes, models, compiled statements: some 150,000 objects)
    # lives as long as the worker: out of the collector's sight, a full collection walks only
    # what requests made since. It walked everything before: about 110 ms, all other requests
    # waiting (measured with 10,000 meetings). Back in sight when the app stops.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app() -> FastAPI:
    app = FastAPIOffline(
        title="Meeting records API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    errors.install(app)
    app.add_middleware(ResponseCacheMiddleware)  # inside the ETag middleware: 304s for hits too
    app.add_middleware(ETagMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)
    # Each router is included into the app itself, not through an /api/v1 router of its own:
    # FastAPI matches a request once per level of inclusion (every route of an included
    # router, at each level), so one level less is a cheaper lookup for every request.
    # /healthz comes first: probes are frequent and it would otherwise be matched last.
    app.include_router(health.router)
    modules = (
        meetings,
        people,
        participants,
        directives,
        shortcomings,
        findings,
        documents,
        search,
        exports,
        changes,
        links,
        stats,
    )
    for router in (*(module.router for module in modules), *write_routes.ROUTERS):
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(read_access)])

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(problem_schema.pop("$defs", {}))
            components["Problem"] = problem_schema
            openapi_docs.restore_examples(schema, app.routes)
            openapi_docs.require_if_match(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


app = create_app()
