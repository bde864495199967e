"""The tables. Importing this package registers every model on the metadata."""

from referral_app.models.audit import AuditEvent
from referral_app.models.meeting import (
    ON_REVIEW,
    Action,
    ActionStatus,
    AgendaDecision,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingInvitation,
)
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
    ConsentDecision,
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
    SpecialCategoryCondition,
    StatusChange,
    TransitionAction,
    overdue_at,
)
from referral_app.models.screening import Screening
from referral_app.models.types import UK, UTCDateTime, uk_today, utcnow
from referral_app.models.user import AuthSession, Role, SessionKind, User, UserRole

__all__ = [
    "ON_REVIEW",
    "UK",
    "Action",
    "ActionStatus",
    "AgendaDecision",
    "AgendaItem",
    "Attendance",
    "AuditEvent",
    "AuthSession",
    "Child",
    "ChildMerge",
    "ConsentDecision",
    "ConsentStatus",
    "FormSubmission",
    "IdempotencyRecord",
    "LawfulBasis",
    "Meeting",
    "MeetingInvitation",
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
    "Screening",
    "SessionKind",
    "Share",
    "SpecialCategoryCondition",
    "StatusChange",
    "TransitionAction",
    "UTCDateTime",
    "User",
    "UserRole",
    "overdue_at",
    "uk_today",
    "utcnow",
]

# Issue 16 and 17 domains: each module registers its own tables when imported.
from referral_app.models import agreement as agreement
from referral_app.models import consent as consent
from referral_app.models import directory as directory
from referral_app.models import document as document
from referral_app.models import event as event
from referral_app.models import sso as sso
from referral_app.models import system_account as system_account
from referral_app.models.directory import DirectoryService, DirectoryServiceStatus  # noqa: F401
from referral_app.models.system_account import SystemAccount, SystemSecret  # noqa: F401
from referral_app.models.user import UserKind  # noqa: F401
