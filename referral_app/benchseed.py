"""`flask bench-seed`: realistic data in bulk for the benchmarks in bench/.

Agencies with a manager, caseworkers and a referrer each; children and
referrals in plausible proportions of status, risk and age; status
histories, notes, shares and assignments to match. Rows are written with
COPY on PostgreSQL and in large executemany batches on SQLite. The audit
trail is left empty (an empty chain verifies); the benchmark's own
requests write to it.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from referral_app import bulk_load
from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from referral_app.services import credentials

BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark data only
FIRST = (
    "Jayden Tyler Kai Liam Noah Oliver Leo Mason Ethan Harvey Aaron Callum Reece Kyle Jordan "
    "Amira Chloe Ellie Grace Mia Ruby Isla Zara Leah Aisha Maya Hana Sofia Layla Nia"
).split()
LAST = (
    "Miller Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Khan Ahmed Ali "
    "Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke "
    "Okafor Mensah Nowak Kowalski Silva Santos Murphy Kelly OBrien Byrne Hughes Lewis"
).split()
KINDS = list(OrganisationKind)
FACTORS = [
    "criminal_exploitation",
    "county_lines",
    "weapon_carrying",
    "gang_association",
    "missing_episodes",
    "substance_misuse",
    "school_exclusion",
    "peer_violence",
]
# (status, share of referrals)
STATUSES = [
    ("draft", 0.04),
    ("submitted", 0.10),
    ("accepted", 0.04),
    ("in_progress", 0.30),
    ("closed", 0.40),
    ("declined", 0.08),
    ("withdrawn", 0.04),
]
PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "accepted": ["submit", "accept"],
    "in_progress": ["submit", "accept", "assign"],
    "closed": ["submit", "accept", "assign", "close"],
    "declined": ["submit", "decline"],
    "withdrawn": ["withdraw"],
}
TO_STATUS = {
    "submit": "submitted",
    "accept": "accepted",
    "assign": "in_progress",
    "close": "closed",
    "decline": "declined",
    "withdraw": "withdrawn",
}
# References are R-YYYY-NNNNNN: a million referrals spread over past years.
PER_YEAR = 999_000
OUTCOMES = ["engaged_and_completed", "declined_support", "not_engaged", "no_further_action"]


def _ts(value: datetime, sqlite: bool) -> str:
    return value.replace(tzinfo=None).isoformat(sep=" ") if sqlite else value.isoformat()


def seed(referrals: int, organisations: int, seed_value: int = 2026) -> dict[str, int]:
    """Load `referrals` referrals among `organisations` agencies. Returns row counts."""
    rng = random.Random(seed_value)
    sqlite = db.session.connection().dialect.name == "sqlite"
    now = datetime.now(UTC)
    uid = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # noqa: E731

    def ident(value: uuid.UUID) -> str:
        return value.hex if sqlite else str(value)

    password_hash = credentials.hash_password(BENCH_PASSWORD)
    orgs = [uid() for _ in range(organisations)]
    org_rows = [
        (
            ident(o),
            f"bench-{n:04d}",
            f"Bench agency {n:04d}",
            KINDS[n % len(KINDS)].value,
            True,
            _ts(now, sqlite),
        )
        for n, o in enumerate(orgs)
    ]
    counts = {
        "organisation": bulk_load.write(
            "organisation", ["id", "code", "name", "kind", "active", "created_at"], org_rows
        )
    }
    staff: dict[uuid.UUID, dict[str, list[uuid.UUID]]] = {}
    user_rows, role_rows = [], []
    for n, org in enumerate(orgs):
        staff[org] = {"manager": [], "caseworker": [], "referrer": []}
        for role, how_many in (("manager", 1), ("caseworker", 3), ("referrer", 2)):
            for k in range(how_many):
                user = uid()
                staff[org][role].append(user)
                user_rows.append(
                    (
                        ident(user),
                        f"{role}{k}@bench-{n:04d}.example",
                        f"Bench {role} {k}",
                        ident(org),
                        True,
                        password_hash,
                        0,
                        1,
                        _ts(now, sqlite),
                        _ts(now, sqlite),
                    )
                )
                role_rows.append((ident(user), Role(role).value))
    counts["user_account"] = bulk_load.write(
        "user_account",
        [
            "id",
            "email",
            "full_name",
            "organisation_id",
            "active",
            "password_hash",
            "failed_login_count",
            "session_version",
            "created_at",
            "updated_at",
        ],
        user_rows,
    )
    counts["user_role"] = bulk_load.write("user_role", ["user_id", "role"], role_rows)

    weights = [share for _, share in STATUSES]
    names = [status for status, _ in STATUSES]
    child_rows: list[tuple[Any, ...]] = []
    referral_rows: list[tuple[Any, ...]] = []
    change_rows: list[tuple[Any, ...]] = []
    note_rows: list[tuple[Any, ...]] = []
    share_rows: list[tuple[Any, ...]] = []
    year = now.year
    for n in range(referrals):
        referring = orgs[rng.randrange(organisations)]
        receiving = orgs[rng.randrange(organisations)]
        while receiving == referring:
            receiving = orgs[rng.randrange(organisations)]
        status = rng.choices(names, weights)[0]
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 730))
        child = uid()
        dob = date(now.year - rng.randint(10, 17), rng.randint(1, 12), rng.randint(1, 28))
        child_rows.append(
            (
                ident(child),
                rng.choice(FIRST),
                rng.choice(LAST) + ("" if n % 7 else "-" + rng.choice(LAST)),
                dob.isoformat(),
                None,
                None,
                f"SS{rng.randint(1, 17)} {rng.randint(1, 9)}AA",
                None,
                "[]",
                _ts(created, sqlite),
                ident(referring),
            )
        )
        referrer = rng.choice(staff[referring]["referrer"])
        manager = staff[receiving]["manager"][0]
        assignee = (
            rng.choice(staff[receiving]["caseworker"])
            if status in ("in_progress", "closed")
            else None
        )
        risk = rng.choice(["low", "medium", "medium", "high"])
        at = created
        submitted = triaged = closed = deadline = None
        referral = uid()
        for action in PATHS[status]:
            at = at + timedelta(hours=rng.randint(1, 96))
            actor = (
                referrer
                if action in ("submit", "withdraw")
                else (assignee if action == "close" and assignee else manager)
            )
            actor_org = referring if action in ("submit", "withdraw") else receiving
            change_rows.append(
                (
                    ident(uid()),
                    ident(referral),
                    action,
                    None,
                    TO_STATUS[action],
                    ident(actor),
                    ident(actor_org),
                    None,
                    _ts(at, sqlite),
                )
            )
            if action == "submit":
                submitted = at
                deadline = at + timedelta(days={"high": 1, "medium": 3, "low": 7}[risk])
            if action in ("accept", "decline"):
                triaged = at
            if action == "close":
                closed = at
        referral_rows.append(
            (
                ident(referral),
                f"R-{year - n // PER_YEAR}-{n % PER_YEAR + 1:06d}",
                ident(child),
                ident(referring),
                ident(referrer),
                ident(receiving),
                ident(assignee) if assignee else None,
                status,
                risk,
                '["' + '","'.join(rng.sample(FACTORS, rng.randint(1, 3))) + '"]',
                "Seen on a county line route with cash and phones.",
                "obtained_from_parent",
                None,
                "public_task",
                "Out of area." if status == "declined" else None,
                rng.choice(OUTCOMES) if status == "closed" else None,
                "Completed the programme." if status == "closed" else None,
                _ts(created, sqlite),
                _ts(at, sqlite),
                _ts(submitted, sqlite) if submitted else None,
                _ts(deadline, sqlite) if deadline else None,
                _ts(triaged, sqlite) if triaged else None,
                _ts(closed, sqlite) if closed else None,
                1 + len(PATHS[status]),
                False,
            )
        )
        if status in ("in_progress", "closed"):
            for k in range(rng.randint(0, 3)):
                author = assignee or manager
                note_rows.append(
                    (
                        ident(uid()),
                        ident(referral),
                        ident(author),
                        ident(receiving),
                        rng.choice(["note", "contact", "home_visit", "intervention"]),
                        f"Contact {k + 1}: spoke with the family.",
                        _ts(at, sqlite),
                        rng.choice(["shared", "internal"]),
                        _ts(at, sqlite),
                    )
                )
        if status != "draft" and rng.random() < 0.08:
            third = orgs[rng.randrange(organisations)]
            if third not in (referring, receiving):
                share_rows.append(
                    (
                        ident(uid()),
                        ident(referral),
                        ident(third),
                        "Mentoring place",
                        "public_task",
                        ident(manager),
                        _ts(at, sqlite),
                        _ts(now + timedelta(days=rng.randint(-30, 300)), sqlite),
                        None,
                        None,
                    )
                )
    with bulk_load.indexes_built_after():
        counts["child"] = bulk_load.write(
            "child",
            [
                "id",
                "first_name",
                "last_name",
                "date_of_birth",
                "gender",
                "address",
                "postcode",
                "school",
                "aliases",
                "created_at",
                "created_by_organisation_id",
            ],
            child_rows,
        )
        counts["referral"] = bulk_load.write(
            "referral",
            [
                "id",
                "reference",
                "child_id",
                "referring_organisation_id",
                "referring_user_id",
                "receiving_organisation_id",
                "assignee_id",
                "status",
                "risk_level",
                "risk_factors",
                "reason",
                "consent_status",
                "consent_notes",
                "lawful_basis",
                "decline_reason",
                "outcome",
                "outcome_summary",
                "created_at",
                "updated_at",
                "submitted_at",
                "triage_deadline",
                "triaged_at",
                "closed_at",
                "version",
                "legal_hold",
            ],
            referral_rows,
        )
        counts["status_change"] = bulk_load.write(
            "status_change",
            [
                "id",
                "referral_id",
                "action",
                "from_status",
                "to_status",
                "actor_id",
                "actor_organisation_id",
                "reason",
                "at",
            ],
            change_rows,
        )
        counts["note"] = bulk_load.write(
            "note",
            [
                "id",
                "referral_id",
                "author_id",
                "organisation_id",
                "kind",
                "body",
                "occurred_at",
                "visibility",
                "created_at",
            ],
            note_rows,
        )
        counts["share"] = bulk_load.write(
            "share",
            [
                "id",
                "referral_id",
                "organisation_id",
                "purpose",
                "lawful_basis",
                "granted_by_id",
                "granted_at",
                "expires_at",
                "revoked_at",
                "revoked_by_id",
            ],
            share_rows,
        )
    # The reference counters carry on after the seeded numbers.
    for back in range(referrals // PER_YEAR + 1):
        last = min(PER_YEAR, referrals - back * PER_YEAR)
        db.session.execute(
            text("INSERT INTO reference_counter (year, last_value) VALUES (:year, :last)"),
            {"year": year - back, "last": last},
        )
    # Fresh statistics, so the query planner knows the tables' sizes and
    # chooses the worklist and search indexes (both databases).
    db.session.execute(text("ANALYZE"))
    return counts
