"""The demo referrals: each story of services.demo_cases and
services.demo_closed_cases told through the services, by the demo people in
it (referrals.create_referral, lifecycle.transition, casework.add_note,
casework.share and revoke_share, notifications.mark_read), so the status
history, notifications, e-mail outbox and audit trail are the real ones.

The services stamp what they write with the time it is done; the stories
happened over the past ten weeks. `_backdate` is the one place that writes
a story's times onto what each step made or changed. It never touches the
audit trail: its events are sealed at commit, in order and with the time
the demo was loaded, like any others; the load itself is one more event
(LOADED), which also tells a second run that the referrals are there.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from referral_app.extensions import db
from referral_app.models import (
    AuditEvent,
    Child,
    Note,
    NoteVisibility,
    Notification,
    Organisation,
    Referral,
    Share,
    StatusChange,
    User,
    utcnow,
)
from referral_app.services import (
    agreements,
    audit,
    casework,
    demo_cases,
    demo_closed_cases,
    lifecycle,
    notifications,
    referrals,
)
from referral_app.services.demo_stories import CHILDREN, Step, Story

LOADED = "demo.referrals_loaded"
STORIES: list[Story] = [*demo_cases.STORIES, *demo_closed_cases.STORIES]
# The people of the stories (services.demo.DEMO_USERS has them all).
PEOPLE = {
    "sam": "referrer@essex-police.demo",
    "lewis": "manager@essex-police.demo",
    "priya": "manager@essex-yjs.demo",
    "tom": "caseworker@essex-yjs.demo",
    "grace": "manager@safer-futures.demo",
    "helen": "manager@essex-cc.demo",
}
UK = ZoneInfo("Europe/London")
# "29d 10:30": 29 days ago at 10:30 UK time; "3h": three hours ago.
WHEN = re.compile(r"(\d+)d (\d\d):(\d\d)|(\d+)h")
REASON_FOR_TRANSITION = frozenset({"withdraw", "decline", "reopen"})


def loaded() -> bool:
    """Whether the demo referrals were loaded (their load is in the audit trail)."""
    found = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == LOADED).limit(1))
    return found is not None


@dataclass(frozen=True)
class Cast:
    people: dict[str, User]
    agencies: dict[str, Organisation]
    now: datetime

    def when(self, text: str) -> datetime:
        """A story's time as a UTC time (see WHEN)."""
        match = WHEN.fullmatch(text)
        if match is None:
            raise ValueError(f"not a demo time: {text!r}")
        days, hour, minute, hours = match.groups()
        if hours is not None:
            return self.now - timedelta(hours=int(hours))
        day = self.now.astimezone(UK).date() - timedelta(days=int(days))
        local = datetime.combine(day, time(int(hour), int(minute)), tzinfo=UK)
        return local.astimezone(UTC)


def load_referrals() -> list[Referral]:
    """Tell every story, oldest first (so references follow the dates), then
    run the overdue sweep as `outbox send` would. Returns the referrals."""
    people = {
        key: db.session.scalars(select(User).where(User.email == email)).one()
        for key, email in PEOPLE.items()
    }
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    cast = Cast(people, agencies, utcnow())
    children: dict[str, uuid.UUID] = {}
    told = [
        _tell(story, cast, children)
        for story in sorted(STORIES, key=lambda story: cast.when(story.at))
    ]
    notifications.notify_overdue()
    audit.record(
        LOADED,
        None,
        record_type="referral",
        record_ids=[referral.id for referral in told],
        reason="Demo data: case times are back-dated up to ten weeks; these events are not.",
    )
    return told


def _tell(story: Story, cast: Cast, children: dict[str, uuid.UUID]) -> Referral:
    """Create the referral and take its steps, each by its person, in order."""
    last = min(cast.when(story.at), cast.now)
    with _made() as made:
        referral = referrals.create_referral(
            cast.people[story.by],
            receiving_organisation_id=cast.agencies[story.to].id,
            **_child(story.child, children, cast.now),
            **_fields(story),
        )
    _backdate(last, referral, made)
    children.setdefault(story.child, referral.child_id)
    for step in story.steps:
        # Never before the step it follows, never in the future.
        at = min(max(cast.when(step.at), last + timedelta(minutes=1)), cast.now)
        with _made() as made:
            changed = _take(step, cast.people[step.by or story.by], referral, cast, at)
        _backdate(at, referral, made, changed)
        last = at
    return referral


