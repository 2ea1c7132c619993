"""SQLModel tables and API models, one module per resource."""

# ruff: noqa: E402  (the naming convention must be set before the tables are defined)
from sqlmodel import SQLModel

# Constraint names as PostgreSQL gives them by default, so that migrations can name them on both back ends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

from app.models.apikey import ApiKey
from app.models.change import Change
from app.models.directive import Directive, DirectiveEvent
from app.models.document import Document, MeetingDocument
from app.models.finding import Finding
from app.models.idempotency import IdempotentRequest
from app.models.links import DirectiveAssignee, DirectiveReview, DirectiveShortcoming
from app.models.meeting import Meeting
from app.models.participant import Participant
from app.models.person import Person
from app.models.search import SearchDocument
from app.models.shortcoming import Shortcoming

__all__ = [
    "ApiKey",
    "Change",
    "Directive",
    "DirectiveAssignee",
    "DirectiveEvent",
    "DirectiveReview",
    "DirectiveShortcoming",
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
