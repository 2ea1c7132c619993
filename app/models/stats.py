"""GET /stats: the counts a dashboard needs, in one response."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import examples
from app.seed_schema import AssigneeRole


class StatsTotals(BaseModel):
    meetings: int
    directives: int
    shortcomings: int
    shortcomings_unaddressed: int = Field(description="Shortcomings no directive `addresses` yet.")
    findings: int
    assignees: int
    reviews: int


class AssigneeCount(BaseModel):
    kind: Literal["organization", "person"]
    name: str = Field(description="The organization as first written, or the person's full name.")
    person_id: int | None = Field(description="The person's id; null for an organization.")
    role: AssigneeRole
    directives: int = Field(description="Directives with this assignee in this role.")


class MonthCount(BaseModel):
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM of the meeting date.")
    meetings: int


class StatsPublic(BaseModel):
    """Counts over the meetings the filters select (all meetings without filters)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.STATS]})

    totals: StatsTotals
    directives_by_status: dict[str, int] = Field(description="Every status, zero included.")
    directives_by_progress: dict[str, int] = Field(
        description="Every follow-up category (Decision 42/2014/QĐ-TTg), zero included; "
        "cancelled directives have none."
    )
    directives_by_assignee: list[AssigneeCount] = Field(
        description="The (assignee, role) pairs with the most directives, `assignee_limit` at most: "
        "most directives first, then by name (folded) and role."
    )
    directives_by_assignee_total: int = Field(
        description="(Assignee, role) pairs in all, those beyond `assignee_limit` included."
    )
    meetings_by_month: list[MonthCount] = Field(description="Months with meetings, oldest first.")
