"""Multi-agency (MACE) meetings in the browser: the meetings one's agency
takes part in, a meeting's page (its agencies and attendance, its agenda
with the details of the lines one's agency holds and "a referral held by
other agencies" for the rest, and the forms that record what the meeting
agreed) and its printable minutes, scoped the same way. The forms are sent
to blueprints/web/meeting_forms.py, which shows this page again with their
errors."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from blueprints.web.forms import Field, PageErrors, page_errors
from blueprints.web.page_links import (
    check_page_exists,
    page_asked,
    page_count,
    pagination,
    query_for,
    showing,
)
from referral_app.models import (
    AgendaDecision,
    Attendance,
    LawfulBasis,
    Organisation,
    RiskLevel,
    User,
    uk_today,
    utcnow,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import actions, meeting_agenda, meetings
from referral_app.templating import label

blp = Blueprint("web_meetings", __name__)

PAST_PAGE_SIZE = 25
UPCOMING_MOST = 100

# The decisions and attendance in a caseworker's words.
DECISIONS = {
    AgendaDecision.CONTINUE: "Continue: keep on review",
    AgendaDecision.CLOSE: "Close: take off review",
    AgendaDecision.ESCALATE_CSC: "Escalate to children's social care",
    AgendaDecision.NRM_REFERRAL: "Make a National Referral Mechanism (NRM) referral",
}
ATTENDANCE = {
    Attendance.ATTENDED: "Attended",
    Attendance.APOLOGIES: "Sent apologies",
    Attendance.ABSENT: "Absent",
}
WORDS: dict[str, Any] = {
    "decisions": [(str(value), words) for value, words in DECISIONS.items()],
    "decision_words": {str(value): words for value, words in DECISIONS.items()},
    "attendance_choices": [(str(value), words) for value, words in ATTENDANCE.items()],
    "attendance_words": {str(value): words for value, words in ATTENDANCE.items()},
    "risk_choices": [(str(value), label(value)) for value in RiskLevel],
    "lawful_bases": [(str(value), label(value)) for value in LawfulBasis],
}


def line_fields(item_id: uuid.UUID) -> tuple[Field, ...]:
    """The questions of a line's forms, each input's id the line's own."""
    return (
        Field(
            "decision", "Decision", "Select what the meeting decided", anchor=f"decision-{item_id}"
        ),
        Field(
            "risk_level",
            "Risk level",
            "Select the risk level agreed",
            anchor=f"risk_level-{item_id}",
        ),
        Field(
            "discussion",
            "Discussion",
            "Enter a summary of the discussion",
            anchor=f"discussion-{item_id}",
        ),
        Field(
            "description",
            "What needs doing",
            "Enter what needs doing",
            anchor=f"description-{item_id}",
        ),
        Field(
            "owning_organisation_id",
            "Agency",
            "Select the agency that will do it",
            anchor=f"owning_organisation_id-{item_id}",
            own={
                "This agency is not taking part in the meeting.": (
                    "Select an agency taking part in the meeting"
                ),
                "This agency does not hold the referral: share it with them first.": (
                    "This agency does not hold the referral: share it with them for this "
                    "meeting first"
                ),
            },
        ),
        Field(
            "owner_id",
            "Named owner",
            "Select a person from the list",
            anchor=f"owner_id-{item_id}",
            own={
                "Choose an active member of staff of the owning agency.": (
                    "Select a person who works for the agency that will do it"
                )
            },
        ),
        Field(
            "due_on",
            "Due date",
            "Enter the date it is due",
            invalid="Due date must be a real date",
            anchor=f"due_on-{item_id}-day",
            own={
                "Not in the past.": "Due date must be today or in the future",
                "At most two years ahead.": "Due date must be within two years",
            },
        ),
        Field(
            "organisation_id",
            "Agency",
            "Select the agency to share the referral with",
            anchor=f"share-organisation_id-{item_id}",
            own={
                "This agency is not taking part in the meeting.": (
                    "Select an agency taking part in the meeting"
                ),
                "Choose an active agency.": "Select an agency that is still active",
                "This agency already holds the referral.": "This agency already holds the referral",
                "This agency already has a live share of the referral.": (
                    "This agency can already see the referral"
                ),
            },
        ),
        Field(
            "lawful_basis",
            "Lawful basis",
            "Select the lawful basis for sharing",
            anchor=f"lawful_basis-{item_id}",
        ),
        Field(
            "expires_at",
            "Share",
            "The share cannot be made",
            anchor=f"share-organisation_id-{item_id}",
            own={
                "Must be in the future.": (
                    "The meeting was more than 30 days ago: a share for it would already have ended"
                ),
            },
        ),
    )


