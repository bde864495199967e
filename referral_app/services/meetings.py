"""Multi-agency child exploitation (MACE) meetings: convened by one agency,
with the agencies it invites; their attendance; the next meeting, which
carries forward the children still on review.

A meeting exists for the agencies taking part (the convening agency and
those invited) and for nobody else (NotFound). Its agenda is a list of
referrals (services.meeting_agenda): each agency taking part sees the
details of the referrals it holds and, for the others, only that an item
is there ("a referral held by other agencies").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select

from referral_app.extensions import db
from referral_app.models import (
    ON_REVIEW,
    UK,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingInvitation,
    Organisation,
    Role,
    User,
    uk_today,
    utcnow,
)
from referral_app.services import audit, paging
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import organisation_holds

# A meeting is planned at most a year ahead, or recorded up to a year after.
FURTHEST = timedelta(days=366)
# A share for a meeting lasts until 30 days after it (issue 15).
SHARE_AFTER_MEETING = timedelta(days=30)


def _taking_part(organisation_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(MeetingInvitation.meeting_id).where(
        MeetingInvitation.organisation_id == organisation_id
    )


def get_meeting(actor: User, meeting_id: uuid.UUID) -> Meeting:
    """A meeting the actor's agency takes part in; NotFound otherwise."""
    meeting = db.session.scalar(
        select(Meeting).where(
            Meeting.id == meeting_id, Meeting.id.in_(_taking_part(actor.organisation_id))
        )
    )
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


@dataclass(frozen=True)
class MeetingPage:
    items: list[Meeting]
    total: int


def list_meetings(
    actor: User, *, upcoming: bool | None = None, page: int = 1, page_size: int = 25
) -> MeetingPage:
    """The meetings the actor's agency takes part in: upcoming ones soonest
    first, past ones (or all) latest first. Titles, dates and agencies only:
    no child's details."""
    now = utcnow()
    query = select(Meeting).where(Meeting.id.in_(_taking_part(actor.organisation_id)))
    if upcoming is True:
        query = query.where(Meeting.held_at >= now).order_by(Meeting.held_at, Meeting.id)
    else:
        if upcoming is False:
            query = query.where(Meeting.held_at < now)
        query = query.order_by(Meeting.held_at.desc(), Meeting.id)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(page_size).offset(paging.offset(page, page_size))))
    audit.record(
        "meeting.list",
        actor,
        record_type="meeting",
        record_ids=[meeting.id for meeting in items],
    )
    return MeetingPage(items, int(total or 0))


def day_has_come(meeting: Meeting) -> bool:
    """Whether the meeting's day (UK time) is today or past: from then on
    its attendance, decisions and actions can be recorded (minutes are
    often typed up as the meeting goes)."""
    return meeting.held_at.astimezone(UK).date() <= uk_today()


def invitations(meeting: Meeting) -> list[MeetingInvitation]:
    """The agencies taking part, the convening agency first, then by name."""
    found = db.session.scalars(
        select(MeetingInvitation)
        .join(Organisation, MeetingInvitation.organisation_id == Organisation.id)
        .where(MeetingInvitation.meeting_id == meeting.id)
        .order_by(
            (MeetingInvitation.organisation_id != meeting.convening_organisation_id),
            Organisation.name,
        )
    )
    return list(found)


def takes_part(meeting: Meeting, organisation_id: uuid.UUID) -> bool:
    return organisation_id in {invitation.organisation_id for invitation in invitations(meeting)}


def _check_convener(actor: User, meeting: Meeting | None = None) -> None:
    if not actor.has_role(Role.MANAGER):
        raise Forbidden("Only a manager can convene a meeting.")
    if meeting is not None and meeting.convening_organisation_id != actor.organisation_id:
        raise Forbidden("Only the agency that convened the meeting can change it.")


def _invited_refusal(actor: User, organisation_ids: Iterable[uuid.UUID]) -> str | None:
    wanted = set(organisation_ids) - {actor.organisation_id}
    if not wanted:
        return "Invite at least one other agency."
    active = set(
        db.session.scalars(
            select(Organisation.id).where(
                Organisation.id.in_(wanted), Organisation.active.is_(True)
            )
        )
    )
    if active != wanted:
        return "Invite active agencies only."
    return None


