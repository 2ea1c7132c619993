"""The fast read path: rows straight from the DB-API connection to JSON bytes.

The hot GET routes answer a `Response` holding bytes made here instead of
returning pydantic models, which skips, per request, SQLAlchemy's result
processing, pydantic's validation of every row, FastAPI's validation of the
response against its model again, and two of the three threadpool hops. The
OpenAPI document is unchanged: the routes keep their `response_model`.

The JSON is byte for byte what pydantic makes of the Public models
(tests/test_fastread.py checks it on both back ends), because everything here is
derived from those models:

* `Shape(Model)` takes the model's fields in declaration order (the key order of
  the JSON) and, from each field's type, how a raw DB-API value becomes its JSON
  value: OffsetDateTime text -> datetime (UTC written `Z`, as pydantic does); a
  JSON column read as text -> its list; dates, enums (stored as their values),
  numbers and text go through as they are.
* `columns_for(Model, select)` picks, in that order, the columns of the
  resource's SELECT (app/resources.py) that carry those names.

So a new field of a Public model reaches the fast path by being a column (or a
labelled expression) of the same name in the resource's `select()`: nothing else
to change here. A field with no such column fails at import, not at run time.

Records linked through another table (a directive's assignees) come in the same
row, as a JSON aggregate subquery (`json_array_agg` of `json_object`s, or of
ids) labelled with the field's name, in the resource's `links()`: a field typed
`list[SomePublic]` is then made, item by item, the JSON of `SomePublic` (its
datetimes written as pydantic writes them), whatever the back end gave.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import BindParameter, ColumnElement, Engine, Select, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.functions import FunctionElement
from starlette.responses import Response

from app.etag import etag_for

JSON_MEDIA_TYPE = "application/json"
T = TypeVar("T")
_DUMPS_OPTIONS = orjson.OPT_UTC_Z


@lru_cache(maxsize=65536)
def _datetime_text(value: str) -> str:
    """Stored ISO 8601 text as pydantic writes that datetime (UTC as `Z`), once per distinct value."""
    return orjson.dumps(dt.datetime.fromisoformat(value), option=orjson.OPT_UTC_Z)[1:-1].decode()


def _to_datetime(value: Any) -> Any:
    return _datetime_text(value) if isinstance(value, str) else value


def _to_json_list(value: Any) -> Any:
    # SQLite hands the JSON column over as text; psycopg as the parsed value.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _nested_list(shape: Shape) -> Callable[[Any], Any]:
    """A list of objects (a JSON aggregate of linked records, made by `model_object`): each made
    the JSON of its model. SQLite hands the aggregate over as text that is that JSON already,
    byte for byte (see model_object): it goes into the document as it is, unparsed."""

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return orjson.Fragment(value)
        return [shape.from_mapping(item) for item in value]

    return convert


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """How a raw DB-API value of a field of this type becomes its JSON value (None: as it is)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _converter(inner[0]) if len(inner) == 1 else None
    if annotation is dt.datetime:
        return _to_datetime
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return _nested_list(Shape(args[0]))
    if origin in (list, dict):
        return _to_json_list
    if annotation in (int, str, float, bool, dt.date) or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    ):
        return None
    raise TypeError(f"the fast read path has no conversion for fields of type {annotation!r}")


