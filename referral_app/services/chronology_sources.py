"""Where a child's chronology comes from (services.chronology puts it
together): the referrals about the child the agency holds, then one
statement per source over all of them, whatever their number.

- the status history: made (submitted), withdrawn, accepted or declined,
  closed with the outcome, reopened (assigning is not an event of the
  child's life);
- notes the agency may read (shared ones and its own internal ones, never
  another agency's internal note): contacts, home visits, meetings and
  interventions at their date of contact, and any other note a practitioner
  marked significant;
- what MACE meetings decided about a referral, at the meeting;
- actions agreed, done and cancelled.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from referral_app.chronology_kinds import (
    CONTACT_NOTE_KINDS,
    DECISION_WORDS,
    NOTE_WORDS,
    OUTCOME_WORDS,
    ChronologyKind,
    Entry,
    ReferralRef,
)
from referral_app.extensions import db
from referral_app.models import (
    UK,
    Action,
    ActionStatus,
    AgendaItem,
    Child,
    Meeting,
    Note,
    NoteKind,
    Organisation,
    Outcome,
    Referral,
    StatusChange,
    User,
)
from referral_app.services.scoping import holds, note_is_visible

K = ChronologyKind

# The status changes that are events, and the kind each is.
CHANGE_KINDS = {
    "submit": K.REFERRAL_MADE,
    "withdraw": K.WITHDRAWN,
    "accept": K.TRIAGE_DECISION,
    "decline": K.TRIAGE_DECISION,
    "close": K.OUTCOME,
    "reopen": K.REOPENED,
}
_CHANGE_WORDS = {
    "accept": "Accepted",
    "decline": "Declined",
    "withdraw": "Withdrawn",
    "reopen": "Reopened",
}
_SIGNIFICANT = "Note marked as significant"
_CLOSED_KINDS = {ActionStatus.DONE: K.ACTION_COMPLETED, ActionStatus.CANCELLED: K.ACTION_CANCELLED}


@dataclass(frozen=True)
class Held:
    """A referral about the child that the agency holds, as its events need it."""

    ref: ReferralRef
    referring: Organisation
    receiving: Organisation
    reason: str | None
    outcome: Outcome | None
    outcome_summary: str | None


@dataclass(frozen=True)
class Window:
    """From the UK midnight that starts the first day to the one that ends
    the last (either end open)."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of_days(cls, first: date | None, last: date | None) -> Window:
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)

        after = date.fromordinal(last.toordinal() + 1) if last else None
        return cls(midnight(first) if first else None, midnight(after) if after else None)

    def conditions(self, column: Any) -> list[ColumnElement[bool]]:
        found = [] if self.start is None else [column >= self.start]
        return found if self.end is None else [*found, column < self.end]

    def holds(self, moment: datetime | None) -> bool:
        return (
            moment is not None
            and (self.start is None or moment >= self.start)
            and (self.end is None or moment < self.end)
        )


def _columns(model: Any, *names: str) -> list[Any]:
    return [getattr(model, name) for name in names]


def held_referrals(actor: User, child: Child) -> dict[uuid.UUID, Held]:
    """The referrals about the child that the actor's agency holds (a draft
    only by its referring agency: services.scoping)."""
    referring = aliased(Organisation, name="referring")
    receiving = aliased(Organisation, name="receiving")
    rows = db.session.execute(
        select(
            *_columns(Referral, "id", "reference", "reason", "outcome", "outcome_summary"),
            referring,
            receiving,
        )
        .join(referring, referring.id == Referral.referring_organisation_id)
        .join(receiving, receiving.id == Referral.receiving_organisation_id)
        .where(Referral.child_id == child.id, holds(actor.organisation_id))
    ).mappings()
    return {
        row["id"]: Held(
            ReferralRef(row["id"], row["reference"]),
            row["referring"],
            row["receiving"],
            row["reason"],
            row["outcome"],
            row["outcome_summary"],
        )
        for row in rows
    }


