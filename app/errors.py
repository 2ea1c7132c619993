"""One exception hierarchy, one handler: every error is RFC 9457 problem+json."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.models.common import Problem

log = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status: int = 500
    slug: str = "internal-error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(AppError):
    status = 404
    slug = "not-found"


class InvalidParameter(AppError):
    """A parameter that passed type checks but means nothing here (bad cursor, ...)."""

    status = 422
    slug = "validation-error"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"Invalid parameter {name}: {reason}", invalid_params=[{"name": name, "reason": reason}]
        )


class Unavailable(AppError):
    status = 503
    slug = "unavailable"


def problem(
    status: int, detail: str | None, *, slug: str | None = None, instance: str | None = None, **extra: Any
) -> JSONResponse:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body = Problem(
        type="about:blank",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        **extra,
    ).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path.

    Starlette's 405 lists only the methods of the first route whose path matched,
    while GET and POST on a collection are two routes: its Allow said `GET` where
    POST is answered too. HEAD is listed only where a route answers it (Starlette's
    own routes add it to GET; FastAPI's API routes do not).
    """
    methods: set[str] = set()
    for route in routing.iter_route_contexts(request.app.router.routes):
        if not route.methods:
            continue
        match, _ = route.matches(request.scope)
        if match in (Match.PARTIAL, Match.FULL):
            methods.update(route.methods)
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        response = problem(exc.status, exc.detail, slug=exc.slug, instance=request.url.path, **exc.extra)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        params = []
        for err in exc.errors():
            params.append(
                {"name": _loc(err.get("loc", ())), "reason": str(err.get("msg")), "type": err.get("type")}
            )
        names = ", ".join(p["name"] for p in params)
        return problem(
            422,
            f"Invalid request: {names}" if names else "Invalid request",
            slug="validation-error",
            instance=request.url.path,
            invalid_params=params,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route matches {request.url.path}."
        if exc.status_code == 405:
            detail = f"Method {request.method} is not allowed on {request.url.path}."
        response = problem(exc.status_code, detail, instance=request.url.path)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "The server failed to handle this request.", instance=request.url.path)