@blp.get("/meetings")
@requires(Permission.MEETINGS_READ)
def meeting_list() -> str:
    """Upcoming meetings soonest first; past ones latest first, a page at a time."""
    actor: User = current_user
    page = page_asked(request.args)
    upcoming = meetings.list_meetings(actor, upcoming=True, page=1, page_size=UPCOMING_MOST)
    past = meetings.list_meetings(actor, upcoming=False, page=page, page_size=PAST_PAGE_SIZE)
    check_page_exists(page, past.total, PAST_PAGE_SIZE)
    pages = page_count(past.total, PAST_PAGE_SIZE)
    return render_template(
        "meetings/list.html",
        upcoming=upcoming,
        past=past,
        past_pages=pagination(
            page, pages, query_for("/meetings", {}), label="Pages of past meetings"
        ),
        past_showing=showing(page, PAST_PAGE_SIZE, past.total, "past meeting"),
        may_convene=has_permission(actor, Permission.MEETINGS_CONVENE),
        errors={},
    )


def _agencies(shown: meeting_agenda.MeetingView) -> dict[uuid.UUID, Organisation]:
    return {invitation.organisation_id: invitation.organisation for invitation in shown.invitations}


def _owners(shown: meeting_agenda.MeetingView) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """For each held line, who may be named as the owner of an action agreed
    on it: the staff of the agencies taking part that hold the referral."""
    agencies = _agencies(shown)
    staff: dict[uuid.UUID, list[User]] = {}
    found: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for line in shown.held:
        holding = [org for org in agencies if org not in line.share_to]
        choices = []
        for org in holding:
            if org not in staff:
                staff[org] = actions.owners_to_choose(org)
            choices += [(str(p.id), f"{p.full_name}, {agencies[org].name}") for p in staff[org]]
        found[line.item.id] = choices
    return found


def render_meeting(
    meeting_id: uuid.UUID,
    *,
    errors: PageErrors | None = None,
    form: Mapping[str, Any] | None = None,
    form_of: str = "",
    status: int = 200,
) -> tuple[str, int]:
    """The meeting's page as the viewer's agency may see it, with a refused
    form's messages and input (`form_of` says which form: "attendance",
    "agenda", or "decision-", "action-", "share-" and the line's id)."""
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    shown = meeting_agenda.view(actor, meeting)
    contributes = has_permission(actor, Permission.MEETINGS_CONTRIBUTE)
    convener = (
        has_permission(actor, Permission.MEETINGS_CONVENE)
        and meeting.convening_organisation_id == actor.organisation_id
    )
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        shown=shown,
        agencies=_agencies(shown),
        day_has_come=meetings.day_has_come(meeting),
        over=meeting.held_at <= utcnow(),
        contributes=contributes,
        convener=convener,
        may_share=has_permission(actor, Permission.SHARES_MANAGE),
        candidates=meeting_agenda.agenda_candidates(actor, meeting) if contributes else [],
        owners=_owners(shown) if contributes else {},
        today=uk_today(),
        share_until=meetings.share_expiry(meeting),
        errors=errors if errors is not None else page_errors({}, ()),
        no_errors=page_errors({}, ()),
        form=form or {},
        form_of=form_of,
        **WORDS,
    ), status


@blp.get("/meetings/<uuid:meeting_id>")
@requires(Permission.MEETINGS_READ)
def meeting_detail(meeting_id: uuid.UUID) -> tuple[str, int]:
    return render_meeting(meeting_id)


@blp.get("/meetings/<uuid:meeting_id>/minutes")
@requires(Permission.MEETINGS_READ)
def meeting_minutes(meeting_id: uuid.UUID) -> str:
    """The minutes on paper, showing what the viewer's agency may see (each
    referral shown recorded as read, as on the page)."""
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    return render_template(
        "meetings/minutes.html",
        meeting=meeting,
        shown=meeting_agenda.view(actor, meeting),
        today=uk_today(),
        printed_at=utcnow(),
        errors={},
        **WORDS,
    )
