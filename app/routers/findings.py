"""GET /findings and /findings/{ref}: the positive findings meetings reported."""

from app.models.finding import FindingPublic
from app.resources import FINDINGS
from app.routers.meeting_records import meeting_records_router

router = meeting_records_router(FINDINGS, FindingPublic, "findings")
