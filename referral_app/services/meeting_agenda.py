"""A meeting's agenda: the referrals on it, what the meeting decided about
each and the actions agreed, and what each agency taking part may see of it.

Only an agency that holds a referral puts it on the agenda, and only the
agencies that hold it see it there: another agency taking part sees the
line as "a referral held by other agencies", with no details, unless a
holder shares the referral with it for the meeting (a share whose purpose
is the meeting and which ends 30 days after it, recorded like any share).
A decision and the actions agreed are recorded by an agency taking part
that holds the referral; an action goes to an agency taking part that
holds it (services.actions).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import (
    Action,
    ActionStatus,
    AgendaDecision,
    AgendaItem,
    LawfulBasis,
    Meeting,
    MeetingInvitation,
    Referral,
    ReferralStatus,
    RiskLevel,
    Share,
    User,
    utcnow,
)
from referral_app.models.types import UK
from referral_app.services import actions, agreements, audit, casework
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.meetings import day_has_come, invitations, share_expiry, takes_part
from referral_app.services.scoping import get_held_referral, holds


def _item(meeting: Meeting, item_id: uuid.UUID) -> AgendaItem:
    item = db.session.scalar(
        select(AgendaItem).where(AgendaItem.id == item_id, AgendaItem.meeting_id == meeting.id)
    )
    if item is None:
        raise NotFound("No such agenda item.")
    return item


def _held_item(actor: User, meeting: Meeting, item_id: uuid.UUID) -> tuple[AgendaItem, Referral]:
    """An item of the meeting (the caller found the meeting with
    meetings.get_meeting) whose referral the actor's agency holds. Every
    agency taking part sees that the item exists, so one whose referral it
    does not hold is refused as such (Forbidden), saying nothing of it."""
    item = _item(meeting, item_id)
    try:
        referral = get_held_referral(actor, item.referral_id)
    except NotFound:
        raise Forbidden(
            "Only the agencies that hold this referral can see or record anything about it."
        ) from None
    return item, referral


def _check_day(meeting: Meeting) -> None:
    if not day_has_come(meeting):
        raise Conflict("Record what the meeting agreed on the day of the meeting or after it.")


def add_to_agenda(actor: User, meeting: Meeting, referral_id: uuid.UUID) -> AgendaItem:
    """Put a referral the actor's agency holds on the agenda. Refuses a
    referral it does not hold (NotFound), a draft, one already on the
    agenda (Conflict)."""
    referral = get_held_referral(actor, referral_id)
    if referral.status is ReferralStatus.DRAFT:
        raise Conflict("A draft cannot go on an agenda: submit it first.")
    on_it = db.session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.referral_id == referral.id
        )
    )
    if on_it is not None:
        raise Conflict("This referral is already on the agenda.")
    last = db.session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    item = AgendaItem(
        meeting_id=meeting.id,
        referral_id=referral.id,
        position=(last or 0) + 1,
        added_by_id=actor.id,
        added_by_organisation_id=actor.organisation_id,
        added_at=utcnow(),
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        "meeting.agenda_added",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[meeting.id, item.id],
    )
    return item


def record_item(
    actor: User,
    meeting: Meeting,
    item_id: uuid.UUID,
    *,
    decision: AgendaDecision,
    discussion: str,
    risk_level: RiskLevel | None = None,
) -> AgendaItem:
    """Record what the meeting discussed and decided about an item, and the
    risk level it agreed: the same level as before (confirmed) or another
    (changed: the referral's level changes with it). Recording again
    corrects the record. Refuses an agency that does not hold the referral
    (Forbidden) and a meeting whose day has not come (Conflict)."""
    item, referral = _held_item(actor, meeting, item_id)
    _check_day(meeting)
    if item.recorded_at is None:
        item.risk_level_before = referral.risk_level
    item.decision = decision
    item.discussion = discussion
    item.risk_level = risk_level or item.risk_level_before
    item.recorded_at = utcnow()
    item.recorded_by_id = actor.id
    item.recorded_by_organisation_id = actor.organisation_id
    changed = ["decision", "discussion", "risk_level"]
    if item.risk_level is not None and item.risk_level != referral.risk_level:
        referral.risk_level = item.risk_level
        audit.record(
            "referral.update",
            actor,
            record_type="referral",
            record_id=referral.id,
            fields=["risk_level"],
            reason="Agreed at a multi-agency meeting.",
        )
    db.session.flush()
    audit.record(
        "meeting.item_recorded",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[meeting.id, item.id],
        fields=changed,
    )
    return item


def agree_action(
    actor: User,
    meeting: Meeting,
    item_id: uuid.UUID,
    *,
    description: str,
    owning_organisation_id: uuid.UUID,
    due_on: date,
    owner_id: uuid.UUID | None = None,
) -> Action:
    """An action agreed at the meeting about an item's referral, for an
    agency taking part that holds it (services.actions.create_action says
    what else it refuses). Refuses an agency that does not hold the
    referral recording it (Forbidden) and a meeting whose day has not come
    (Conflict)."""
    item, referral = _held_item(actor, meeting, item_id)
    _check_day(meeting)
    return actions.create_action(
        actor,
        referral,
        description=description,
        owning_organisation_id=owning_organisation_id,
        due_on=due_on,
        owner_id=owner_id,
        agenda_item=item,
    )


def share_for_meeting(
    actor: User,
    meeting: Meeting,
    item_id: uuid.UUID,
    organisation_id: uuid.UUID,
    lawful_basis: LawfulBasis = LawfulBasis.PUBLIC_TASK,
) -> Share:
    """Share an item's referral with an agency taking part in the meeting,
    for the meeting: until 30 days after it. Refuses an agency not taking
    part (Invalid), and what casework.share refuses (only managers of the
    referring or receiving agency share)."""
    _item_row, referral = _held_item(actor, meeting, item_id)
    if not takes_part(meeting, organisation_id):
        raise Invalid(
            "The share is not valid.",
            {"organisation_id": ["This agency is not taking part in the meeting."]},
        )
    day = meeting.held_at.astimezone(UK)
    held_on = f"{day.day} {day:%B %Y}"
    grant = casework.share(
        actor,
        referral,
        organisation_id=organisation_id,
        purpose=f"Multi-agency meeting: {meeting.title}, {held_on}",
        lawful_basis=lawful_basis,
        expires_at=share_expiry(meeting),
        **agreements.citation_for(
            actor.organisation_id,
            organisation_id,
            lawful_basis,
            reason=f"Shared for the multi-agency meeting on {held_on}",
        ),
    )
    grant.meeting_id = meeting.id
    db.session.flush()
    return grant


# --- what each agency sees ------------------------------------------------------


@dataclass
class ItemView:
    """An agenda line as one agency sees it: `referral` None means held by
    other agencies (nothing else about it is filled in)."""

    item: AgendaItem
    referral: Referral | None
    agreed: list[Action] = field(default_factory=list)  # agreed at this meeting
    carried: list[Action] = field(default_factory=list)  # open, agreed before it
    may_record: bool = False
    may_share: bool = False
    share_to: list[uuid.UUID] = field(default_factory=list)  # taking part, not holding


@dataclass
class MeetingView:
    meeting: Meeting
    invitations: list[MeetingInvitation]
    items: list[ItemView]

    @property
    def held(self) -> list[ItemView]:
        return [view for view in self.items if view.referral is not None]


def view(actor: User, meeting: Meeting) -> MeetingView:
    """The meeting as the actor's agency may see it: every agency taking
    part and its attendance, every agenda line, and for the referrals it
    holds their details, decisions and actions (the open ones agreed
    earlier carried forward). Each referral shown is recorded as read (the
    meeting itself when none is)."""
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
    taking_part = invitations(meeting)
    views = _lines(actor, meeting, items, taking_part)
    _record_read(actor, meeting, [line.item.referral_id for line in views if line.referral])
    return MeetingView(meeting, taking_part, views)


def item_view(actor: User, meeting: Meeting, item_id: uuid.UUID) -> ItemView:
    """One agenda line the actor's agency holds, as `view` shows it (its
    read recorded). Refuses a line it does not hold (Forbidden)."""
    item, _referral = _held_item(actor, meeting, item_id)
    [line] = _lines(actor, meeting, [item], invitations(meeting))
    _record_read(actor, meeting, [item.referral_id])
    return line


def _record_read(actor: User, meeting: Meeting, referral_ids: list[uuid.UUID]) -> None:
    for referral_id in referral_ids:
        audit.record(
            "meeting.read",
            actor,
            record_type="referral",
            record_id=referral_id,
            record_ids=[meeting.id],
        )
    if not referral_ids:
        audit.record("meeting.read", actor, record_type="meeting", record_id=meeting.id)


def _lines(
    actor: User,
    meeting: Meeting,
    items: list[AgendaItem],
    taking_part: list[MeetingInvitation],
) -> list[ItemView]:
    referral_ids = [item.referral_id for item in items]
    held = {
        referral.id: referral
        for referral in db.session.scalars(
            select(Referral).where(Referral.id.in_(referral_ids), holds(actor.organisation_id))
        )
    }
    by_referral: dict[uuid.UUID, list[Action]] = {}
    if held:
        found = db.session.scalars(
            select(Action)
            .where(Action.referral_id.in_(held))
            .order_by(Action.due_on, Action.created_at, Action.id)
        )
        for action in found:
            by_referral.setdefault(action.referral_id, []).append(action)
    earlier = _earlier(meeting, [a for mine in by_referral.values() for a in mine])
    holders = _holders_among(list(held), [i.organisation_id for i in taking_part])
    views = []
    for item in items:
        referral = held.get(item.referral_id)
        if referral is None:
            views.append(ItemView(item, None))
            continue
        mine = by_referral.get(referral.id, [])
        views.append(
            ItemView(
                item,
                referral,
                agreed=[a for a in mine if a.meeting_id == meeting.id],
                carried=[a for a in mine if a.status is ActionStatus.OPEN and earlier(a)],
                may_record=True,
                may_share=casework.may_manage_shares(actor, referral),
                share_to=[
                    i.organisation_id
                    for i in taking_part
                    if i.organisation_id not in holders.get(referral.id, set())
                ],
            )
        )
    return views


def _earlier(meeting: Meeting, found: list[Action]) -> Callable[[Action], bool]:
    """Whether an action came before the meeting: agreed at a meeting held
    before it, or made outside meetings before its time."""
    other_meetings = {a.meeting_id for a in found if a.meeting_id not in (None, meeting.id)}
    held_at: dict[uuid.UUID | None, datetime] = {}
    if other_meetings:
        rows = db.session.execute(
            select(Meeting.id, Meeting.held_at).where(Meeting.id.in_(other_meetings))
        )
        held_at = {row.id: row.held_at for row in rows}

    def came_before(action: Action) -> bool:
        if action.meeting_id == meeting.id:
            return False
        if action.meeting_id is not None:
            return held_at[action.meeting_id] < meeting.held_at
        return action.created_at < meeting.held_at

    return came_before


def _holders_among(
    referral_ids: list[uuid.UUID], organisation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each referral, which of the agencies taking part hold it."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    if not referral_ids:
        return found
    for organisation_id in organisation_ids:
        for referral_id in db.session.scalars(
            select(Referral.id).where(Referral.id.in_(referral_ids), holds(organisation_id))
        ):
            found.setdefault(referral_id, set()).add(organisation_id)
    return found


def agenda_candidates(actor: User, meeting: Meeting) -> list[Referral]:
    """Referrals the actor's agency holds that it could put on the agenda:
    submitted or later, open (not closed, declined or withdrawn), not on it
    yet; newest first, at most 200."""
    on_it = select(AgendaItem.referral_id).where(AgendaItem.meeting_id == meeting.id)
    return list(
        db.session.scalars(
            select(Referral)
            .where(
                holds(actor.organisation_id),
                Referral.status.in_(
                    [ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS]
                ),
                Referral.id.not_in(on_it),
            )
            .order_by(Referral.created_at.desc())
            .limit(200)
        )
    )
