"""What the application sets up when it starts (app.main.lifespan)."""

from __future__ import annotations

import gc

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import app.db
from app.config import get_settings
from app.main import app as application


def _threads() -> int:
    return int(anyio.to_thread.current_default_thread_limiter().total_tokens)


@pytest.mark.parametrize(("threadpool_size", "expected"), [(None, 6), (4, 4)])
def test_start_app_sizes_the_threadpool(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, threadpool_size: int | None, expected: int
) -> None:
    """By default as many threads as the pool has connections (db_pool_size, and as many again
    of overflow): a thread more would only wait for a connection."""
    settings = get_settings()
    monkeypatch.setattr(settings, "db_pool_size", 3)
    monkeypatch.setattr(settings, "threadpool_size", threadpool_size)
    monkeypatch.setattr(settings, "load_seed_on_start", False)
    monkeypatch.setattr(app.db, "_engine", engine)  # the lifespan prepares the test's database
    with TestClient(application) as client:
        assert client.get("/healthz").status_code == 200
        assert client.portal.call(_threads) == expected


def test_start_app_freezes_what_start_up_made(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Objects made before the first request are out of the garbage collector's sight while
    the app runs (a full collection walks only what requests made), and back when it stops."""
    monkeypatch.setattr(get_settings(), "load_seed_on_start", False)
    monkeypatch.setattr(app.db, "_engine", engine)
    gc.unfreeze()
    with TestClient(application) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
