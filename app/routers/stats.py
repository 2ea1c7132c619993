"""GET /stats: counts for a dashboard, each one GROUP BY in SQL, in one response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, distinct, exists, func, select
from sqlalchemy.orm import Session

from app.db import SessionDep
from app.deps import DateFrom, DateTo, IdFilter
from app.models.directive import Progress
from app.models.stats import AssigneeCount, MonthCount, StatsPublic, StatsTotals
from app.openapi_docs import LIST
from app.resources import (
    addresses_t,
    assignee_t,
    directive_t,
    finding_t,
    meeting_t,
    person_t,
    progress_column,
    review_t,
    shortcoming_t,
)
from app.routers.filters import meeting_filters
from app.seed_schema import DirectiveStatus

router = APIRouter(tags=["stats"])


def _count(table: Any, where: Sequence[ColumnElement[bool]]) -> Any:
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


def _text_order(session: Session, column: Any) -> Any:
    """`column` in code-point order, as Python sorts strings: SQLite's default (BINARY) does;
    a PostgreSQL database's collation may not (ICU's en-US puts 'æ' before 'b')."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")
    return column


# The assignees a dashboard gets, most directives first. With every (assignee, role) pair, the
# answer for 1,000,000 generated directives held 136,746 of them: 13.7 MB, in 7.2-7.9 s on
# SQLite (4.7-4.9 s with the first 100) and 5.6-6.4 s on PostgreSQL (2.7 s).
ASSIGNEE_LIMIT_DEFAULT = 100
ASSIGNEE_LIMIT_MAX = 1000
AssigneeLimit = Annotated[
    int,
    Query(
        ge=1,
        le=ASSIGNEE_LIMIT_MAX,
        description="How many (assignee, role) pairs `directives_by_assignee` holds, those with "
        f"the most directives (default {ASSIGNEE_LIMIT_DEFAULT}, at most {ASSIGNEE_LIMIT_MAX}); "
        "`directives_by_assignee_total` counts them all.",
    ),
]


def _month(session: Session) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(meeting_t.c.date, "YYYY-MM")
    return func.strftime("%Y-%m", meeting_t.c.date)


