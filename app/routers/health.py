from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from app.db import EngineDep, database_info
from app.errors import Unavailable
from app.openapi_docs import problems

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(description="Back end: sqlite or postgresql.", examples=["sqlite"])
    version: str = Field(description="Version of the database library or server.", examples=["3.53.4"])
    journal_mode: str | None = Field(description="SQLite journal mode (wal when safe).", examples=["wal"])


@router.get("/healthz", summary="Liveness: the process answers")
async def read_health() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: the database answers", responses=problems(503))
def read_ready(engine: EngineDep) -> Ready:
    try:
        info = database_info(engine)
    except SQLAlchemyError as exc:
        raise Unavailable(f"The database does not answer ({type(exc).__name__}).") from None
    return Ready(status="ok", database=info.backend, version=info.version, journal_mode=info.journal_mode)
