"""The forms of the meetings pages: convening a meeting (or the next one of
a series), and, on a meeting's page, its attendance, adding a referral to
the agenda, and for a line the viewer's agency holds the decision, an
action agreed and a share for the meeting. Each is validated by the API's
schema and sent to the same service; a refusal shows the meeting's page
again with the form's messages in a caseworker's words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import FormErrors, form_fields, validate
from blueprints.web.date_input import PARTS, read_date
from blueprints.web.forms import Field, page_errors
from blueprints.web.meetings import DECISIONS, line_fields, render_meeting
from blueprints.web.sent_once import sent_once
from referral_app.models import UK, Meeting, User
from referral_app.policy import Permission, requires
from referral_app.services import meeting_agenda, meetings, organisations
from referral_app.services.errors import Conflict, Invalid, NotFound
from referral_app.templating import uk_date, uk_time
from schemas.meeting import (
    AgendaAddSchema,
    AttendanceEntrySchema,
    DecisionSchema,
    MeetingActionCreateSchema,
    MeetingCreateSchema,
    MeetingShareSchema,
    NextMeetingSchema,
)

blp = Blueprint("web_meeting_forms", __name__)

DEFAULT_TITLE = "MACE meeting"
# "10:00", "9.30", "14:30", "2pm", "2:30 pm".
TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)
TIME_INVALID = "Enter a real time, for example 10:00 or 2:30pm"

NEW_FIELDS = (
    Field("title", "Title", "Enter a title for the meeting"),
    Field(
        "held_on",
        "Date",
        "Enter the date of the meeting",
        invalid="Date must be a real date",
        anchor="held_on-day",
        own={
            "Within a year of today.": "Date must be within a year of today",
            "After the meeting it follows.": "Date must be after the meeting this one follows",
        },
    ),
    Field("held_time", "Time", "Enter the time the meeting starts", invalid=TIME_INVALID),
    Field("venue", "Where", "Select whether the meeting is in a place or online"),
    Field(
        "place",
        "Place",
        "Enter where the meeting is",
        own={"Say where the meeting is, or that it is online.": "Enter where the meeting is"},
    ),
    Field(
        "invited_organisation_ids",
        "Agencies invited",
        "Select at least one agency to invite",
        invalid="Select agencies from the list",
        own={
            "Invite at least one other agency.": "Select at least one agency to invite",
            "Invite active agencies only.": "Select agencies that are still active",
        },
    ),
)
AGENDA_FIELDS = (
    Field(
        "referral_id",
        "Referral",
        "Select a referral to add to the agenda",
        invalid="Select a referral from the list",
        own={
            "This referral is already on the agenda.": "This referral is already on the agenda",
            "A draft cannot go on an agenda: submit it first.": (
                "Submit the referral before adding it to the agenda"
            ),
        },
    ),
)


# --- convening -------------------------------------------------------------------


def _agencies_to_invite(actor: User) -> list[Any]:
    listed, _total = organisations.list_organisations(page=1, page_size=500)
    return [org for org in listed if org.active and org.id != actor.organisation_id]


def _follows(actor: User) -> Meeting | None:
    """The meeting the new one follows (`?follows=` or the form's field)."""
    raw = request.values.get("follows_id") or request.args.get("follows") or ""
    if not raw:
        return None
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        raise NotFound("No such meeting.") from None
    return meetings.get_meeting(actor, wanted)


def _render_new(
    previous: Meeting | None,
    form: Mapping[str, Any],
    ticked: list[str],
    errors: FormErrors | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The form, with what was typed (or what the meeting it follows gives)
    and any messages. The next meeting of a series invites the agencies of
    the one it follows again: they are named, and the others offered."""
    actor: User = current_user
    again = [i.organisation for i in meetings.invitations(previous)] if previous else []
    return render_template(
        "meetings/new.html",
        previous=previous,
        invited_again=[org for org in again if org.id != actor.organisation_id],
        agencies=[org for org in _agencies_to_invite(actor) if org not in again],
        errors=page_errors(errors or {}, NEW_FIELDS),
        form=form,
        ticked=set(ticked),
    ), status


def _ticked() -> list[str]:
    return request.form.getlist("invited_organisation_ids")


def _held_at(form: Mapping[str, str]) -> tuple[str | None, FormErrors]:
    """The date and time inputs as one aware time (UK wall clock), in ISO 8601."""
    errors: FormErrors = {}
    day, problem = read_date(form, "held_on", NEW_FIELDS[1])
    if problem:
        errors["held_on"] = [problem]
    elif day is None:
        errors["held_on"] = [NEW_FIELDS[1].missing]
    typed = form.get("held_time", "").strip()
    clock = _time(typed)
    if not typed:
        errors["held_time"] = [NEW_FIELDS[2].missing]
    elif clock is None:
        errors["held_time"] = [TIME_INVALID]
    if errors or day is None or clock is None:
        return None, errors
    return datetime.combine(day, clock, UK).astimezone(UTC).isoformat(), {}


def _time(typed: str) -> time | None:
    found = TIME.match(typed)
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    suffix = (found.group(3) or "").lower().replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


@blp.route("/meetings/new", methods=["GET"])
@requires(Permission.MEETINGS_CONVENE)
def meeting_new() -> tuple[str, int]:
    """The form; `?follows=<meeting id>` for the next meeting of a series,
    with its title, place and agencies."""
    previous = _follows(current_user)
    form = {"title": previous.title if previous else DEFAULT_TITLE}
    if previous is not None and not previous.online and previous.place:
        form.update(venue="place", place=previous.place)
    elif previous is not None:
        form.update(venue="online")
    return _render_new(previous, form, [])


@blp.route("/meetings/new", methods=["POST"])
@requires(Permission.MEETINGS_CONVENE)
@sent_once
def meeting_convene() -> Response | tuple[str, int]:
    actor: User = current_user
    previous = _follows(actor)
    skip = ("held_time", "venue", "place", "online", "follows_id", *(f"held_on-{p}" for p in PARTS))
    data = form_fields(request.form, lists=("invited_organisation_ids",), skip=skip)
    held_at, errors = _held_at(request.form)
    if held_at:
        data["held_at"] = held_at
    venue = request.form.get("venue", "")
    if venue == "online":
        data["online"] = True
    elif venue == "place":
        if request.form.get("place", "").strip():
            data["place"] = request.form["place"]
        else:
            errors["place"] = [NEW_FIELDS[4].missing]
    else:
        errors["venue"] = [NEW_FIELDS[3].missing]
    schema = MeetingCreateSchema() if previous is None else NextMeetingSchema()
    loaded, refused = validate(schema, data)
    if loaded is None or errors:
        said = refused.pop("held_at", None)
        refused = {**refused, **errors}
        if said and not {"held_on", "held_time"} & refused.keys():
            refused["held_on"] = said
        return _render_new(previous, request.form, _ticked(), refused, 422)
    try:
        follows_id = previous.id if previous is not None else None
        meeting = meetings.convene(actor, follows_id=follows_id, **loaded)
    except Invalid as refusal:
        found = dict(refusal.errors or {"_schema": [refusal.message]})
        if "held_at" in found:
            found["held_on"] = found.pop("held_at")
        return _render_new(previous, request.form, _ticked(), found, 422)
    flash(f"Meeting convened: {meeting.title}, {uk_time(meeting.held_at)}")
    return redirect(f"/meetings/{meeting.id}")


# --- on a meeting's page -----------------------------------------------------------


def _again(
    meeting_id: uuid.UUID, raw: FormErrors, fields: tuple[Field, ...], form_of: str, status: int
) -> tuple[str, int]:
    return render_meeting(
        meeting_id,
        errors=page_errors(raw, fields),
        form=request.form,
        form_of=form_of,
        status=status,
    )


def _refusal(error: Invalid | Conflict, key: str) -> FormErrors:
    return dict(error.errors or {key: [error.message]})


@blp.post("/meetings/<uuid:meeting_id>/attendance")
@requires(Permission.MEETINGS_CONVENE)
@sent_once
def meeting_attendance(meeting_id: uuid.UUID) -> Response | tuple[str, int]:
    """Each agency taking part: attended, sent apologies or absent, and who came."""
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    fields: list[Field] = []
    errors: FormErrors = {}
    entries = []
    for invitation in meetings.invitations(meeting):
        org, name = invitation.organisation_id, invitation.organisation.name
        fields += [
            Field(f"attendance-{org}", f"Attendance of {name}", f"Select whether {name} attended"),
            Field(f"attendees-{org}", f"Who came from {name}", f"Enter who came from {name}"),
        ]
        typed = {"organisation_id": str(org), "attendance": request.form.get(f"attendance-{org}")}
        if request.form.get(f"attendees-{org}", "").strip():
            typed["attendees"] = request.form[f"attendees-{org}"]
        loaded, refused = validate(AttendanceEntrySchema(), {k: v for k, v in typed.items() if v})
        for name_of, messages in refused.items():
            errors[f"{name_of}-{org}"] = messages
        if loaded is not None:
            entries.append(meetings.AttendanceEntry(**loaded))
    if errors:
        return _again(meeting_id, errors, tuple(fields), "attendance", 422)
    try:
        meetings.record_attendance(actor, meeting, entries)
    except (Invalid, Conflict) as refusal:
        return _again(
            meeting_id, _refusal(refusal, "_schema"), tuple(fields), "attendance", refusal.status
        )
    flash("Attendance recorded")
    return redirect(f"/meetings/{meeting_id}#attendance")


@blp.post("/meetings/<uuid:meeting_id>/agenda")
@requires(Permission.MEETINGS_CONTRIBUTE)
@sent_once
def meeting_add_to_agenda(meeting_id: uuid.UUID) -> Response | tuple[str, int]:
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    loaded, errors = validate(AgendaAddSchema(), form_fields(request.form))
    if loaded is None:
        return _again(meeting_id, errors, AGENDA_FIELDS, "agenda", 422)
    try:
        # A referral the agency does not hold (never one the list offers)
        # does not exist for it: the 404 page, as through the API.
        item = meeting_agenda.add_to_agenda(actor, meeting, loaded["referral_id"])
    except Conflict as refusal:
        return _again(meeting_id, _refusal(refusal, "referral_id"), AGENDA_FIELDS, "agenda", 409)
    line = meeting_agenda.item_view(actor, meeting, item.id)
    assert line.referral is not None
    child = line.referral.child
    flash(f"Added to the agenda: {child.first_name} {child.last_name} ({line.referral.reference})")
    return redirect(f"/meetings/{meeting_id}#item-{item.id}")


@blp.post("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/decision")
@requires(Permission.MEETINGS_CONTRIBUTE)
@sent_once
def meeting_decision(meeting_id: uuid.UUID, item_id: uuid.UUID) -> Response | tuple[str, int]:
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    fields, form_of = line_fields(item_id), f"decision-{item_id}"
    loaded, errors = validate(DecisionSchema(), form_fields(request.form))
    if loaded is None:
        return _again(meeting_id, errors, fields, form_of, 422)
    try:
        item = meeting_agenda.record_item(actor, meeting, item_id, **loaded)
    except (Invalid, Conflict) as refusal:
        return _again(meeting_id, _refusal(refusal, "decision"), fields, form_of, refusal.status)
    flash(f"Decision recorded: {DECISIONS[item.decision]}" if item.decision else "Recorded")
    return redirect(f"/meetings/{meeting_id}#item-{item_id}")


@blp.post("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/actions")
@requires(Permission.MEETINGS_CONTRIBUTE)
@sent_once
def meeting_action(meeting_id: uuid.UUID, item_id: uuid.UUID) -> Response | tuple[str, int]:
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    fields, form_of = line_fields(item_id), f"action-{item_id}"
    data = form_fields(request.form, skip=tuple(f"due_on-{part}" for part in PARTS))
    day, problem = read_date(request.form, "due_on", fields[6])
    errors: FormErrors = {"due_on": [problem]} if problem else {}
    if day is not None:
        data["due_on"] = day.isoformat()
    loaded, refused = validate(MeetingActionCreateSchema(), data)
    if loaded is None or errors:
        return _again(meeting_id, {**refused, **errors}, fields, form_of, 422)
    try:
        action = meeting_agenda.agree_action(actor, meeting, item_id, **loaded)
    except (Invalid, Conflict) as refusal:
        return _again(meeting_id, _refusal(refusal, "description"), fields, form_of, refusal.status)
    flash(f"Action agreed for {action.owning_organisation.name}, due {uk_date(action.due_on)}")
    return redirect(f"/meetings/{meeting_id}#item-{item_id}")


@blp.post("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/shares")
@requires(Permission.SHARES_MANAGE)
@sent_once
def meeting_share(meeting_id: uuid.UUID, item_id: uuid.UUID) -> Response | tuple[str, int]:
    actor: User = current_user
    meeting = meetings.get_meeting(actor, meeting_id)
    fields, form_of = line_fields(item_id), f"share-{item_id}"
    loaded, errors = validate(MeetingShareSchema(), form_fields(request.form))
    if loaded is None:
        return _again(meeting_id, errors, fields, form_of, 422)
    try:
        grant = meeting_agenda.share_for_meeting(
            actor, meeting, item_id, loaded["organisation_id"], loaded["lawful_basis"]
        )
    except (Invalid, Conflict) as refusal:
        return _again(
            meeting_id, _refusal(refusal, "organisation_id"), fields, form_of, refusal.status
        )
    flash(
        f"Shared with {grant.organisation.name} for this meeting, until {uk_date(grant.expires_at)}"
    )
    return redirect(f"/meetings/{meeting_id}#item-{item_id}")
