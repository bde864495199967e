"""A child's chronology in plain values: the kinds of event it lists, the
words for them and for what they say, and an entry as the service gives it.
Used by the chronology service and by the schemas that document and load
its filters and dump its entries (which must not import services), as
report_periods.py is for the reports."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from referral_app.models import AgendaDecision, NoteKind, Organisation, Outcome


class ChronologyKind(enum.StrEnum):
    """What happened, in the order two events at the same moment are listed."""

    REFERRAL_MADE = "referral_made"  # submitted: made by one agency to another
    WITHDRAWN = "withdrawn"
    TRIAGE_DECISION = "triage_decision"  # accepted or declined
    CONTACT = "contact"  # a contact, home visit, meeting or intervention note
    SIGNIFICANT_NOTE = "significant_note"  # any other note marked significant
    SCREENING = "screening"  # an exploitation screening completed
    SCREENING_JUDGEMENT = "screening_judgement"  # the practitioner's judgement of one
    MEETING_DECISION = "meeting_decision"  # a MACE meeting's decision
    ACTION_AGREED = "action_agreed"
    ACTION_COMPLETED = "action_completed"
    ACTION_CANCELLED = "action_cancelled"
    OUTCOME = "outcome"  # closed, with the outcome
    REOPENED = "reopened"


# What each kind is called on the page, in the print and in the CSV.
KIND_WORDS: dict[ChronologyKind, str] = {
    ChronologyKind.REFERRAL_MADE: "Referral made",
    ChronologyKind.WITHDRAWN: "Referral withdrawn",
    ChronologyKind.TRIAGE_DECISION: "Triage decision",
    ChronologyKind.CONTACT: "Contact or visit",
    ChronologyKind.SIGNIFICANT_NOTE: "Significant note",
    ChronologyKind.SCREENING: "Exploitation screening",
    ChronologyKind.SCREENING_JUDGEMENT: "Screening judgement",
    ChronologyKind.MEETING_DECISION: "Meeting decision",
    ChronologyKind.ACTION_AGREED: "Action agreed",
    ChronologyKind.ACTION_COMPLETED: "Action done",
    ChronologyKind.ACTION_CANCELLED: "Action cancelled",
    ChronologyKind.OUTCOME: "Outcome",
    ChronologyKind.REOPENED: "Referral reopened",
}

# Notes that are always events of the child's life (contacts, visits,
# meetings, interventions); a plain note is one only when marked significant.
CONTACT_NOTE_KINDS = frozenset(NoteKind) - {NoteKind.NOTE}
NOTE_WORDS = {
    NoteKind.NOTE: "Note",
    NoteKind.CONTACT: "Contact",
    NoteKind.MEETING: "Meeting",
    NoteKind.HOME_VISIT: "Home visit",
    NoteKind.INTERVENTION: "Intervention",
    NoteKind.MULTI_AGENCY_MEETING: "Multi-agency meeting",
}
# "Closed: <outcome>".
OUTCOME_WORDS = {
    Outcome.ENGAGED_AND_COMPLETED: "engaged and completed",
    Outcome.DECLINED_SUPPORT: "support declined",
    Outcome.NOT_ENGAGED: "did not engage",
    Outcome.NO_FURTHER_ACTION: "no further action",
    Outcome.ESCALATED_TO_CHILDRENS_SOCIAL_CARE: "escalated to children's social care",
    Outcome.TRANSFERRED: "transferred",
    Outcome.MOVED_OUT_OF_AREA: "moved out of area",
}
# "MACE meeting: <decision>, <risk>".
DECISION_WORDS = {
    AgendaDecision.CONTINUE: "continue on review",
    AgendaDecision.CLOSE: "taken off review",
    AgendaDecision.ESCALATE_CSC: "escalate to children's social care",
    AgendaDecision.NRM_REFERRAL: "refer to the National Referral Mechanism",
}

_KIND_ORDER = {kind: position for position, kind in enumerate(ChronologyKind)}


@dataclass(frozen=True)
class ReferralRef:
    id: uuid.UUID
    reference: str


@dataclass(frozen=True)
class Entry:
    """One event. `when` is UTC (for a note, its date of contact);
    `recorded_at` when it was written down; `detail` the text written about
    it, if any (None when `removed`: the retention policy removed it)."""

    when: datetime
    kind: ChronologyKind
    summary: str
    detail: str | None
    agency: Organisation  # the agency that recorded it
    referral: ReferralRef
    source_id: uuid.UUID  # its status change, note, agenda item or action
    recorded_at: datetime | None = None
    significant: bool = False
    removed: bool = False

    @property
    def kind_words(self) -> str:
        return KIND_WORDS[self.kind]

    def order(self) -> tuple[datetime, int, str, str]:
        """By time; at the same moment by kind, referral and source row, so
        that the order is the same every time."""
        return (self.when, _KIND_ORDER[self.kind], self.referral.reference, str(self.source_id))


# The days a chronology may be filtered by (a date outside them is no date
# this service holds events for, and year 1 has no UTC midnight before it).
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)
OUT_OF_RANGE = f"Choose a date from {EARLIEST_DATE} to {LATEST_DATE}."
END_BEFORE_START = "The end of the range must not be before its start."


def range_problems(date_from: date | None, date_to: date | None) -> dict[str, list[str]]:
    """What is wrong with a range of days asked for, by query parameter
    (`from`, `to`): nothing when either end is open or the end is not before
    the start."""
    problems: dict[str, list[str]] = {}
    for name, day in (("from", date_from), ("to", date_to)):
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            problems[name] = [OUT_OF_RANGE]
    if not problems and date_from and date_to and date_to < date_from:
        problems["to"] = [END_BEFORE_START]
    return problems