def _change_words(
    held: Held, action: str, reason: str | None, superseded: bool
) -> tuple[str, str | None]:
    """What a status change says, and its detail."""
    if action == "submit":
        made = f"made by {held.referring.name} to {held.receiving.name}"
        return f"Referral {held.ref.reference} {made}", held.reason
    if action == "close":
        if superseded or held.outcome is None:
            return "Closed (the outcome was replaced when the referral was closed again)", None
        return f"Closed: {OUTCOME_WORDS[held.outcome]}", held.outcome_summary
    done = _CHANGE_WORDS[action]
    return (f"{done}: {reason}" if reason and action != "accept" else done), None


def _changes(held: dict[uuid.UUID, Held], window: Window, kinds: Collection[K]) -> list[Entry]:
    actions = [action for action, kind in CHANGE_KINDS.items() if kind in kinds]
    if not actions:
        return []
    later = aliased(StatusChange)
    # Closed, reopened and closed again: the referral keeps the last outcome.
    superseded = exists().where(
        later.referral_id == StatusChange.referral_id,
        later.action == "close",
        later.at > StatusChange.at,
    )
    rows = db.session.execute(
        select(
            *_columns(StatusChange, "id", "referral_id", "action", "reason", "at"),
            superseded.label("superseded"),
            Organisation,
        )
        .join(Organisation, Organisation.id == StatusChange.actor_organisation_id)
        .where(
            StatusChange.referral_id.in_(list(held)),
            StatusChange.action.in_(actions),
            *window.conditions(StatusChange.at),
        )
    ).mappings()
    entries = []
    for row in rows:
        referral = held[row["referral_id"]]
        summary, detail = _change_words(
            referral, row["action"], row["reason"], bool(row["superseded"])
        )
        entries.append(
            Entry(
                row["at"],
                CHANGE_KINDS[row["action"]],
                summary,
                detail,
                row["Organisation"],
                referral.ref,
                row["id"],
                recorded_at=row["at"],
            )
        )
    return entries


def _notes(
    actor: User, held: dict[uuid.UUID, Held], window: Window, kinds: Collection[K]
) -> list[Entry]:
    wanted: list[ColumnElement[bool]] = []
    if K.CONTACT in kinds:
        wanted.append(Note.kind.in_(CONTACT_NOTE_KINDS))
    if K.SIGNIFICANT_NOTE in kinds:
        wanted.append(and_(Note.kind == NoteKind.NOTE, Note.significant.is_(True)))
    if not wanted:
        return []
    rows = db.session.execute(
        select(
            *_columns(
                Note,
                "id",
                "referral_id",
                "kind",
                "body",
                "occurred_at",
                "created_at",
                "significant",
                "redacted_at",
            ),
            Organisation,
        )
        .join(Organisation, Organisation.id == Note.organisation_id)
        .where(
            Note.referral_id.in_(list(held)),
            # Shared notes and the agency's own internal ones: never another's.
            note_is_visible(actor.organisation_id),
            or_(*wanted),
            *window.conditions(Note.occurred_at),
        )
    ).mappings()
    return [
        Entry(
            row["occurred_at"],
            K.SIGNIFICANT_NOTE if row["kind"] is NoteKind.NOTE else K.CONTACT,
            _SIGNIFICANT if row["kind"] is NoteKind.NOTE else NOTE_WORDS[row["kind"]],
            None if row["redacted_at"] else row["body"],
            row["Organisation"],
            held[row["referral_id"]].ref,
            row["id"],
            recorded_at=row["created_at"],
            significant=bool(row["significant"]),
            removed=row["redacted_at"] is not None,
        )
        for row in rows
    ]


def _risk_words(before: Any, agreed: Any) -> str | None:
    if agreed is None:
        return None
    if before is None:
        return f"risk set at {agreed}"
    if before == agreed:
        return f"risk confirmed as {agreed}"
    return f"risk changed from {before} to {agreed}"


