"""SQLModel tables and API models, one module per resource."""

from app.models.apikey import ApiKey
from app.models.directive import Directive
from app.models.document import Document, MeetingDocument
from app.models.finding import Finding
from app.models.idempotency import IdempotentRequest
from app.models.meeting import Meeting
from app.models.participant import Participant
from app.models.person import Person
from app.models.search import SearchDocument
from app.models.shortcoming import Shortcoming

__all__ = [
    "ApiKey",
    "Directive",
    "Document",
    "Finding",
    "IdempotentRequest",
    "Meeting",
    "MeetingDocument",
    "Participant",
    "Person",
    "SearchDocument",
    "Shortcoming",
]
