"""The report of shares per information sharing agreement, for its review
and for the data protection impact assessment: counts only, no child data.

For each agreement the actor's agency is a party to: the shares granted
under it in a period (by recipient agency and lawful basis) and those live
now; and the shares made without an agreement, with their reasons. Only
shares the actor's agency made or received are counted (what it holds: the
same rows row-level security shows it)."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from referral_app.extensions import db
from referral_app.models import UK, Organisation, Share, User, uk_today, utcnow
from referral_app.services import agreements, audit
from referral_app.services import report_csv as report_csv_module
from referral_app.services.errors import Invalid


def label(value: str) -> str:
    return value.replace("_", " ").capitalize()


@dataclass
class Count:
    key: str
    label: str
    count: int


@dataclass
class AgreementUsage:
    agreement_id: uuid.UUID
    title: str
    reference: str
    in_force: bool
    review_on: date
    granted: int = 0
    live: int = 0
    by_recipient: list[Count] = field(default_factory=list)
    by_basis: list[Count] = field(default_factory=list)


@dataclass
class WithoutAgreement:
    share_id: uuid.UUID
    granted_at: datetime
    sharing_organisation: Organisation
    recipient_organisation: Organisation
    lawful_basis: str
    purpose: str
    reason: str
    live: bool


@dataclass
class AgreementReport:
    start: date
    end: date
    agreements: list[AgreementUsage]
    without_agreement: list[WithoutAgreement]


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    first = datetime.combine(start, time(0, 0), UK).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(0, 0), UK).astimezone(UTC)
    return first, after


def report(actor: User, *, start: date | None = None, end: date | None = None) -> AgreementReport:
    """The report for the UK days `start` to `end` (default: the year to today)."""
    end = end or uk_today()
    start = start or end - timedelta(days=365)
    if start > end:
        raise Invalid(
            "The period is not valid.", {"start": ["The start must not be after the end."]}
        )
    first, after = _utc_bounds(start, end)
    now = utcnow()
    granter = aliased(User)
    sharing_org = aliased(Organisation)
    rows = db.session.execute(
        select(Share, sharing_org)
        .join(granter, Share.granted_by_id == granter.id)
        .join(sharing_org, granter.organisation_id == sharing_org.id)
        .where(
            (granter.organisation_id == actor.organisation_id)
            | (Share.organisation_id == actor.organisation_id)
        )
        .order_by(Share.granted_at, Share.id)
    ).all()
    usage = {
        agreement.id: AgreementUsage(
            agreement.id,
            agreement.title,
            agreement.reference,
            agreement.in_force_today,
            agreement.review_on,
        )
        for agreement in agreements.party_agreements(actor.organisation_id)
    }
    recipients: dict[uuid.UUID, Counter[tuple[str, str]]] = {key: Counter() for key in usage}
    bases: dict[uuid.UUID, Counter[tuple[str, str]]] = {key: Counter() for key in usage}
    without: list[WithoutAgreement] = []
    for grant, sharing in rows:
        in_period = first <= grant.granted_at < after
        if grant.agreement_id in usage:
            line = usage[grant.agreement_id]
            line.live += grant.is_live(now)
            if in_period:
                line.granted += 1
                org = grant.organisation
                recipients[grant.agreement_id][(str(org.id), org.name)] += 1
                basis = str(grant.lawful_basis)
                bases[grant.agreement_id][(basis, label(basis))] += 1
        elif grant.agreement_id is None and grant.no_agreement_reason and in_period:
            without.append(
                WithoutAgreement(
                    grant.id,
                    grant.granted_at,
                    sharing,
                    grant.organisation,
                    str(grant.lawful_basis),
                    grant.purpose,
                    grant.no_agreement_reason,
                    grant.is_live(now),
                )
            )
    for key, line in usage.items():
        line.by_recipient = [Count(k, name, n) for (k, name), n in sorted(recipients[key].items())]
        line.by_basis = [Count(k, name, n) for (k, name), n in sorted(bases[key].items())]
    audit.record("report.agreements", actor, record_type="report")
    return AgreementReport(start, end, list(usage.values()), without)


CSV_COLUMNS = (
    "row",
    "agreement_reference",
    "agreement_title",
    "granted_in_period",
    "live_now",
    "shared_on",
    "sharing_agency",
    "recipient_agency",
    "lawful_basis",
    "purpose",
    "reason",
)


def report_csv(
    actor: User, *, start: date | None = None, end: date | None = None
) -> report_csv_module.CsvExport:
    """The report as CSV: one row per agreement (its counts) and one per
    share without an agreement (agencies, basis, purpose, reason), every
    cell neutralised against spreadsheet formulas. Audited as the report
    (a disclosure)."""
    found = report(actor, start=start, end=end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows: list[list[str]] = [
        ["agreement", line.reference, line.title, str(line.granted), str(line.live)] + [""] * 6
        for line in found.agreements
    ]
    rows += [
        [
            "without_agreement",
            "",
            "",
            "",
            "yes" if share.live else "no",
            share.granted_at.astimezone(UK).date().isoformat(),
            share.sharing_organisation.name,
            share.recipient_organisation.name,
            share.lawful_basis,
            share.purpose,
            share.reason,
        ]
        for share in found.without_agreement
    ]
    for row in rows:
        writer.writerow([report_csv_module.neutralise(cell) for cell in row])
    name = f"agreements-{found.start.isoformat()}-to-{found.end.isoformat()}.csv"
    return report_csv_module.CsvExport(name, out.getvalue(), len(rows))
