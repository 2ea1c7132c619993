"""GET /shortcomings and /shortcomings/{ref}: the problems meetings found."""

from app.models.shortcoming import ShortcomingPublic
from app.resources import SHORTCOMINGS
from app.routers.meeting_records import meeting_records_router

router = meeting_records_router(SHORTCOMINGS, ShortcomingPublic, "shortcomings", addressed=True)
