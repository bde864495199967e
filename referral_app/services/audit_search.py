"""Searching the audit trail in words people use: the actions by name, a
person, an agency, a referral by its reference and a range of UK dates,
turned into the `audit.EventFilters` the trail is read with; and the names
an events page shows in place of ids.

The reading itself (scoped to what the viewer may see, and audited) stays in
`services.audit.list_events`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import AuditEvent, Organisation, Referral, Role, User
from referral_app.services import audit, users
from referral_app.services.audit import EventFilters
from referral_app.services.errors import Invalid, NotFound
from referral_app.services.lifecycle import Action
from referral_app.services.scoping import Relation, get_held_referral, relations

UK = ZoneInfo("Europe/London")

_TRANSITIONS = {
    Action.SUBMIT: "Referral submitted",
    Action.WITHDRAW: "Referral withdrawn",
    Action.ACCEPT: "Referral accepted",
    Action.DECLINE: "Referral declined",
    Action.ASSIGN: "Referral assigned",
    Action.CLOSE: "Referral closed",
    Action.REOPEN: "Referral reopened",
}

# Every action the application records, with what to call it. A new action
# needs its words here (tests/blueprints/web/test_admin_forms.py reads the
# code for the actions recorded and fails on one without a label).
ACTIONS: dict[str, str] = {
    "access.denied": "Access refused",
    "action.list": "Actions worklist read",
    "access.not_found": "Record not found or not held",
    "audit.read": "Audit trail read",
    "audit.verify": "Audit trail verified",
    "auth.login": "Signed in",
    "auth.login_failed": "Sign-in failed",
    "auth.logout": "Signed out",
    "auth.session_started": "Session started",
    "auth.throttled": "Too many attempts",
    "auth.token_created": "API token created",
    "auth.token_revoked": "API token revoked",
    "child.create": "Child record created",
    "child.export": "Child's records exported (subject access)",
    "child.match": "Search for a child",
    "child.merge": "Child records merged",
    "child.read": "Child record read",
    "event.delivered": "Event sent to an agency's system (webhook)",
    "event.feed_read": "Events read (the pull feed)",
    "event_subscription.changed": "Event subscription changed",
    "event_subscription.created": "Event subscription added",
    "event_subscription.deleted": "Event subscription removed",
    "event_subscription.disabled": "Event subscription turned off after repeated failure",
    "event_subscription.enabled": "Event subscription turned back on",
    "event_subscription.secret_rotated": "Event subscription's signing secret changed",
    "child.rectify": "Child record corrected",
    "directory.import": "Service directory imported",
    "child.unmerge": "Child records separated again",
    "demo.referrals_loaded": "Demo data loaded",
    "meeting.agenda_added": "Referral put on a meeting's agenda",
    "meeting.agenda_carried_forward": "Children on review carried to the next meeting",
    "meeting.attendance_recorded": "Meeting attendance recorded",
    "meeting.convened": "Meeting convened",
    "meeting.invited": "Agency invited to a meeting",
    "meeting.item_recorded": "Meeting decision recorded",
    "meeting.list": "Meetings list read",
    "meeting.read": "Meeting read",
    "organisation.create": "Organisation added",
    "referral.access_log_read": "Referral access log read",
    "referral.action_added": "Action added",
    "referral.action_closed": "Action completed or cancelled",
    "referral.actions_read": "Actions read",
    "referral.chronology_read": "Chronology read",
    "referral.child_changed": "Referral moved to another child record",
    "referral.consent_decided": "Decision on a share after consent was withdrawn",
    "referral.consent_read": "Consent history read",
    "referral.consent_recorded": "Change in consent recorded",
    "referral.create": "Referral created",
    "referral.create_replayed": "Referral creation sent again",
    "referral.history_read": "Referral history read",
    "referral.legal_hold_lifted": "Legal hold lifted",
    "referral.legal_hold_set": "Legal hold set",
    "referral.list": "Referral list read",
    "referral.note_added": "Note added",
    "referral.note_marked": "Note marked significant (or unmarked)",
    "referral.notes_read": "Notes read",
    "referral.read": "Referral read",
    "referral.screening_completed": "Screening completed",
    "referral.screening_judged": "Screening judgement recorded",
    "referral.screenings_read": "Screenings read",
    "referral.document_added": "Document uploaded",
    "referral.documents_read": "Documents listed",
    "referral.document_read": "Document details read",
    "referral.document_downloaded": "Document downloaded",
    "referral.fhir_exported": "Referral exported as FHIR",
    "referral.search": "Referrals searched",
    "referral.search_saved": "Search kept for its results pages",
    "referral.share_revoked": "Share revoked",
    "referral.shared": "Referral shared",
    "referral.shared_without_agreement": "Referral shared without an information sharing agreement",
    "agreement.list": "Information sharing agreements listed",
    "agreement.read": "Information sharing agreement read",
    "agreement.created": "Information sharing agreement recorded",
    "agreement.updated": "Information sharing agreement changed",
    "agreement.document_added": "Signed information sharing agreement uploaded",
    "agreement.document_downloaded": "Signed information sharing agreement downloaded",
    "report.agreements": "Shares per information sharing agreement reported",
    "referral.shares_read": "Shares read",
    "referral.update": "Referral changed",
    **{f"referral.{action}": words for action, words in _TRANSITIONS.items()},
    "report.csv_export": "Referrals exported as CSV",
    "report.screening_themes": "Screening indicators counted by theme",
    "report.summary": "Report read",
    "retention.anonymised": "Referral anonymised (retention)",
    "system.create": "System account registered",
    "system.update": "System account changed",
    "system.secret_rotated": "System account secret rotated",
    "system.secret_retired": "System account secret retired",
    "system.revoke": "System account revoked",
    "system.token_issued": "System account token issued",
    "system.token_refused": "System account token refused",
    "sso.linked": "Account linked to the agency's identity provider (single sign-on)",
    "sso.provider_saved": "Single sign-on settings saved",
    "sso.provider_removed": "Single sign-on settings removed",
    "user.create": "User added",
    "user.enrolment_code_issued": "Enrolment code issued",
    "user.password_changed": "Password changed",
    "user.signed_out_everywhere": "Signed out everywhere",
    "user.totp_enabled": "Authenticator app set up",
    "user.update": "User changed",
}


def action_label(action: str) -> str:
    """What to call an action; its name when it has no words (an older event)."""
    return ACTIONS.get(action, action)


def action_choices() -> list[tuple[str, str]]:
    """(name, words) for every known action, by its words."""
    return sorted(ACTIONS.items(), key=lambda item: item[1])


def may_filter_by_agency(viewer: User) -> bool:
    """Only a system admin reads more than one agency's events."""
    return viewer.has_role(Role.SYSTEM_ADMIN)