def convene(
    actor: User,
    *,
    title: str,
    held_at: datetime,
    invited_organisation_ids: list[uuid.UUID],
    online: bool = False,
    place: str | None = None,
    follows_id: uuid.UUID | None = None,
) -> Meeting:
    """Convene a meeting of the actor's agency with the agencies invited.
    With `follows_id` (a meeting the actor's agency convened), the new one
    also invites that meeting's agencies and carries forward the children
    still on review (items not closed, while the agency that put them on
    the agenda still holds the referral); the open actions of the referrals
    on its agenda show on it as they are (services.meeting_agenda).

    Refuses: a non-manager, or following another agency's meeting
    (Forbidden); an unknown or invisible meeting to follow (NotFound); no
    other agency, an inactive one, no place for a meeting not online, a date
    more than a year away, or not after the meeting it follows (Invalid)."""
    _check_convener(actor)
    previous = get_meeting(actor, follows_id) if follows_id is not None else None
    if previous is not None:
        _check_convener(actor, previous)
        invited_organisation_ids = sorted(
            {*invited_organisation_ids, *(i.organisation_id for i in invitations(previous))}
        )
    errors: dict[str, list[str]] = {}
    refusal = _invited_refusal(actor, invited_organisation_ids)
    if refusal:
        errors["invited_organisation_ids"] = [refusal]
    if not online and not place:
        errors["place"] = ["Say where the meeting is, or that it is online."]
    now = utcnow()
    if abs(held_at - now) > FURTHEST:
        errors["held_at"] = ["Within a year of today."]
    elif previous is not None and held_at <= previous.held_at:
        errors["held_at"] = ["After the meeting it follows."]
    if errors:
        raise Invalid("The meeting is not valid.", errors)
    meeting = Meeting(
        title=title,
        convening_organisation_id=actor.organisation_id,
        convened_by_id=actor.id,
        held_at=held_at,
        online=online,
        place=None if online else place,
        follows_id=previous.id if previous is not None else None,
        created_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    for organisation_id in {actor.organisation_id, *invited_organisation_ids}:
        db.session.add(MeetingInvitation(meeting_id=meeting.id, organisation_id=organisation_id))
    db.session.flush()
    audit.record(
        "meeting.convened",
        actor,
        record_type="meeting",
        record_id=meeting.id,
        record_ids=sorted(str(org) for org in invited_organisation_ids),
        fields=["title", "held_at", "online", "place", "invited_organisation_ids"],
    )
    if previous is not None:
        _carry_forward(actor, previous, meeting)
    return meeting


def _carry_forward(actor: User, previous: Meeting, meeting: Meeting) -> None:
    """The children still on review go onto the new agenda, in the old order."""
    carried: list[AgendaItem] = []
    old_items = db.session.scalars(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == previous.id)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    for old in old_items:
        if old.decision is not None and old.decision not in ON_REVIEW:
            continue
        if not organisation_holds(old.added_by_organisation_id, old.referral_id):
            continue  # the agency that put it there no longer holds it
        item = AgendaItem(
            meeting_id=meeting.id,
            referral_id=old.referral_id,
            position=len(carried) + 1,
            added_by_id=old.added_by_id,
            added_by_organisation_id=old.added_by_organisation_id,
            added_at=utcnow(),
            carried_from_id=old.id,
        )
        db.session.add(item)
        carried.append(item)
    db.session.flush()
    if carried:
        audit.record(
            "meeting.agenda_carried_forward",
            actor,
            record_type="meeting",
            record_id=meeting.id,
            record_ids=[item.id for item in carried],
        )


def invite(actor: User, meeting: Meeting, organisation_id: uuid.UUID) -> MeetingInvitation:
    """Invite one more agency to a meeting the actor's agency convened.
    Refuses a non-convener (Forbidden), an inactive or unknown agency
    (Invalid) and one already invited (Conflict)."""
    _check_convener(actor, meeting)
    refusal = _invited_refusal(actor, [organisation_id])
    if refusal:
        raise Invalid("The agency cannot be invited.", {"organisation_id": [refusal]})
    if takes_part(meeting, organisation_id):
        raise Conflict("This agency is already invited.")
    invitation = MeetingInvitation(meeting_id=meeting.id, organisation_id=organisation_id)
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "meeting.invited",
        actor,
        record_type="meeting",
        record_id=meeting.id,
        record_ids=[organisation_id],
        fields=["organisation_id"],
    )
    return invitation


@dataclass(frozen=True)
class AttendanceEntry:
    organisation_id: uuid.UUID
    attendance: Attendance
    attendees: str | None = None


def record_attendance(
    actor: User, meeting: Meeting, entries: list[AttendanceEntry]
) -> list[MeetingInvitation]:
    """Record which agencies attended (and who came), as the convening
    agency's minutes say. Refuses anyone but a manager of the convening
    agency (Forbidden), an agency not taking part, or one given twice
    (Invalid), and a meeting whose day has not come (Conflict)."""
    _check_convener(actor, meeting)
    if not day_has_come(meeting):
        raise Conflict("Record attendance on the day of the meeting or after it.")
    taking_part = {invitation.organisation_id: invitation for invitation in invitations(meeting)}
    given = [entry.organisation_id for entry in entries]
    if not entries or len(set(given)) != len(given) or not set(given) <= taking_part.keys():
        raise Invalid(
            "The attendance is not valid.",
            {"attendance": ["Give each agency taking part once, and only those."]},
        )
    for entry in entries:
        invitation = taking_part[entry.organisation_id]
        invitation.attendance = entry.attendance
        invitation.attendees = entry.attendees
    db.session.flush()
    audit.record(
        "meeting.attendance_recorded",
        actor,
        record_type="meeting",
        record_id=meeting.id,
        record_ids=[str(org) for org in given],
        fields=["attendance", "attendees"],
    )
    return list(taking_part.values())


def share_expiry(meeting: Meeting) -> datetime:
    """When a share for this meeting ends: the meeting's date plus 30 days."""
    return meeting.held_at + SHARE_AFTER_MEETING