def _decisions(held: dict[uuid.UUID, Held], window: Window, kinds: Collection[K]) -> list[Entry]:
    if K.MEETING_DECISION not in kinds:
        return []
    rows = db.session.execute(
        select(
            *_columns(
                AgendaItem,
                "id",
                "referral_id",
                "decision",
                "risk_level_before",
                "risk_level",
                "discussion",
                "recorded_at",
            ),
            *_columns(Meeting, "held_at"),
            Organisation,
        )
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Organisation, Organisation.id == Meeting.convening_organisation_id)
        .where(
            AgendaItem.referral_id.in_(list(held)),
            AgendaItem.decision.is_not(None),
            *window.conditions(Meeting.held_at),
        )
    ).mappings()
    entries = []
    for row in rows:
        words = [DECISION_WORDS[row["decision"]]]
        risk = _risk_words(row["risk_level_before"], row["risk_level"])
        entries.append(
            Entry(
                row["held_at"],
                K.MEETING_DECISION,
                "MACE meeting: " + ", ".join([*words, risk] if risk else words),
                row["discussion"],
                # The meeting's decision: in its convening agency's minutes.
                row["Organisation"],
                held[row["referral_id"]].ref,
                row["id"],
                recorded_at=row["recorded_at"],
            )
        )
    return entries


def _actions(held: dict[uuid.UUID, Held], window: Window, kinds: Collection[K]) -> list[Entry]:
    closing = {K.ACTION_COMPLETED, K.ACTION_CANCELLED} & set(kinds)
    if K.ACTION_AGREED not in kinds and not closing:
        return []
    owning = aliased(Organisation, name="owning")
    creating = aliased(Organisation, name="creating")
    in_window = []
    if window.start or window.end:
        agreed, closed = window.conditions(Action.created_at), window.conditions(Action.closed_at)
        in_window = [or_(and_(*agreed), and_(*closed))]
    rows = db.session.execute(
        select(
            *_columns(
                Action,
                "id",
                "referral_id",
                "meeting_id",
                "description",
                "due_on",
                "status",
                "closing_note",
                "created_at",
                "closed_at",
            ),
            owning,
            creating,
        )
        .join(owning, owning.id == Action.owning_organisation_id)
        .join(creating, creating.id == Action.created_by_organisation_id)
        .where(Action.referral_id.in_(list(held)), *in_window)
    ).mappings()
    entries = []
    for row in rows:
        referral, owner, due = held[row["referral_id"]].ref, row["owning"], row["due_on"]
        if K.ACTION_AGREED in kinds and window.holds(row["created_at"]):
            where = " at a MACE meeting" if row["meeting_id"] else ""
            summary = f"Action agreed{where} for {owner.name}: {row['description']}"
            entries.append(
                Entry(
                    row["created_at"],
                    K.ACTION_AGREED,
                    f"{summary}, due {due.day} {due:%B %Y}",
                    None,
                    row["creating"],
                    referral,
                    row["id"],
                    recorded_at=row["created_at"],
                )
            )
        kind = _CLOSED_KINDS.get(row["status"])
        if kind in closing and window.holds(row["closed_at"]):
            done = "Action done" if kind is K.ACTION_COMPLETED else "Action cancelled"
            entries.append(
                Entry(
                    row["closed_at"],
                    kind,
                    f"{done}: {row['description']}",
                    row["closing_note"],
                    owner,  # closed by the owning agency (services.actions)
                    referral,
                    row["id"],
                    recorded_at=row["closed_at"],
                )
            )
    return entries


def entries(
    actor: User, held: dict[uuid.UUID, Held], window: Window, kinds: Collection[ChronologyKind]
) -> list[Entry]:
    """The events of the held referrals in the window, of the kinds asked
    for, in date order (one statement per source asked for)."""
    if not held:
        return []
    found = [
        *_changes(held, window, kinds),
        *_notes(actor, held, window, kinds),
        *_decisions(held, window, kinds),
        *_actions(held, window, kinds),
    ]
    return sorted(found, key=Entry.order)
