"""Regression tests for what the Schemathesis runs (tests/test_schemathesis.py) found: plain
tests, in every back end's run."""

from __future__ import annotations


def test_list_page_sql_is_each_back_ends_own() -> None:
    # The SQL of a list page was kept per shape of request but not per back end: a process
    # that served SQLite and then PostgreSQL (the Schemathesis run does) sent the SQLite
    # statement of a ?q= filter (FTS5's MATCH) to PostgreSQL, a 500 there.
    from sqlalchemy.dialects import postgresql, sqlite

    from app.deps import _page_queries, _q_filter
    from app.fastread import Filters
    from app.resources import DIRECTIVES

    resolved = DIRECTIVES.sorting.resolve(None)
    keys = [DIRECTIVES.sorting.keys[n] for n, _ in resolved]
    descs = [d for _, d in resolved]
    sort = ",".join(("-" if d else "") + n for n, d in resolved)
    sql = {}
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        where = Filters()
        _q_filter(where, dialect.name, DIRECTIVES, "đăng ký")
        page, count = _page_queries(dialect.name, DIRECTIVES, where, sort, keys, descs, False)
        sql[dialect.name] = (page.compiled(dialect).sql, count.compiled(dialect).sql)
    assert all("MATCH" in s for s in sql["sqlite"])
    assert all("@@" in s and "MATCH" not in s for s in sql["postgresql"])
