"""API keys: creating, checking and revoking them, and the FastAPI dependency for writes.

A key reads `mr_<prefix>_<secret>`. The prefix (12 hex digits) is stored in
clear and indexed to find the row; only the sha256 of the secret is stored,
and it is compared with hmac.compare_digest. Keys are sent as
`Authorization: Bearer <key>`.

Failed authentications are counted per client address by `FailureLimiter`.
It is in memory and per worker process: with N workers an address may fail up
to N times the limit before every worker refuses it, and the counts vanish on
restart. Behind a reverse proxy the client address is the proxy's unless the
server is told to trust forwarded headers (uvicorn --proxy-headers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, insert, select, update

from app.config import get_settings
from app.db import EngineDep, writer
from app.errors import AppError, NotFound
from app.models.apikey import SCOPE_RANK, ApiKey, Scope
from app.models.common import utcnow

KEY_PREFIX = "mr"
_PREFIX_HEX = 12
api_key_t: Any = ApiKey.__table__  # type: ignore[attr-defined]


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"

    def __init__(self, detail: str, *, error: str | None = None) -> None:
        super().__init__(detail)
        challenge = 'Bearer realm="meeting-records"'
        if error:
            challenge += f', error="{error}"'
        self.headers = {"WWW-Authenticate": challenge}


class Forbidden(AppError):
    status = 403
    slug = "forbidden"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": 'Bearer realm="meeting-records", error="insufficient_scope"'}


class TooManyFailures(AppError):
    status = 429
    slug = "too-many-requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed authentications from this address; retry in {retry_after} s.",
            retry_after=retry_after,
        )
        self.headers = {"Retry-After": str(retry_after)}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The API key a request was authenticated with."""

    id: int
    name: str
    scope: Scope


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    scope: Scope
    prefix: str
    key: str  # shown once, never stored


def create_key(engine: Engine, name: str, scope: Scope) -> NewKey:
    prefix = secrets.token_hex(_PREFIX_HEX // 2)
    secret = secrets.token_urlsafe(32)
    with writer(engine).begin() as conn:
        key_id = conn.execute(
            insert(api_key_t)
            .values(
                name=name,
                scope=scope.value,
                prefix=prefix,
                secret_sha256=hash_secret(secret),
                created_at=utcnow(),
            )
            .returning(api_key_t.c.id)
        ).scalar_one()
    return NewKey(key_id, name, scope, prefix, f"{KEY_PREFIX}_{prefix}_{secret}")


def list_keys(engine: Engine) -> list[dict[str, Any]]:
    columns = [c for c in api_key_t.c if c.name != "secret_sha256"]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(*columns).order_by(api_key_t.c.id)).mappings()]


def revoke_key(engine: Engine, key_id: int) -> dt.datetime:
    """Revoke a key (idempotent); returns when it was revoked. Unknown id: NotFound."""
    with writer(engine).begin() as conn:
        row = conn.execute(select(api_key_t.c.revoked_at).where(api_key_t.c.id == key_id)).first()
        if row is None:
            raise NotFound(f"No API key with id {key_id}.")
        if row.revoked_at is not None:
            revoked: dt.datetime = row.revoked_at
            return revoked
        now = utcnow()
        conn.execute(update(api_key_t).where(api_key_t.c.id == key_id).values(revoked_at=now))
        return now


_DUMMY_HASH = hash_secret("not-a-secret")


def authenticate(engine: Engine, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != _PREFIX_HEX or not parts[2]:
        return None
    _, prefix, secret = parts
    with engine.connect() as conn:
        row = conn.execute(select(api_key_t).where(api_key_t.c.prefix == prefix)).mappings().first()
    stored = row["secret_sha256"] if row is not None else _DUMMY_HASH
    ok = hmac.compare_digest(stored.encode(), hash_secret(secret).encode())
    if row is None or not ok or row["revoked_at"] is not None:
        return None
    return Principal(row["id"], row["name"], Scope(row["scope"]))


class FailureLimiter:
    """Failed authentications per client address in a sliding window (in memory, per worker)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float, window: float) -> deque[float]:
        q = self._failures.get(address)
        if q is None:
            q = self._failures[address] = deque()
        while q and q[0] <= now - window:
            q.popleft()
        return q

    def retry_after(self, address: str) -> int | None:
        """Seconds to wait if this address is over the limit, else None."""
        settings = get_settings()
        with self._lock:
            now = self._clock()
            q = self._recent(address, now, settings.auth_failure_window_s)
            if len(q) < settings.auth_failure_limit:
                if not q:
                    self._failures.pop(address, None)
                return None
            # Blocked until enough failures leave the window to go under the limit.
            oldest_that_must_expire = q[len(q) - settings.auth_failure_limit]
            return max(1, math.ceil(oldest_that_must_expire + settings.auth_failure_window_s - now))

    def fail(self, address: str) -> None:
        settings = get_settings()
        with self._lock:
            now = self._clock()
            q = self._recent(address, now, settings.auth_failure_window_s)
            q.append(now)
            if len(self._failures) > 100_000:  # bound memory under an address-spraying attack
                self._failures.clear()

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()


limiter = FailureLimiter()
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `python -m app keys create`, sent as `Authorization: Bearer mr_...`.",
)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _check(
    request: Request, engine: Engine, credentials: HTTPAuthorizationCredentials | None, scope: Scope
) -> Principal:
    """The request's principal, whose key must grant at least `scope` (else 401, 403 or 429)."""
    address = _address(request)
    wait = limiter.retry_after(address)
    if wait is not None:
        raise TooManyFailures(wait)
    if credentials is None:
        raise Unauthorized("This request needs an API key: send `Authorization: Bearer <key>`.")
    principal = authenticate(engine, credentials.credentials)
    if principal is None:
        limiter.fail(address)
        raise Unauthorized("The API key is not valid or has been revoked.", error="invalid_token")
    if SCOPE_RANK[principal.scope] < SCOPE_RANK[scope]:
        raise Forbidden(f"This API key has scope {principal.scope.value!r}; {scope.value!r} is needed.")
    return principal


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency: the request's API key, which must grant at least `scope`."""

    def dependency(
        request: Request,
        engine: EngineDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        return _check(request, engine, credentials, scope)

    return dependency


async def read_access(request: Request, engine: EngineDep) -> None:
    """Reads are public, unless Settings.reads_require_key: then a key of any scope is needed.

    Async and a no-op by default, so that a public read pays no threadpool hop for it;
    the key is checked in the threadpool (a database read) only when the setting is on.
    Writes check their own key (WriterDep).
    """
    if not get_settings().reads_require_key or request.method not in ("GET", "HEAD"):
        return
    credentials = await bearer(request)
    await run_in_threadpool(_check, request, engine, credentials, Scope.read)


WriterDep = Annotated[Principal, Depends(require(Scope.write))]
