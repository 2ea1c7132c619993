"""Settings, read from the environment (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'meetings.db'}",
        description="SQLAlchemy URL: sqlite:///FILE (default) or postgresql+psycopg://...",
    )
    database_schema: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL only: the schema to use (search_path); default public.",
    )
    seed_file: Path = ROOT / "data" / "seed.json"
    load_seed_on_start: bool = True
    sqlite_driver: Literal["sqlcipher3", "sqlite3"] = Field(
        default="sqlcipher3",
        description="DB-API module for SQLite: sqlcipher3 bundles a current SQLite "
        "(3.53) with FTS5; sqlite3 is Python's own (3.40 here, WAL refused).",
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    db_pool_size: int = Field(
        default=4,
        ge=1,
        description="Connections a worker keeps open (and as many again when busy; on PostgreSQL "
        "as many again for the reads of one record on the event loop). A worker runs Python on one "
        "core: more connections add memory (each its own SQLite page cache), not speed.",
    )
    threadpool_size: int | None = Field(
        default=None,
        ge=1,
        description="Threads of a worker's threadpool (where database work runs); default: the "
        "connections its pool may open (2 × db_pool_size): more threads would only wait for one.",
    )
    page_size_default: int = Field(default=20, ge=1)
    page_size_max: int = Field(default=100, ge=1)
    public_base_url: str | None = Field(
        default=None, description="Base URL used in Link headers; default: from the request."
    )
    auth_failure_limit: int = Field(
        default=10, ge=1, description="Failed authentications from one address before it gets 429."
    )
    auth_failure_window_s: int = Field(default=60, ge=1, description="Window for auth_failure_limit.")
    reads_require_key: bool = Field(
        default=False,
        description="Reads under /api/v1 need an API key of any scope (else 401); public by default.",
    )
    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Per worker: bytes of compressed GET responses kept while the database is "
        "unchanged (app/cache.py); 0 turns the cache off.",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="Largest request body accepted (413).")


@lru_cache
def get_settings() -> Settings:
    return Settings()
