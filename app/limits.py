"""Request body size limit: bodies over `max_body_bytes` get 413 problem+json.

A declared Content-Length over the limit is refused before the body is read;
a chunked body is counted as it arrives and refused once it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.errors import problem


def _too_large(limit: int) -> str:
    return f"The request body is larger than the {limit} bytes this API accepts."


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = get_settings().max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if declared.isdigit():
                response = problem(413, _too_large(limit), instance=scope.get("path"))
            else:
                response = problem(400, "Invalid Content-Length header.", instance=scope.get("path"))
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI re-raises HTTPException from body reading: the problem handler answers.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, limited, send)
