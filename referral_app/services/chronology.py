"""One chronology per child: the significant dated events about a child
across every referral the actor's agency holds about them, merged in date
order, each with the agency that recorded it (services.chronology_sources
says which events, from where), to read, print or download as CSV.

Reading it is audited as a read of the child and of every referral it drew
on: one "referral.chronology_read" event each, so that each referral's
access log shows that the chronology read it.
"""

from __future__ import annotations

import csv
import enum
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from referral_app.chronology_kinds import ChronologyKind, Entry, ReferralRef, range_problems
from referral_app.models import UK, Child, User, utcnow
from referral_app.services import audit
from referral_app.services.chronology_screenings import screening_entries
from referral_app.services.chronology_sources import Window, entries, held_referrals
from referral_app.services.errors import Invalid
from referral_app.services.report_csv import CsvExport, neutralise
from referral_app.services.scoping import get_visible_child

__all__ = ["Chronology", "Entry", "Purpose", "chronology", "chronology_csv"]

REMOVED = "[removed under the retention policy]"
CSV_COLUMNS = ("date", "time_utc", "kind", "what_happened", "detail", "agency", "referral")


class Purpose(enum.StrEnum):
    """Why the chronology was read: the reason its audit events give."""

    READ = "chronology"
    PRINTED = "chronology printed"
    EXPORTED = "chronology exported as CSV"


@dataclass(frozen=True)
class Chronology:
    child: Child
    entries: list[Entry]
    date_from: date | None
    date_to: date | None
    kinds: frozenset[ChronologyKind]  # those asked for (every kind when none were)
    generated_at: datetime
    held: int  # how many referrals about the child the agency holds

    @property
    def referrals(self) -> list[ReferralRef]:
        """The referrals it drew on (an event of theirs is shown), by reference."""
        return sorted({entry.referral for entry in self.entries}, key=lambda ref: ref.reference)

    @property
    def filtered(self) -> bool:
        return bool(self.date_from or self.date_to or self.kinds != frozenset(ChronologyKind))


def _record_reads(actor: User, found: Chronology, purpose: Purpose) -> None:
    """A read of the child (its name is shown), and of each referral the
    chronology drew on, naming the rows shown and the kinds of event."""
    audit.record(
        "child.read", actor, record_type="child", record_id=found.child.id, reason=str(purpose)
    )
    shown: dict[ReferralRef, list[Entry]] = {}
    for entry in found.entries:
        shown.setdefault(entry.referral, []).append(entry)
    for referral in found.referrals:
        audit.record(
            "referral.chronology_read",
            actor,
            record_type="referral",
            record_id=referral.id,
            record_ids=sorted({str(entry.source_id) for entry in shown[referral]}),
            fields=sorted({str(entry.kind) for entry in shown[referral]}),
            reason=str(purpose),
        )


def chronology(
    actor: User,
    child_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    kinds: Iterable[ChronologyKind] | None = None,
    purpose: Purpose = Purpose.READ,
) -> Chronology:
    """The chronology of a child visible to the actor's agency: the events of
    the referrals about the child that the agency holds, oldest first; only
    those from `date_from` to `date_to` (UK calendar days, both included,
    either end open) and of the `kinds` given (every kind when none are).

    Refuses a range outside the days chronology_kinds allows or whose end
    is before its start (Invalid), and a child the agency holds no referral
    about (NotFound); the permission (referrals:read) is the route's.
    Audited: a read of the child, and a "referral.chronology_read" of each
    referral an event is shown from, `purpose` as their reason."""
    problems = range_problems(date_from, date_to)
    if problems:
        raise Invalid("Choose another date range.", problems)
    child = get_visible_child(actor, child_id)
    asked = frozenset(kinds or ()) or frozenset(ChronologyKind)
    held = held_referrals(actor, child)
    window = Window.of_days(date_from, date_to)
    found = Chronology(
        child=child,
        entries=sorted(
            [*entries(actor, held, window, asked), *screening_entries(held, window, asked)],
            key=Entry.order,
        ),
        date_from=date_from,
        date_to=date_to,
        kinds=asked,
        generated_at=utcnow(),
        held=len(held),
    )
    _record_reads(actor, found, purpose)
    return found


def chronology_csv(
    actor: User,
    child_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    kinds: Iterable[ChronologyKind] | None = None,
) -> CsvExport:
    """The chronology (as `chronology` gives it, refusing the same) as CSV: a
    header row, then a row per event, oldest first, with its day in the UK
    and its moment in UTC, every cell neutralised against spreadsheet
    formulas. No child's name, in the rows or the file's name. Audited as
    `chronology` is, the reason saying it was exported."""
    found = chronology(
        actor, child_id, date_from=date_from, date_to=date_to, kinds=kinds, purpose=Purpose.EXPORTED
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in found.entries:
        cells = [
            entry.when.astimezone(UK).date().isoformat(),
            entry.when.astimezone(UTC).isoformat(timespec="seconds"),
            entry.kind_words,
            entry.summary,
            REMOVED if entry.removed else entry.detail or "",
            entry.agency.name,
            entry.referral.reference,
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    day = found.generated_at.astimezone(UK).date().isoformat()
    return CsvExport(
        filename=f"chronology-{found.child.id}-{day}.csv",
        text=buffer.getvalue(),
        rows=len(found.entries),
    )
