"""A child's exploitation screenings in the chronology: each screening
completed (the level the tool indicated) and the practitioner's judgement
of it (the level judged, with the reason when it differs). Seen, as the
screenings are, by every agency that holds the referral
(services.screenings); one statement for both kinds."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from referral_app.chronology_kinds import ChronologyKind as K
from referral_app.chronology_kinds import Entry
from referral_app.extensions import db
from referral_app.models import Organisation, Screening, User
from referral_app.services.chronology_sources import Held, Window, _columns


def screening_entries(
    held: dict[uuid.UUID, Held], window: Window, kinds: Collection[K]
) -> list[Entry]:
    wanted = {K.SCREENING, K.SCREENING_JUDGEMENT} & set(kinds)
    if not wanted or not held:
        return []
    judging = aliased(Organisation, name="judging")
    in_window = []
    if window.start or window.end:
        completed, judged = (
            window.conditions(Screening.completed_at),
            window.conditions(Screening.judged_at),
        )
        in_window = [or_(and_(*completed), and_(*judged))]
    rows = db.session.execute(
        select(
            *_columns(
                Screening,
                "id",
                "referral_id",
                "tool_version",
                "indicated_level",
                "judgement_level",
                "judgement_reason",
                "completed_at",
                "judged_at",
            ),
            Organisation,
            judging,
        )
        .join(Organisation, Organisation.id == Screening.completed_by_organisation_id)
        .outerjoin(User, User.id == Screening.judged_by_id)
        .outerjoin(judging, judging.id == User.organisation_id)
        .where(Screening.referral_id.in_(list(held)), *in_window)
    ).mappings()
    entries = []
    for row in rows:
        referral, indicated = held[row["referral_id"]].ref, row["indicated_level"]
        if K.SCREENING in wanted and window.holds(row["completed_at"]):
            entries.append(
                Entry(
                    row["completed_at"],
                    K.SCREENING,
                    f"Exploitation screening (tool version {row['tool_version']}): "
                    f"{indicated} risk indicated",
                    None,
                    row["Organisation"],
                    referral,
                    row["id"],
                    recorded_at=row["completed_at"],
                )
            )
        judged = row["judgement_level"]
        if (
            judged is not None
            and K.SCREENING_JUDGEMENT in wanted
            and window.holds(row["judged_at"])
        ):
            agrees = judged == indicated
            summary = (
                f"Screening judgement: {judged} risk, as indicated"
                if agrees
                else f"Screening judgement: {judged} risk (the tool indicated {indicated})"
            )
            entries.append(
                Entry(
                    row["judged_at"],
                    K.SCREENING_JUDGEMENT,
                    summary,
                    row["judgement_reason"],
                    row["judging"] or row["Organisation"],
                    referral,
                    row["id"],
                    recorded_at=row["judged_at"],
                    removed=not agrees and row["judgement_reason"] is None,
                )
            )
    return entries
