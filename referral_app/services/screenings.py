"""Exploitation screenings: a holder of a referral completes the current
version of the screening tool (referral_app.screening_tools) about the
child; the tool indicates a level from the answers, and the practitioner's
own judgement is recorded beside it, with a reason when it differs.

Any agency that holds the referral reads its screenings and may complete
one (as it may add notes and actions: a youth worker with a share screens
too). Not on a draft: until it is submitted a referral is the referring
agency's alone and may be discarded, and a screening is evidence for the
receiving agency's triage; the referrer completes it once the referral is
sent. The judgement is recorded or changed by a manager of the receiving
agency (who decides the response) or by the person who completed it.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select

from referral_app import screening_tools
from referral_app.extensions import db
from referral_app.models import (
    UK,
    Referral,
    ReferralStatus,
    RiskLevel,
    Role,
    Screening,
    User,
    uk_today,
    utcnow,
)
from referral_app.screening_tools import ANSWERS, Scoring, ToolDefinition
from referral_app.services import audit
from referral_app.services.errors import Conflict, Forbidden, Invalid, NotFound
from referral_app.services.scoping import Relation, holds, sides

EVIDENCE_LIMIT = 2000


def age_on(date_of_birth: date, day: date) -> int:
    """Full years of age on `day`."""
    before_birthday = (day.month, day.day) < (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - before_birthday


def _answer_errors(definition: ToolDefinition, answers: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    known = {indicator.id for indicator in definition.indicators}
    for name in answers:
        if name not in known:
            errors[f"answers.{name}"] = ["Not a question of this version of the tool."]
    for indicator in definition.indicators:
        given = answers.get(indicator.id)
        if not isinstance(given, dict) or given.get("answer") not in ANSWERS:
            errors[f"answers.{indicator.id}"] = ["Answer yes, no or not known."]
        elif given["answer"] == "yes" and not (given.get("evidence") or "").strip():
            errors[f"answers.{indicator.id}.evidence"] = ["Say what you saw or were told."]
    return errors


def _clean(definition: ToolDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as stored: every indicator, in the tool's order."""
    return {
        indicator.id: {
            "answer": answers[indicator.id]["answer"],
            "evidence": (answers[indicator.id].get("evidence") or "").strip() or None,
        }
        for indicator in definition.indicators
    }


def _judgement_errors(
    indicated: RiskLevel, level: RiskLevel | None, reason: str | None
) -> dict[str, list[str]]:
    if level is not None and level is not indicated and not (reason or "").strip():
        return {
            "judgement_reason": [
                "Give the reason for a judgement that differs from the indicated level."
            ]
        }
    return {}


def complete(
    actor: User,
    referral: Referral,
    *,
    answers: dict[str, Any],
    judgement_level: RiskLevel | None = None,
    judgement_reason: str | None = None,
) -> Screening:
    """A screening of a referral the actor's agency holds (the caller read it
    with scoping.get_held_referral), with the current version of the tool:
    every indicator answered yes, no or not known, evidence for each yes.
    The indicated level is computed (with the child's age today); a
    judgement may be given at once, with a reason when it differs.

    Refuses: a draft (Conflict); a missing or unknown answer, a yes without
    evidence, a differing judgement without a reason (Invalid)."""
    if referral.status is ReferralStatus.DRAFT:
        raise Conflict("A draft has no screenings yet: submit the referral first.")
    definition = screening_tools.current()
    errors = _answer_errors(definition, answers)
    if errors:
        raise Invalid("The screening is not complete.", errors)
    stored = _clean(definition, answers)
    age = age_on(referral.child.date_of_birth, uk_today())
    indicated = screening_tools.score(definition, stored, age).level
    errors = _judgement_errors(indicated, judgement_level, judgement_reason)
    if errors:
        raise Invalid("The judgement needs a reason.", errors)
    now = utcnow()
    screening = Screening(
        referral_id=referral.id,
        tool_version=definition.version,
        answers=stored,
        indicated_level=indicated,
        completed_by_id=actor.id,
        completed_by_organisation_id=actor.organisation_id,
        completed_at=now,
    )
    if judgement_level is not None:
        screening.judgement_level = judgement_level
        screening.judgement_reason = (judgement_reason or "").strip() or None
        screening.judged_by = actor
        screening.judged_at = now
    db.session.add(screening)
    db.session.flush()
    audit.record(
        "referral.screening_completed",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[screening.id],
        fields=["answers", "indicated_level"]
        + (["judgement_level", "judgement_reason"] if judgement_level is not None else []),
    )
    return screening


def list_screenings(actor: User, referral: Referral) -> list[Screening]:
    """Every screening of a referral the actor's agency holds, the latest first."""
    found = list(
        db.session.scalars(
            select(Screening)
            .where(Screening.referral_id == referral.id)
            .order_by(Screening.completed_at.desc(), Screening.id)
        )
    )
    audit.record(
        "referral.screenings_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[screening.id for screening in found],
    )
    return found