@router.get("/stats", responses=LIST, summary="Counts for a dashboard, in one request")
def read_stats(
    session: SessionDep,
    meeting_id: IdFilter = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    assignee_limit: AssigneeLimit = ASSIGNEE_LIMIT_DEFAULT,
) -> StatsPublic:
    """Directives by status, by follow-up category (Decision 42/2014/QĐ-TTg, judged against
    today in Asia/Ho_Chi_Minh) and by assignee and role (the `assignee_limit` with the most);
    meetings by month; totals. The filters select meetings (by id, by date); every count is
    then over those meetings' records. The same answer on every back end."""

    def scope(table: Any) -> list[ColumnElement[Any]]:
        return meeting_filters(table, meeting_id, None, date_from, date_to).bound_clauses()

    meetings: list[ColumnElement[bool]] = []
    if meeting_id is not None:
        meetings.append(meeting_t.c.id == meeting_id)
    if date_from is not None:
        meetings.append(meeting_t.c.date >= date_from)
    if date_to is not None:
        meetings.append(meeting_t.c.date <= date_to)
    directives = scope(directive_t)
    scoped_directive_ids = select(directive_t.c.id).where(*directives)
    assignees = [assignee_t.c.directive_id.in_(scoped_directive_ids)] if directives else []
    shortcomings = scope(shortcoming_t)
    unaddressed = [*shortcomings, ~exists().where(addresses_t.c.shortcoming_id == shortcoming_t.c.id)]

    totals = session.execute(
        select(
            _count(meeting_t, meetings).label("meetings"),
            _count(directive_t, directives).label("directives"),
            _count(shortcoming_t, shortcomings).label("shortcomings"),
            _count(shortcoming_t, unaddressed).label("shortcomings_unaddressed"),
            _count(finding_t, scope(finding_t)).label("findings"),
            _count(assignee_t, assignees).label("assignees"),
            _count(review_t, scope(review_t)).label("reviews"),
        )
    ).one()

    by_status = {s.value: 0 for s in sorted(DirectiveStatus, key=lambda s: s.value)}
    rows = session.execute(
        select(directive_t.c.status, func.count()).where(*directives).group_by(directive_t.c.status)
    )
    by_status.update({DirectiveStatus(status).value: n for status, n in rows})

    # Grouped over a subquery: the CASE holds a parameter (today), which PostgreSQL would
    # not recognise as the same expression in GROUP BY.
    progress = select(progress_column()).where(*directives).subquery()
    by_progress = {p.value: 0 for p in sorted(Progress, key=lambda p: p.value)}
    rows = session.execute(
        select(progress.c.progress, func.count())
        .where(progress.c.progress.is_not(None))
        .group_by(progress.c.progress)
    )
    by_progress.update({str(p): n for p, n in rows})

    # Each query ranks its own groups in SQL and sends the first `assignee_limit`, with the
    # number of groups (a window over the grouped rows): the first `assignee_limit` of both
    # together are among those. The order is the one of the merge below.
    counts: list[tuple[tuple[Any, ...], AssigneeCount]] = []
    n_directives = func.count(distinct(assignee_t.c.directive_id))
    groups = func.count().over().label("groups")
    orgs = session.execute(
        select(
            assignee_t.c.organization_folded,
            assignee_t.c.role,
            n_directives,
            func.min(assignee_t.c.id),
            groups,
        )
        .where(assignee_t.c.organization_folded.is_not(None), *assignees)
        .group_by(assignee_t.c.organization_folded, assignee_t.c.role)
        .order_by(
            n_directives.desc(),
            _text_order(session, assignee_t.c.organization_folded),
            _text_order(session, assignee_t.c.role),
        )
        .limit(assignee_limit)
    ).all()
    n_groups = orgs[0][4] if orgs else 0
    # An organization is named as it was first written (its lowest id): the same on every back end.
    first = dict(
        session.execute(
            select(assignee_t.c.id, assignee_t.c.organization).where(
                assignee_t.c.id.in_([r[3] for r in orgs])
            )
        ).all()
    )
    for folded, role, n, first_id, _ in orgs:
        item = AssigneeCount(
            kind="organization", name=first[first_id], person_id=None, role=role, directives=n
        )
        counts.append(((-n, folded, role.value, 0), item))
    # Grouped by person and role first, from their index alone, then joined to the people's names.
    per_person = (
        select(assignee_t.c.person_id, assignee_t.c.role, n_directives.label("n"))
        .where(assignee_t.c.person_id.is_not(None), *assignees)
        .group_by(assignee_t.c.person_id, assignee_t.c.role)
        .subquery()
    )
    people = session.execute(
        select(
            per_person.c.person_id,
            person_t.c.full_name,
            person_t.c.name_folded,
            per_person.c.role,
            per_person.c.n,
            groups,
        )
        .join(person_t, person_t.c.id == per_person.c.person_id)
        .order_by(
            per_person.c.n.desc(),
            _text_order(session, person_t.c.name_folded),
            _text_order(session, per_person.c.role),
            per_person.c.person_id,
        )
        .limit(assignee_limit)
    ).all()
    n_groups += people[0][5] if people else 0
    for person_id, name, folded, role, n, _ in people:
        item = AssigneeCount(kind="person", name=name, person_id=person_id, role=role, directives=n)
        counts.append(((-n, folded, role.value, person_id), item))
    counts.sort(key=lambda c: c[0])

    month = select(_month(session).label("month")).where(*meetings).subquery()
    months = session.execute(select(month.c.month, func.count()).group_by(month.c.month)).all()

    return StatsPublic(
        totals=StatsTotals(**totals._mapping),
        directives_by_status=by_status,
        directives_by_progress=by_progress,
        directives_by_assignee=[item for _, item in counts[:assignee_limit]],
        directives_by_assignee_total=n_groups,
        meetings_by_month=[MonthCount(month=m, meetings=n) for m, n in sorted(months)],
    )
