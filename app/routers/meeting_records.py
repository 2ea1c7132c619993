"""The routes of records that belong to a meeting and are read alike: shortcomings, findings.

(No `from __future__ import annotations` here: FastAPI reads the handlers'
parameter annotations, which refer to this function's arguments.)
"""

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import ColumnElement, Table, exists

from app.db import EngineDep
from app.deps import (
    DEFAULT_LIMIT,
    Cursor,
    DateFrom,
    DateTo,
    IdFilter,
    Limit,
    RecordRef,
    TextQuery,
    UpdatedSince,
    list_or_stream,
    record_response,
    sort_param,
)
from app.models.common import Page
from app.openapi_docs import READ, list_responses
from app.resources import Resource, addresses_t
from app.routers.filters import meeting_filters
from app.streams import FormatParam

AddressedParam = Annotated[
    bool | None,
    Query(
        alias="addressed",
        description="`false`: only those no directive answers yet (`addresses`); `true`: only answered ones.",
    ),
]


def _answered(table: Table, answered: bool) -> ColumnElement[bool]:
    """The shortcomings some directive answers (`addresses`), or (not `answered`) those none does."""
    clause = exists().where(addresses_t.c.shortcoming_id == table.c.id)
    return clause if answered else ~clause


def meeting_records_router(
    resource: Resource, public: Any, plural: str, *, addressed: bool = False
) -> APIRouter:
    """GET /{plural} (filtered by meeting, cited document, meeting date, text) and GET /{plural}/{ref}.

    With `addressed`, GET /{plural} also takes `?addressed=` (shortcomings: answered by a directive).
    """
    router = APIRouter(prefix=resource.path, tags=[plural])
    singular = resource.name

    def read_many(
        engine: EngineDep,
        request: Request,
        meeting_id: IdFilter = None,
        document_id: Annotated[
            IdFilter, Query(description=f"Only {plural} of meetings citing this document.")
        ] = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        q: TextQuery = None,
        updated_since: UpdatedSince = None,
        sort: Annotated[str | None, sort_param(resource)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
        format: FormatParam = None,
        addressed_filter: AddressedParam = None,
    ) -> Any:
        where = meeting_filters(resource.table, meeting_id, document_id, date_from, date_to)
        if addressed_filter is not None:
            answered = addressed_filter
            where.add_fixed(f"addressed={answered}", lambda: _answered(resource.table, answered))
        return list_or_stream(
            engine,
            resource,
            request,
            where=where,
            q=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
            fmt=format,
            updated_since=updated_since,
        )

    async def read_one(ref: RecordRef, engine: EngineDep) -> Any:
        return await record_response(engine, resource, ref)

    if not addressed:  # the parameter exists only where it means something
        read_many.__signature__ = inspect.signature(read_many).replace(  # type: ignore[attr-defined]
            parameters=[
                p for p in inspect.signature(read_many).parameters.values() if p.name != "addressed_filter"
            ]
        )
    read_many.__name__ = f"read_{plural}"
    read_one.__name__ = f"read_{singular}"
    router.add_api_route(
        "",
        read_many,
        methods=["GET"],
        response_model=Page[public],
        responses=list_responses(resource),
        summary=f"List {plural}",
    )
    router.add_api_route(
        "/{ref}",
        read_one,
        methods=["GET"],
        response_model=public,
        responses=READ,
        summary=f"Read one {singular}",
    )
    return router