def get_screening(actor: User, referral: Referral, screening_id: uuid.UUID) -> Screening:
    """A screening of this referral (which the actor's agency holds); NotFound
    for any other id, including another referral's."""
    screening = db.session.scalar(
        select(Screening).where(Screening.id == screening_id, Screening.referral_id == referral.id)
    )
    if screening is None:
        raise NotFound("No such screening.")
    return screening


def read_screening(actor: User, referral: Referral, screening_id: uuid.UUID) -> Screening:
    """`get_screening`, its read recorded."""
    screening = get_screening(actor, referral, screening_id)
    audit.record(
        "referral.screenings_read",
        actor,
        record_type="referral",
        record_id=referral.id,
        record_ids=[screening.id],
    )
    return screening


def explain(screening: Screening) -> Scoring:
    """Why the tool indicated the screening's level: its score and the rules
    that raised it, rescored with the screening's own version of the tool and
    the child's age on the day it was completed (no statement)."""
    definition = screening_tools.tool(screening.tool_version)
    if definition is None:  # a version removed from the code: never released so
        raise NotFound("No such version of the screening tool.")
    completed_on = screening.completed_at.astimezone(UK).date()
    age = age_on(screening.referral.child.date_of_birth, completed_on)
    return screening_tools.score(definition, screening.answers, age)


def may_judge(actor: User, screening: Screening) -> bool:
    """A manager of the receiving agency, or whoever completed the screening."""
    if screening.completed_by_id == actor.id:
        return True
    return actor.has_role(Role.MANAGER) and Relation.RECEIVING in sides(actor, screening.referral)


def judge(actor: User, screening: Screening, *, level: RiskLevel, reason: str | None) -> Screening:
    """Record or change the practitioner's judgement of a screening the
    actor's agency holds (read with get_screening).

    Refuses: anyone but a manager of the receiving agency or the person who
    completed it (Forbidden); a level other than the indicated one without
    a reason (Invalid)."""
    if not may_judge(actor, screening):
        raise Forbidden(
            "Only a manager of the receiving agency, or whoever completed the screening, "
            "records the judgement."
        )
    errors = _judgement_errors(screening.indicated_level, level, reason)
    if errors:
        raise Invalid("The judgement needs a reason.", errors)
    screening.judgement_level = level
    screening.judgement_reason = (reason or "").strip() or None
    screening.judged_by = actor
    screening.judged_at = utcnow()
    db.session.flush()
    audit.record(
        "referral.screening_judged",
        actor,
        record_type="referral",
        record_id=screening.referral_id,
        record_ids=[screening.id],
        fields=["judgement_level", "judgement_reason"],
    )
    return screening


@dataclass(frozen=True)
class ThemeCount:
    theme_id: str
    title: str
    screenings: int  # latest screenings with at least one "yes" in the theme
    indicators: int  # "yes" answers in the theme


def yes_by_theme(actor: User) -> list[ThemeCount]:
    """For the reports: over the latest screening of each referral the
    actor's agency holds, how many answered yes to an indicator of each
    theme of the current tool (older versions counted by their own themes'
    ids where the current tool has them). Audited as a report."""
    found = theme_counts(holds(actor.organisation_id))
    audit.record("report.screening_themes", actor, record_type="report")
    return found


def theme_counts(where: ColumnElement[bool]) -> list[ThemeCount]:
    """`yes_by_theme` over the referrals `where` selects (a condition on
    Referral that the caller has scoped, for example the referrals of a
    report), without an audit event of its own."""
    rows = db.session.execute(
        select(Screening.referral_id, Screening.tool_version, Screening.answers)
        .join(Referral, Screening.referral_id == Referral.id)
        .where(where)
        .order_by(Screening.referral_id, Screening.completed_at.desc(), Screening.id)
    )
    seen: set[uuid.UUID] = set()
    answers_yes: Counter[str] = Counter()
    screened: Counter[str] = Counter()
    for referral_id, version, answers in rows:
        if referral_id in seen:
            continue
        seen.add(referral_id)
        definition = screening_tools.tool(version)
        if definition is None:
            continue
        themes_here: set[str] = set()
        for indicator in definition.indicators:
            if (answers.get(indicator.id) or {}).get("answer") == "yes":
                answers_yes[indicator.theme] += 1
                themes_here.add(indicator.theme)
        screened.update(themes_here)
    return [
        ThemeCount(theme.id, theme.title, screened[theme.id], answers_yes[theme.id])
        for theme in screening_tools.current().themes
    ]


__all__ = [
    "ThemeCount",
    "age_on",
    "complete",
    "explain",
    "get_screening",
    "judge",
    "list_screenings",
    "may_judge",
    "read_screening",
    "theme_counts",
    "yes_by_theme",
]
