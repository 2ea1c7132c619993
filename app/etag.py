"""ETags on every successful GET, and 304 for a matching If-None-Match.

A pure ASGI middleware: it buffers the body of GET responses with status 200
(JSON documents of bounded size; not downloads sent as attachments), hashes
it, and answers 304 when the client already has that representation. A route
may set its own ETag (single records do: see record_etag below); the middleware
then keeps it and only does the If-None-Match comparison.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    opaque = etag.strip('"')
    for candidate in if_none_match.split(","):
        c = candidate.strip()
        if c.startswith("W/"):
            c = c[2:]
        if c.strip('"') == opaque:
            return True
    return False


class ETagMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        passthrough = False
        suppressed = False  # a 304 went out for the route's own ETag: drop the body

        async def wrapped(message: Message) -> None:
            nonlocal start, passthrough, suppressed
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                inm = Headers(scope=scope).get("if-none-match")
                if message["status"] == 200 and "etag" in headers and inm and matches(inm, headers["etag"]):
                    # The route set its own ETag (a record's version): answer 304 for it too.
                    out = MutableHeaders(raw=list(message["headers"]))
                    for name in ("content-length", "content-type"):
                        if name in out:
                            del out[name]
                    suppressed = True
                    await send({**message, "status": 304, "headers": out.raw})
                    await send({"type": "http.response.body", "body": b""})
                    return
                if (
                    message["status"] != 200
                    or "etag" in headers
                    # Downloads (CSV/NDJSON collections, the export, the calendar) are
                    # streamed: buffering them to hash would hold the whole body in memory.
                    or headers.get("content-disposition", "").startswith("attachment")
                    or headers.get("content-type", "").startswith(
                        ("text/event-stream", "text/html", "application/javascript", "text/css")
                    )
                ):
                    passthrough = True
                    await send(message)
                    return
                start = message
                return
            if suppressed:
                return
            if passthrough or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            etag = etag_for(body)
            headers = MutableHeaders(raw=start["headers"])
            headers["ETag"] = etag
            headers.setdefault("Cache-Control", "no-cache")
            inm = Headers(scope=scope).get("if-none-match")
            if inm is not None and matches(inm, etag):
                for name in ("content-length", "content-type"):
                    if name in headers:
                        del headers[name]
                await send({**start, "status": 304, "headers": headers.raw})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, wrapped)


def record_etag(public: BaseModel) -> str:
    """The ETag of one record: a hash of its canonical public JSON.

    GET /{collection}/{ref} sends it, and writes check If-Match against it,
    recomputed from the row inside the write transaction.
    """
    return etag_for(public.model_dump_json().encode())


def set_record_etag(response: Response, public: BaseModel) -> None:
    response.headers["ETag"] = record_etag(public)
    response.headers["Cache-Control"] = "no-cache"


def if_match_satisfied(if_match: str, etag: str) -> bool:
    """RFC 9110 If-Match: `*` or a list of strong tags, compared strongly (W/ never matches)."""
    if if_match.strip() == "*":
        return True
    return any(c.strip() == etag for c in if_match.split(",") if not c.strip().startswith("W/"))