def agencies_to_choose(viewer: User) -> list[Organisation]:
    """Every agency, by name, for a system admin; none for anyone else."""
    if not may_filter_by_agency(viewer):
        return []
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def people_to_choose(viewer: User, most: int) -> list[User] | None:
    """The people the viewer may filter by (their agency's, or everyone for
    a system admin), by name; None when there are more than `most` (the
    page asks for an email address instead of offering a list)."""
    listed = users.list_users(viewer, page=1, page_size=most)
    return listed.users if listed.total <= most else None


@dataclass
class PageFilters:
    """What an audit page asks for, as the viewer gave it (loaded by
    schemas.audit.AuditPageQuerySchema)."""

    actor: uuid.UUID | None = None
    email: str | None = None
    organisation: uuid.UUID | None = None
    action: str | None = None
    reference: str | None = None
    record: str | None = None
    since: date | None = None
    until: date | None = None


def event_filters(viewer: User, asked: PageFilters) -> EventFilters | None:
    """The filters for `list_events`, or None when they can match no event
    (a referral reference that names no referral: no events, not an error).

    Refuses (Invalid, every field at fault in one round): a person the viewer
    may not see or who does not exist (the same words for both), an email
    address nobody the viewer may see has, an agency from anyone but a system
    admin or one that does not exist, and an action that is not recorded."""
    refused: dict[str, list[str]] = {}
    actor_id: uuid.UUID | None = None
    if asked.actor is not None:
        actor_id = _visible_person(viewer, asked.actor)
        if actor_id is None:
            refused["actor"] = ["Select a person from the list."]
    if asked.email is not None:
        found = users.find_by_email(viewer, asked.email)
        if found is None:
            refused["email"] = ["No one you can see in the audit trail has this email address."]
        elif actor_id is not None and found.id != actor_id:
            refused["email"] = ["This is not the email address of the person selected."]
        else:
            actor_id = found.id
    if asked.organisation is not None:
        if not may_filter_by_agency(viewer):
            refused["organisation"] = ["You can only see the events of your own agency."]
        elif db.session.get(Organisation, asked.organisation) is None:
            refused["organisation"] = ["Select an agency from the list."]
    if asked.action is not None and asked.action not in ACTIONS:
        refused["action"] = ["Select an action from the list."]
    if refused:
        raise Invalid("Some filters are not valid.", refused)
    record_type, record_id = None, asked.record
    if asked.reference is not None:
        referral_id = db.session.scalar(
            select(Referral.id).where(Referral.reference == asked.reference.upper())
        )
        if referral_id is None or (record_id is not None and record_id != str(referral_id)):
            return None
        record_type, record_id = "referral", str(referral_id)
    return EventFilters(
        actor_user_id=actor_id,
        organisation_id=asked.organisation,
        action=asked.action,
        record_type=record_type,
        record_id=record_id,
        since=start_of_uk_day(asked.since) if asked.since else None,
        until=start_of_uk_day(asked.until + timedelta(days=1)) if asked.until else None,
    )