def _child(key: str, children: dict[str, uuid.UUID], now: datetime) -> dict[str, Any]:
    """The child's id when a referral already made their record; else their details."""
    if key in children:
        return {"child_id": children[key]}
    child = CHILDREN[key]
    return {
        "child": {
            "first_name": child.first_name,
            "last_name": child.last_name,
            "date_of_birth": date(now.year - child.years, child.month, child.day),
            "gender": child.gender,
            "address": child.address,
            "postcode": child.postcode,
            "school": child.school,
            "aliases": list(child.aliases),
        }
    }


def _fields(story: Story) -> dict[str, Any]:
    """The referral's fields the story fills in (a draft may leave some out)."""
    fields = {
        "reason": story.reason,
        "risk_level": story.risk,
        "risk_factors": sorted(str(factor) for factor in story.factors),
        "consent_status": story.consent,
        "consent_notes": story.consent_notes,
        "lawful_basis": story.basis,
    }
    return {name: value for name, value in fields.items() if value}


def _take(step: Step, actor: User, referral: Referral, cast: Cast, at: datetime) -> list[object]:
    """One step, through the service a person would use. The actor first
    reads their notifications about the referral. Returns the existing rows
    the step changed (for _backdate)."""
    changed: list[object] = list(_read_notifications(actor, referral))
    if step.action == "read":
        pass
    elif step.action == "note":
        assert step.kind is not None
        casework.add_note(
            actor,
            referral,
            kind=step.kind,
            body=step.text,
            visibility=NoteVisibility.SHARED if step.shared else NoteVisibility.INTERNAL,
            occurred_at=at,
        )
    elif step.action == "share":
        casework.share(
            actor,
            referral,
            organisation_id=cast.agencies[step.organisation].id,
            purpose=step.text,
            lawful_basis=step.basis,
            expires_at=cast.now + timedelta(days=step.days),
            **agreements.citation_for(
                actor.organisation_id,
                cast.agencies[step.organisation].id,
                step.basis,
                reason="Urgent safeguarding concern: no agreement covers this agency yet",
            ),
        )
    elif step.action == "revoke":
        grant = db.session.scalars(
            select(Share).where(
                Share.referral_id == referral.id,
                Share.organisation_id == cast.agencies[step.organisation].id,
                Share.revoked_at.is_(None),
            )
        ).one()
        changed.append(casework.revoke_share(actor, referral, grant.id))
    else:
        lifecycle.transition(
            actor,
            referral,
            lifecycle.Action(step.action),
            reason=step.text if step.action in REASON_FOR_TRANSITION else None,
            outcome=step.outcome,
            outcome_summary=step.text if step.action == "close" else None,
            assignee_id=cast.people[step.assignee].id if step.assignee else None,
        )
    return changed


def _read_notifications(actor: User, referral: Referral) -> list[Notification]:
    unread = list(
        db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == actor.id,
                Notification.referral_id == referral.id,
                Notification.read_at.is_(None),
            )
        )
    )
    for notification in unread:
        notifications.mark_read(actor, notification.id)
    return unread


@contextmanager
def _made() -> Iterator[list[object]]:
    """The rows the services add to the database inside the block."""
    made: list[object] = []
    session = db.session()

    def collect(_session: Session, instance: object) -> None:
        made.append(instance)

    event.listen(session, "pending_to_persistent", collect)
    try:
        yield made
    finally:
        event.remove(session, "pending_to_persistent", collect)


def _backdate(
    at: datetime, referral: Referral, made: Iterable[object], changed: Iterable[object] = ()
) -> None:
    """The only place the demo writes times directly: put `at`, the story's
    time of a step, on the rows the step made (`made`) or changed
    (`changed`) and on the referral's own times, as if the services had run
    then. The e-mail outbox keeps its times (its messages are queued now)."""
    for row in made:
        if isinstance(row, Child | Referral | Note | Notification):
            row.created_at = at
        elif isinstance(row, Share):
            row.granted_at = at
        elif isinstance(row, StatusChange):
            row.at = at
            if row.action == "submit":
                referral.submitted_at = at
                referral.triage_deadline = lifecycle.triage_deadline(referral, at)
            elif row.action in ("accept", "decline"):
                referral.triaged_at = at
            elif row.action == "close":
                referral.closed_at = at
    for row in changed:
        if isinstance(row, Share):
            row.revoked_at = at
        elif isinstance(row, Notification):
            row.read_at = at
    referral.updated_at = at
    db.session.flush()
