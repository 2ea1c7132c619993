"""Keyset (cursor) pagination with whitelisted, multi-key sorting.

A page is fetched with `WHERE (sort keys) > (values of the last row) ORDER BY
sort keys LIMIT n+1`, so page 10,000 costs what page 1 costs. The cursor is the
last row's sort values, base64url-encoded with the sort it belongs to.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from app.errors import InvalidParameter


def _identity(value: Any) -> Any:
    return value


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value)


def _int(value: Any) -> int:
    # Beyond 64 bits neither back end can take it as a parameter (a 500): not one of our cursors.
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise ValueError("not an integer")
    return value


def _str(value: Any) -> str:
    # No stored text holds a NUL (and PostgreSQL refuses one): no cursor we issue does.
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a string")
    return value


def _float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("not a number")
    return float(value)


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any]
    parse: Callable[[Any], Any] = _identity

    @staticmethod
    def integer(expr: Any) -> SortKey:
        return SortKey(expr, _int)

    @staticmethod
    def text(expr: Any) -> SortKey:
        return SortKey(expr, _str)

    @staticmethod
    def date(expr: Any) -> SortKey:
        return SortKey(expr, _date)

    @staticmethod
    def number(expr: Any) -> SortKey:
        return SortKey(expr, _float)


@dataclass(frozen=True)
class Sorting:
    """The sort keys a collection allows, the default, and the unique tiebreaker."""

    keys: dict[str, SortKey]
    default: str
    tiebreak: str = "id"

    def pattern(self) -> str:
        # Every sequence of distinct keys, so that the pattern takes exactly what resolve()
        # takes: a key given twice is an error.
        names = sorted(self.keys, key=len, reverse=True)
        specs = [
            ",".join(f"-?{name}" for name in chosen)
            for n in range(1, len(names) + 1)
            for chosen in itertools.permutations(names, n)
        ]
        return f"^(?:{'|'.join(specs)})$"

    def description(self) -> str:
        return (
            "Comma-separated sort keys, each at most once, `-` for descending; allowed: "
            + ", ".join(f"`{k}`" for k in self.keys)
            + f". Default `{self.default}`."
        )

    def resolve(self, sort: str | None) -> list[tuple[str, bool]]:
        spec = sort or self.default
        keys: list[tuple[str, bool]] = []
        seen: set[str] = set()
        for part in spec.split(","):
            desc = part.startswith("-")
            name = part.lstrip("-")
            if name not in self.keys:
                raise InvalidParameter("query.sort", f"unknown sort key {name!r}")
            if name in seen:
                raise InvalidParameter("query.sort", f"sort key {name!r} given twice")
            seen.add(name)
            keys.append((name, desc))
        if self.tiebreak not in seen:
            keys.append((self.tiebreak, keys[-1][1] if keys else False))
        return keys


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def encode_cursor(sort: str, values: Sequence[Any]) -> str:
    raw = json.dumps({"s": sort, "v": [_jsonable(v) for v in values]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keys: list[SortKey]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict) or not isinstance(data.get("v"), list):
            raise ValueError("malformed")
        if data.get("s") != sort:
            raise InvalidParameter("query.cursor", "the cursor was made for another sort order")
        values = data["v"]
        if len(values) != len(keys):
            raise ValueError("wrong length")
        return [key.parse(v) for key, v in zip(keys, values, strict=True)]
    except InvalidParameter:
        raise
    except (ValueError, TypeError, UnicodeError, binascii.Error, json.JSONDecodeError):
        raise InvalidParameter("query.cursor", "not a cursor this API issued") from None


def keyset_after(
    exprs: list[ColumnElement[Any]], descs: list[bool], values: list[Any]
) -> ColumnElement[bool]:
    if all(d == descs[0] for d in descs):
        # Each value bound with its column's type: untyped, a PostgreSQL enum column
        # (directive.status) met a VARCHAR and the comparison failed (a 500).
        typed = [
            v if isinstance(v, ColumnElement) else literal(v, type_=e.type)
            for e, v in zip(exprs, values, strict=True)
        ]
        left, right = tuple_(*exprs), tuple_(*typed)
        return left < right if descs[0] else left > right
    ors = []
    for i, (expr, desc) in enumerate(zip(exprs, descs, strict=True)):
        eqs = [exprs[j] == values[j] for j in range(i)]
        ors.append(and_(*eqs, expr < values[i] if desc else expr > values[i]))
    return or_(*ors)


@dataclass
class PageResult:
    rows: list[Any]  # Row tuples (the statement's columns, then the sort keys)
    total: int
    next_cursor: str | None


def paginate(
    session: Session | Connection,
    stmt: Select[Any],
    sorting: Sorting,
    *,
    sort: str | None,
    cursor: str | None,
    limit: int,
    count: Select[Any] | None = None,
) -> PageResult:
    """One page of `stmt`. `count` counts the same rows more cheaply (without the
    joins that only add columns); by default the page query itself is counted."""
    resolved = sorting.resolve(sort)
    sort_str = ",".join(("-" if d else "") + n for n, d in resolved)
    keys = [sorting.keys[n] for n, _ in resolved]
    exprs = [k.expr for k in keys]
    descs = [d for _, d in resolved]

    if count is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.execute(count).scalar_one()

    labelled = [e.label(f"_k{i}") for i, e in enumerate(exprs)]
    page = stmt.add_columns(*labelled)
    if cursor:
        page = page.where(keyset_after(exprs, descs, decode_cursor(cursor, sort_str, keys)))
    page = page.order_by(*[e.desc() if d else e.asc() for e, d in zip(exprs, descs, strict=True)])
    rows = list(session.execute(page.limit(limit + 1)).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]._mapping
        next_cursor = encode_cursor(sort_str, [last[f"_k{i}"] for i in range(len(exprs))])
    return PageResult(rows, total, next_cursor)
