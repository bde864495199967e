"""The demo's multi-agency work, told through the services after the
referrals (services.demo_referrals): a MACE meeting two weeks ago convened
by the council, with Essex Police, the youth justice service and the
charity; two referrals on its agenda (one shared with the council for the
meeting, one it never sees); decisions, attendance and actions for three
agencies, one done, one due tomorrow, one overdue; and the next meeting in
two weeks, which carries both children forward.

The only times written directly (as services.demo_referrals does): when
the meeting, its items and actions were made, and the actions' due dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import (
    UK,
    ActionStatus,
    AgendaDecision,
    Attendance,
    Note,
    NoteKind,
    Organisation,
    Referral,
    ReferralStatus,
    RiskLevel,
    User,
    uk_today,
)
from referral_app.services import actions, meeting_agenda, meetings

PEOPLE = {
    "helen": "manager@essex-cc.demo",
    "lewis": "manager@essex-police.demo",
    "sam": "referrer@essex-police.demo",
    "priya": "manager@essex-yjs.demo",
    "tom": "caseworker@essex-yjs.demo",
}


def _at(days_ago: int, hour: int) -> datetime:
    day = datetime.now(UK).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 0), tzinfo=UK).astimezone(UTC)


def _open_referral(police: Organisation, yjs: Organisation, skip: int) -> Referral | None:
    """A referral from the police to the youth justice service being worked."""
    return db.session.scalar(
        select(Referral)
        .where(
            Referral.referring_organisation_id == police.id,
            Referral.receiving_organisation_id == yjs.id,
            Referral.status.in_([ReferralStatus.IN_PROGRESS, ReferralStatus.ACCEPTED]),
        )
        .order_by(Referral.reference)
        .offset(skip)
        .limit(1)
    )


def load_meetings() -> int:
    """Tell the meeting story; returns how many meetings it convened (none
    when the demo referrals it needs are not there)."""
    people = {
        key: db.session.scalars(select(User).where(User.email == email)).one()
        for key, email in PEOPLE.items()
    }
    agencies = {agency.code: agency for agency in db.session.scalars(select(Organisation))}
    police, yjs = agencies["essex-police"], agencies["essex-yjs"]
    charity, council = agencies["safer-futures"], agencies["essex-cc-childrens"]
    first = _open_referral(police, yjs, 0)
    second = _open_referral(police, yjs, 1)
    if first is None or second is None:
        return 0
    helen, lewis, priya, tom = people["helen"], people["lewis"], people["priya"], people["tom"]
    held_at = _at(14, 10)
    meeting = meetings.convene(
        helen,
        title="Southend MACE panel",
        held_at=held_at,
        invited_organisation_ids=[police.id, yjs.id, charity.id],
        place="Southend Civic Centre, committee room 2",
    )
    meeting.created_at = held_at - timedelta(days=7)
    police_item = meeting_agenda.add_to_agenda(lewis, meeting, first.id)
    yjs_item = meeting_agenda.add_to_agenda(priya, meeting, second.id)
    # The police share theirs with the council for the meeting; the youth
    # justice service does not, so the council and the charity see that line
    # as "a referral held by other agencies".
    meeting_agenda.share_for_meeting(lewis, meeting, police_item.id, council.id)
    meetings.record_attendance(
        helen,
        meeting,
        [
            meetings.AttendanceEntry(council.id, Attendance.ATTENDED, "Helen Carter (chair)"),
            meetings.AttendanceEntry(police.id, Attendance.ATTENDED, "Insp. Lewis Grant"),
            meetings.AttendanceEntry(yjs.id, Attendance.ATTENDED, "Priya Shah, Tom Bennett"),
            meetings.AttendanceEntry(charity.id, Attendance.APOLOGIES, None),
        ],
    )
    meeting_agenda.record_item(
        lewis,
        meeting,
        police_item.id,
        decision=AgendaDecision.CONTINUE,
        discussion="Seen twice more at Southend Central with older males from London. "
        "Mother reports new trainers and a second phone.",
        risk_level=RiskLevel.HIGH,
    )
    meeting_agenda.record_item(
        priya,
        meeting,
        yjs_item.id,
        decision=AgendaDecision.CONTINUE,
        discussion="Engaging with mentoring; school attendance up to 80%.",
        risk_level=RiskLevel.MEDIUM,
    )
    today = uk_today()
    made = [
        (lewis, police_item, police, None, "Disruption visit to the address in Pitsea", -3),
        (helen, police_item, council, helen, "Strategy discussion with the family", 5),
        (priya, yjs_item, yjs, tom, "Weekly mentoring session; report back", 1),
        (priya, yjs_item, yjs, tom, "Meet the school's designated lead", -7),
    ]
    agreed = []
    for actor, item, owner_agency, owner, what, due in made:
        action = meeting_agenda.agree_action(
            actor,
            meeting,
            item.id,
            description=what,
            owning_organisation_id=owner_agency.id,
            owner_id=owner.id if owner is not None else None,
            due_on=today,
        )
        action.due_on = today + timedelta(days=due)
        action.created_at = held_at + timedelta(hours=1)
        agreed.append(action)
    actions.close_action(
        tom, agreed[3], status=ActionStatus.DONE, note="Met Mrs Patel; weekly check-ins agreed."
    )
    meetings.convene(
        helen,
        title="Southend MACE panel",
        held_at=_at(-14, 10),
        invited_organisation_ids=[],
        place="Southend Civic Centre, committee room 2",
        follows_id=meeting.id,
    )
    # A practitioner marks a note significant: it joins the child's chronology.
    note = db.session.scalar(
        select(Note)
        .where(Note.referral_id == first.id, Note.kind == NoteKind.NOTE)
        .order_by(Note.occurred_at)
        .limit(1)
    )
    if note is not None:
        note.significant = True
    db.session.flush()
    return 2