@dataclass(frozen=True)
class Shape:
    """The JSON shape of one Public model: its field names in order and their conversions."""

    model: type[BaseModel]
    fields: tuple[str, ...] = field(init=False)
    conversions: tuple[tuple[int, str, Callable[[Any], Any]], ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(self.model.model_fields)
        conv = []
        for i, name in enumerate(names):
            fn = _converter(self.model.model_fields[name].annotation)
            if fn is not None:
                conv.append((i, name, fn))
        object.__setattr__(self, "fields", names)
        object.__setattr__(self, "conversions", tuple(conv))

    def record(self, row: Sequence[Any]) -> dict[str, Any]:
        """One row, its columns in `fields` order, as the dict that dumps to the model's JSON."""
        out = dict(zip(self.fields, row, strict=False))
        for i, name, fn in self.conversions:
            value = row[i]
            if value is not None:
                out[name] = fn(value)
        return out

    def records(self, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
        return [self.record(r) for r in rows]

    def values(self, row: Sequence[Any]) -> list[Any]:
        """One row's values in `fields` order, each its JSON value as plain Python data (a list of
        linked records parsed, not embedded unparsed as `record` makes it): for writers other
        than orjson (CSV)."""
        out = list(row[: len(self.fields)])
        for i, _, fn in self.conversions:
            value = out[i]
            if value is not None:
                converted = fn(value)
                out[i] = orjson.loads(value) if isinstance(converted, orjson.Fragment) else converted
        return out

    def from_mapping(self, item: dict[str, Any]) -> dict[str, Any]:
        """A JSON object with (at least) the model's keys, as the dict that dumps to its JSON."""
        return self.record([item[name] for name in self.fields])


class json_array_agg(FunctionElement[Any]):  # noqa: N801 (a SQL function, named as one)
    """`value` of each row as a JSON array, in `order_by` order; `[]` for no rows (not NULL)."""

    name = "json_array_agg"
    inherit_cache = True

    def __init__(self, value: ColumnElement[Any], order_by: ColumnElement[Any]) -> None:
        super().__init__(value, order_by)


class json_object(FunctionElement[Any]):  # noqa: N801
    """A JSON object of these (key, value) pairs, keys in this order."""

    name = "json_object"
    inherit_cache = False  # the keys are not part of SQLAlchemy's cache key: never cached

    def __init__(self, *pairs: tuple[str, ColumnElement[Any]]) -> None:
        self.keys = tuple(k for k, _ in pairs)
        super().__init__(*(v for _, v in pairs))


class json_array(FunctionElement[Any]):  # noqa: N801
    """A JSON array of these values, in this order (a row as JSON, without its keys)."""

    name = "json_array"
    inherit_cache = True

    def __init__(self, *values: ColumnElement[Any]) -> None:
        super().__init__(*values)


@compiles(json_array, "sqlite")
def _json_array_sqlite(element: json_array, compiler: Any, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(json_array, "postgresql")
def _json_array_pg(element: json_array, compiler: Any, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


class _OfOneValue(FunctionElement[Any]):
    """A SQL expression of one value, written per back end (each subclass's @compiles)."""

    inherit_cache = True

    def __init__(self, value: ColumnElement[Any]) -> None:
        super().__init__(value)


class utc_z(_OfOneValue):  # noqa: N801
    """Stored ISO 8601 text, its `+00:00` offset written `Z`: as pydantic writes a UTC datetime."""

    name = "utc_z"


@compiles(utc_z, "sqlite")
def _utc_z_sqlite(element: utc_z, compiler: Any, **kw: Any) -> str:
    x = compiler.process(element.clauses.clauses[0], **kw)
    return f"CASE WHEN substr({x}, -6) = '+00:00' THEN substr({x}, 1, length({x}) - 6) || 'Z' ELSE {x} END"


@compiles(utc_z, "postgresql")
def _utc_z_pg(element: utc_z, compiler: Any, **kw: Any) -> str:
    x = compiler.process(element.clauses.clauses[0], **kw)
    return f"CASE WHEN right({x}, 6) = '+00:00' THEN left({x}, -6) || 'Z' ELSE {x} END"


class json_value(_OfOneValue):  # noqa: N801
    """A value that is JSON already (a JSON column, a JSON aggregate), to nest as that JSON rather
    than as a string: SQLite's JSON is text, which `json()` makes JSON again (its subtype is lost
    through a subquery); PostgreSQL's is of type json, nested as it is."""

    name = "json_value"


@compiles(json_value, "sqlite")
def _json_value_sqlite(element: json_value, compiler: Any, **kw: Any) -> str:
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(json_value, "postgresql")
def _json_value_pg(element: json_value, compiler: Any, **kw: Any) -> str:
    value: str = compiler.process(element.clauses, **kw)
    return value  # of type json already


def _plain(annotation: Any) -> Any:
    """`X` of `X | None`, else the annotation itself."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def model_object(model: type[BaseModel], columns: Mapping[str, ColumnElement[Any]]) -> json_object:
    """A JSON object of `model`'s fields, from these columns, in field order and each written as
    pydantic writes it (and `Shape.record` makes it): datetimes through `utc_z`, JSON columns
    and aggregates nested as JSON (`json_value`), dates as their ISO text. Its text is then the
    model's JSON, byte for byte, compact: `_nested_list` embeds an aggregate of them without
    parsing it, and the change feed stores a load's records so (app.changes). Only fields whose
    JSON the database writes exactly so are allowed: integers, text, enums (stored as their
    values), dates, datetimes and JSON lists; not booleans (SQLite's are 0 and 1) or numbers."""
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for name, info in model.model_fields.items():
        kind = _plain(info.annotation)
        column = columns[name]
        if kind is dt.datetime:
            column = utc_z(column)
        elif typing.get_origin(kind) in (list, dict):
            column = json_value(column)
        elif kind not in (int, str, dt.date) and not (
            isinstance(kind, type) and issubclass(kind, enum.Enum) and not issubclass(kind, int)
        ):
            raise TypeError(f"{model.__name__}.{name}: {kind!r} has no exact JSON from the database")
        pairs.append((name, column))
    return json_object(*pairs)


def _aggregate_sql(element: json_array_agg, compiler: Any, **kw: Any) -> tuple[str, str]:
    value, order_by = element.clauses.clauses
    return compiler.process(value, **kw), compiler.process(order_by, **kw)


@compiles(json_array_agg, "sqlite")
def _json_array_agg_sqlite(element: json_array_agg, compiler: Any, **kw: Any) -> str:
    value, order_by = _aggregate_sql(element, compiler, **kw)
    return f"json_group_array({value} ORDER BY {order_by})"


@compiles(json_array_agg, "postgresql")
def _json_array_agg_pg(element: json_array_agg, compiler: Any, **kw: Any) -> str:
    # array_to_json writes the array compact ([1,2]); json_agg would space it ([1, 2])
    value, order_by = _aggregate_sql(element, compiler, **kw)
    return f"coalesce(array_to_json(array_agg({value} ORDER BY {order_by})), '[]'::json)"


def _pairs(element: json_object, compiler: Any, **kw: Any) -> list[tuple[str, str]]:
    out = []
    for key, value in zip(element.keys, element.clauses.clauses, strict=True):
        if not key.isidentifier():
            raise ValueError(f"not a plain key: {key!r}")
        out.append((key, compiler.process(value, **kw)))
    return out


@compiles(json_object, "sqlite")
def _json_object_sqlite(element: json_object, compiler: Any, **kw: Any) -> str:
    pairs = ", ".join(f"'{key}', {value}" for key, value in _pairs(element, compiler, **kw))
    return f"json_object({pairs})"


@compiles(json_object, "postgresql")
def _json_object_pg(element: json_object, compiler: Any, **kw: Any) -> str:
    # row_to_json of a row whose columns are named by the keys: compact JSON ({"id":1}), keys in
    # this order; json_build_object would space it ({"id" : 1}), and the change feed stores
    # the records' JSON compact (as json_text writes it).
    pairs = _pairs(element, compiler, **kw)
    columns = ", ".join(f'{value} AS "{key}"' for key, value in pairs)
    return f"(SELECT row_to_json(json_object_row) FROM (SELECT {columns}) AS json_object_row)"


def columns_for(shape: Shape, stmt: Select[Any]) -> Select[Any]:
    """`stmt` with only the columns of `shape`, in its order (its joins and filters kept)."""
    by_name = {c.key: c for c in stmt.selected_columns}
    missing = [f for f in shape.fields if f not in by_name]
    if missing:
        raise TypeError(f"{shape.model.__name__}: no column in the SELECT for {missing}")
    return stmt.with_only_columns(*(by_name[f] for f in shape.fields))


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_DUMPS_OPTIONS)


def page_bytes(items: list[dict[str, Any]], total: int, next_cursor: str | None) -> bytes:
    return dumps({"items": items, "total": total, "next_cursor": next_cursor})


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in placeholder order (qmark), or None (named)
    defaults: dict[str, Any]  # the statement's own parameter values, as the driver takes them
    callables: dict[str, Callable[[], Any]]  # parameters evaluated when the statement runs
    sqlite: bool

    def params(self, values: dict[str, Any]) -> Any:
        sqlite = self.sqlite
        given = {k: _raw_param(v, sqlite) for k, v in values.items()}
        for k, fn in self.callables.items():
            given[k] = _raw_param(fn(), sqlite)
        if self.order is None:
            return {**self.defaults, **given}
        defaults = self.defaults
        return tuple(given[k] if k in given else defaults[k] for k in self.order)


@dataclass
class RawQuery:
    """A SELECT compiled once per dialect to its SQL string, run on a raw DB-API cursor.

    Run-time parameters are the statement's value-less `bindparam`s, by name;
    values a bind processor would change are converted by `_raw_param` (dates
    for SQLite, enums to their values). The statement's own literal values are
    bound as compiled, and callable ones (today's date) evaluated on each run.
    """

    stmt: Select[Any]
    _compiled: dict[str, _Compiled] = field(default_factory=dict)

    def compiled(self, dialect: Dialect) -> _Compiled:
        hit = self._compiled.get(dialect.name)
        if hit is None:
            compiled = self.stmt.compile(dialect=dialect)
            # The statement's own expanding IN lists (constants) are expanded once, with
            # placeholders for the parameters given at run time.
            run_time = {
                b.key: None
                for b in visitors.iterate(self.stmt)
                if isinstance(b, BindParameter) and b.value is None and b.callable is None
            }
            state = compiled.construct_expanded_state(run_time)
            order = tuple(state.positiontup or ()) if compiled.positional else None
            callables = {k: b.callable for k, b in compiled.binds.items() if b.callable is not None}
            sqlite = dialect.name == "sqlite"
            defaults = {k: _raw_param(v, sqlite) for k, v in state.parameters.items()}
            hit = _Compiled(state.statement, order, defaults, callables, sqlite)
            self._compiled[dialect.name] = hit
        return hit

    def params(self, dialect: Dialect, values: dict[str, Any]) -> Any:
        return self.compiled(dialect).params(values)

    def key(self, dialect: Dialect, values: dict[str, Any]) -> tuple[str, Any]:
        """The SQL and its parameters, hashable: what the result depends on, besides the data."""
        c = self.compiled(dialect)
        params = c.params(values)
        return c.sql, tuple(sorted(params.items())) if isinstance(params, dict) else params

    def run(self, cur: Any, dialect: Dialect, **values: Any) -> list[Any]:
        c = self.compiled(dialect)
        cur.execute(c.sql, c.params(values))
        rows: list[Any] = cur.fetchall()
        return rows

    async def arun(self, conn: Any, dialect: Dialect, **values: Any) -> list[Any]:
        """`run` on an asyncio psycopg connection."""
        c = self.compiled(dialect)
        cur = await conn.execute(c.sql, c.params(values))
        rows: list[Any] = await cur.fetchall()
        return rows


@dataclass(frozen=True)
class OneStatement(Generic[T]):
    """A read that is one SELECT: its rows, then what `finish` makes of them (or raises)."""

    query: RawQuery
    values: dict[str, Any]
    finish: Callable[[list[Any]], T]

    def reader(self, dialect: Dialect) -> Callable[[Any], T]:
        """The read on a DB-API cursor."""
        return lambda cur: self.finish(self.query.run(cur, dialect, **self.values))


def _raw_param(value: Any, sqlite: bool) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if sqlite and isinstance(value, dt.date):
        return value.isoformat()
    return value


@contextmanager
def raw_cursor(engine: Engine, one_statement: bool = False) -> Iterator[Any]:
    """A DB-API cursor on a pooled connection, in one read transaction (one snapshot).

    `one_statement`: the caller runs a single statement, which is a snapshot of its own. On
    PostgreSQL it then runs in autocommit mode: psycopg sends no BEGIN before it and there is
    no ROLLBACK after it, two round trips fewer (of three). The connection goes back to the
    pool as it came (not autocommit), or is dropped if that cannot be restored.
    """
    conn = engine.raw_connection()
    try:
        sqlite = engine.dialect.name == "sqlite"
        autocommit = one_statement and not sqlite
        if autocommit:
            conn.driver_connection.autocommit = True  # type: ignore[union-attr]
        cur = conn.cursor()
        if sqlite:  # the driver's own transaction handling is off (app.db): BEGIN ourselves
            cur.execute("BEGIN")
        try:
            yield cur
        finally:
            if sqlite:
                cur.execute("COMMIT")
            elif autocommit:
                try:
                    conn.driver_connection.autocommit = False  # type: ignore[union-attr]
                except Exception:  # a broken connection (the error on its way up says why)
                    conn.invalidate()  # not back into the pool
            else:
                conn.rollback()  # a read: nothing to keep
            cur.close()
    finally:
        conn.close()


_NO_VALUE: Any = object()


@dataclass(frozen=True)
class Filter:
    name: str  # the parameter's name; with the value, part of the key of the cached SQL
    build: Callable[..., ColumnElement[bool]]  # (bindparam) -> clause, or () -> clause
    value: Any = _NO_VALUE
    # A filter of several parameters (add_params): their names and values, in the order `build`
    # takes their bind parameters; `name` is then the filter's alone.
    params: tuple[tuple[str, Any], ...] = ()


@dataclass
class Filters:
    """The WHERE of a list request as named parts, each with its value as a parameter.

    The SQL of a page is compiled once per set of filter names (and sort, and
    whether a cursor is given): the clauses are built only then, with bind
    parameters named after the filters, and later requests only bind values.
    A filter without a value (`add_fixed`) is a constant clause: its name must
    then say everything that distinguishes it (e.g. `progress=overdue`).
    """

    items: list[Filter] = field(default_factory=list)

    def add(self, name: str, build: Callable[[Any], ColumnElement[bool]], value: Any) -> None:
        self.items.append(Filter(name, build, value))

    def add_fixed(self, name: str, build: Callable[[], ColumnElement[bool]]) -> None:
        self.items.append(Filter(name, build))

    def add_params(self, name: str, build: Callable[..., ColumnElement[bool]], **values: Any) -> None:
        """One clause of several parameters (`build` takes their bind parameters in the order of
        `values`, whose names are the parameters'): e.g. a range, as one condition."""
        self.items.append(Filter(name, build, params=tuple(values.items())))

    def key(self) -> tuple[Any, ...]:
        """What the SQL depends on: each filter's name and the code that builds its clause (two
        routes may give the same name to different clauses)."""
        return tuple((f.name, getattr(f.build, "__code__", f.build)) for f in self.items)

    def clauses(self) -> list[ColumnElement[bool]]:
        return [f.build(*(bindparam(name) for name, _ in self._params(f))) for f in self.items]

    def bound_clauses(self) -> list[ColumnElement[bool]]:
        """The clauses with their values bound (for statements run through SQLAlchemy; each
        parameter unique, so that clauses of several Filters can share a statement)."""
        return [
            f.build(*(bindparam(name, value, unique=True) for name, value in self._params(f)))
            for f in self.items
        ]

    def values(self) -> dict[str, Any]:
        return {name: value for f in self.items for name, value in self._params(f)}

    @staticmethod
    def _params(f: Filter) -> tuple[tuple[str, Any], ...]:
        if f.params:
            return f.params
        return () if f.value is _NO_VALUE else ((f.name, f.value),)


def json_response(body: bytes) -> Response:
    """The 200 answer of a GET on the fast path, with its ETag (the hash of the body).

    The ETag is the one app.etag's middleware would compute, made here in the
    worker thread rather than on the event loop; the middleware then only
    compares it with If-None-Match. For a single record it is also the tag
    writes check If-Match against (app.etag.record_etag: the same JSON).
    """
    return Response(
        body, media_type=JSON_MEDIA_TYPE, headers={"ETag": etag_for(body), "Cache-Control": "no-cache"}
    )
