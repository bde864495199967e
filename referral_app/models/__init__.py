"""The tables. Importing this package registers every model on the metadata."""

from referral_app.models.audit import AuditEvent
from referral_app.models.notification import (
    ChildMerge,
    Notification,
    NotificationKind,
    OutboxEmail,
)
from referral_app.models.organisation import Organisation, OrganisationKind
from referral_app.models.page_state import FormSubmission, SavedSearch
from referral_app.models.referral import (
    Child,
    ConsentStatus,
    IdempotencyRecord,
    LawfulBasis,
    Note,
    NoteKind,
    NoteVisibility,
    Outcome,
    ReferenceCounter,
    Referral,
    ReferralStatus,
    RiskFactor,
    RiskLevel,
    Share,
    StatusChange,
    TransitionAction,
    overdue_at,
)
from referral_app.models.types import UTCDateTime, utcnow
from referral_app.models.user import AuthSession, Role, SessionKind, User, UserRole

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Child",
    "ChildMerge",
    "ConsentStatus",
    "FormSubmission",
    "IdempotencyRecord",
    "LawfulBasis",
    "Note",
    "NoteKind",
    "NoteVisibility",
    "Notification",
    "NotificationKind",
    "Organisation",
    "OrganisationKind",
    "OutboxEmail",
    "Outcome",
    "ReferenceCounter",
    "Referral",
    "ReferralStatus",
    "RiskFactor",
    "RiskLevel",
    "Role",
    "SavedSearch",
    "SessionKind",
    "Share",
    "StatusChange",
    "TransitionAction",
    "UTCDateTime",
    "User",
    "UserRole",
    "overdue_at",
    "utcnow",
]