def start_of_uk_day(day: date) -> datetime:
    """Midnight of `day` in the UK (GMT or BST), as an aware time."""
    return datetime.combine(day, time(), tzinfo=UK)


def _visible_person(viewer: User, person_id: uuid.UUID) -> uuid.UUID | None:
    try:
        return users.get_user(viewer, person_id).id
    except NotFound:
        return None


@dataclass(frozen=True)
class EventNames:
    """Who did it, from which agency, and which referral, by name."""

    people: dict[uuid.UUID, User]
    organisations: dict[uuid.UUID, Organisation]
    references: dict[str, str]

    def person(self, event: AuditEvent) -> User | None:
        return self.people.get(event.actor_user_id) if event.actor_user_id else None

    def organisation(self, event: AuditEvent) -> Organisation | None:
        if event.actor_organisation_id is None:
            return None
        return self.organisations.get(event.actor_organisation_id)

    def record_person(self, event: AuditEvent) -> User | None:
        """The user an event is about, for an event about a user."""
        if event.record_type != "user" or event.record_id is None:
            return None
        found = _uuid(event.record_id)
        return self.people.get(found) if found else None

    def reference(self, event: AuditEvent) -> str | None:
        if event.record_type != "referral" or event.record_id is None:
            return None
        return self.references.get(event.record_id)


def names_for(events: Iterable[AuditEvent]) -> EventNames:
    """The people (who acted, and whom an event about a user is about),
    agencies and referral references a page of events names (three reads,
    whatever the page's length). A reference names a referral; it shows
    nothing about the child."""
    events = list(events)
    person_ids = {event.actor_user_id for event in events if event.actor_user_id} | {
        found
        for event in events
        if event.record_type == "user" and event.record_id and (found := _uuid(event.record_id))
    }
    organisation_ids = {
        event.actor_organisation_id for event in events if event.actor_organisation_id
    }
    referral_ids = {
        _uuid(event.record_id)
        for event in events
        if event.record_type == "referral" and event.record_id
    } - {None}
    people = (
        {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(person_ids)))}
        if person_ids
        else {}
    )
    organisations = (
        {
            organisation.id: organisation
            for organisation in db.session.scalars(
                select(Organisation).where(Organisation.id.in_(organisation_ids))
            )
        }
        if organisation_ids
        else {}
    )
    references = (
        {
            str(referral_id): reference
            for referral_id, reference in db.session.execute(
                select(Referral.id, Referral.reference).where(Referral.id.in_(referral_ids))
            )
        }
        if referral_ids
        else {}
    )
    return EventNames(people, organisations, references)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AccessLogEntry:
    seq: int | None  # None until the sequencer has sealed the event
    occurred_at: datetime
    action: str
    outcome: str
    actor: User | None
    actor_organisation: Organisation | None


def access_log(actor: User, referral_id: uuid.UUID) -> list[AccessLogEntry]:
    """Who read or changed a referral, when, from which agency (newest first,
    at most 1,000 entries): for managers and auditors of an agency that holds
    it (NotFound otherwise)."""
    referral = get_held_referral(actor, referral_id)
    query = (
        select(AuditEvent, User, Organisation)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .outerjoin(Organisation, Organisation.id == AuditEvent.actor_organisation_id)
        .where(AuditEvent.record_type == "referral", AuditEvent.record_id == str(referral.id))
    )
    if not relations(actor, referral) & {Relation.REFERRING, Relation.RECEIVING}:
        # An agency that holds it through a share sees its own people's
        # reads and changes: not who else holds it, nor their staff.
        query = query.where(AuditEvent.actor_organisation_id == actor.organisation_id)
    rows = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(1000)).all()
    audit.record("referral.access_log_read", actor, record_type="referral", record_id=referral.id)
    return [
        AccessLogEntry(event.seq, event.occurred_at, event.action, event.outcome, user, org)
        for event, user, org in rows
    ]
