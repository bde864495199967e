"""Multi-agency meetings: input and output schemas (services/meetings.py and
services/meeting_agenda.py).

A meeting's agenda is dumped line by line as the caller's agency may see it:
a line whose referral the agency holds carries the referral, the decision
and the actions; any other line carries its id and position and
`held_by_others: true`, and nothing else (AgendaLineSchema.project)."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from referral_app.models import AgendaDecision, Attendance, LawfulBasis, RiskLevel, uk_today
from schemas.action import ActionCreateSchema, ActionReferralSchema, ActionSchema
from schemas.common import InputSchema, JsonBoolean, OutputSchema
from schemas.referral import OrganisationSummarySchema, PersonSchema

WHEN = ("upcoming", "past", "all")


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=1, max=max_length), **kwargs)


def _enum(enum_class: Any, **kwargs: Any) -> ma.fields.Enum:
    return ma.fields.Enum(enum_class, by_value=True, **kwargs)


# --- input -----------------------------------------------------------------------


class MeetingListQuerySchema(InputSchema):
    when = ma.fields.String(
        load_default="all",
        validate=ma.validate.OneOf(WHEN),
        metadata={
            "description": "`upcoming` (soonest first), `past` (latest first) or `all` "
            "(default, latest first)."
        },
    )

    @ma.post_load
    def as_upcoming(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"upcoming": {"upcoming": True, "past": False, "all": None}[data["when"]]}


class NextMeetingSchema(InputSchema):
    """The next meeting of a series: it invites the agencies of the one it
    follows as well as those given here."""

    title = _text(200, required=True)
    held_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "When it starts; within a year of today."},
    )
    online = JsonBoolean(load_default=False)
    place = _text(300, metadata={"description": "Required unless `online` is true."})
    invited_organisation_ids = ma.fields.List(
        ma.fields.UUID(),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Agencies invited besides those of the meeting it follows."},
    )


class MeetingCreateSchema(NextMeetingSchema):
    invited_organisation_ids = ma.fields.List(
        ma.fields.UUID(),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "Active agencies other than your own."},
    )
    follows_id = ma.fields.UUID(
        metadata={
            "description": "A meeting your agency convened that this one follows: its "
            "agencies are invited too, and the children still on review are carried forward."
        }
    )


class InvitationCreateSchema(InputSchema):
    organisation_id = ma.fields.UUID(required=True)


class AttendanceEntrySchema(InputSchema):
    organisation_id = ma.fields.UUID(required=True)
    attendance = _enum(Attendance, required=True)
    attendees = _text(2000, metadata={"description": "Who came: names and roles."})


class AttendanceSchema(InputSchema):
    attendance = ma.fields.List(
        ma.fields.Nested(AttendanceEntrySchema),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
    )


class AgendaAddSchema(InputSchema):
    referral_id = ma.fields.UUID(
        required=True, metadata={"description": "A submitted referral your agency holds."}
    )


class DecisionSchema(InputSchema):
    decision = _enum(AgendaDecision, required=True)
    discussion = _text(10000, required=True, metadata={"description": "A summary."})
    risk_level = _enum(
        RiskLevel,
        metadata={
            "description": "The risk level agreed; left out, the referral's level is "
            "confirmed. Another level changes the referral's."
        },
    )


class MeetingActionCreateSchema(ActionCreateSchema):
    owning_organisation_id = ma.fields.UUID(
        required=True,
        metadata={"description": "An agency taking part in the meeting that holds the referral."},
    )


class MeetingShareSchema(InputSchema):
    organisation_id = ma.fields.UUID(
        required=True,
        metadata={"description": "An agency taking part in the meeting that does not hold it."},
    )
    lawful_basis = _enum(LawfulBasis, load_default=LawfulBasis.PUBLIC_TASK)


# --- output ----------------------------------------------------------------------


class MeetingSchema(OutputSchema):
    id = ma.fields.UUID()
    title = ma.fields.String()
    held_at = ma.fields.AwareDateTime()
    online = ma.fields.Boolean()
    place = ma.fields.String(allow_none=True)
    convening_organisation = ma.fields.Nested(OrganisationSummarySchema)
    convened_by = ma.fields.Nested(PersonSchema)
    follows_id = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class AgencyAttendanceSchema(OutputSchema):
    organisation = ma.fields.Nested(OrganisationSummarySchema)
    attendance = _enum(Attendance, allow_none=True, metadata={"description": "Null: not recorded."})
    attendees = ma.fields.String(allow_none=True)


class AgendaReferralSchema(ActionReferralSchema):
    """The referral of a line the caller's agency holds: as an action's, with
    its risk level and status."""

    risk_level = _enum(RiskLevel, allow_none=True)
    status = ma.fields.String()


class AgendaActionSchema(ActionSchema):
    """An action as the actions API dumps it; `overdue` worked out once when
    the line is dumped (AgendaLineSchema.project), not asked of the action
    by the field."""

    # A plain field in place of the computed one: the same name and output.
    overdue = ma.fields.Boolean(  # type: ignore[assignment]
        metadata={"description": "Open and past its due date (UK time)."}
    )


class _Dated:
    """An action with whether it is overdue today, for AgendaActionSchema."""

    def __init__(self, action: Any, today: date) -> None:
        self._action = action
        self.overdue = bool(action.is_overdue(today))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)


HELD_ONLY = "Only on a line whose referral your agency holds."


class AgendaLineSchema(OutputSchema):
    """A line of the agenda as the caller's agency sees it."""

    id = ma.fields.UUID()
    position = ma.fields.Integer()
    held_by_others = ma.fields.Boolean(
        metadata={
            "description": "True: a referral held by other agencies; the line has no "
            "other field than `id` and `position`."
        }
    )
    referral = ma.fields.Nested(AgendaReferralSchema, metadata={"description": HELD_ONLY})
    added_by_organisation = ma.fields.Nested(
        OrganisationSummarySchema, metadata={"description": HELD_ONLY}
    )
    carried_forward = ma.fields.Boolean(
        metadata={"description": "Carried forward from the meeting this one follows."}
    )
    decision = _enum(AgendaDecision, allow_none=True, metadata={"description": HELD_ONLY})
    discussion = ma.fields.String(allow_none=True)
    risk_level_before = _enum(RiskLevel, allow_none=True)
    risk_level = _enum(RiskLevel, allow_none=True, metadata={"description": "As agreed."})
    recorded_at = ma.fields.AwareDateTime(allow_none=True)
    actions_agreed = ma.fields.List(ma.fields.Nested(AgendaActionSchema))
    actions_carried_forward = ma.fields.List(
        ma.fields.Nested(AgendaActionSchema),
        metadata={"description": "Open actions on the referral from before this meeting."},
    )

    @ma.pre_dump
    def project(self, line: Any, **_: Any) -> Any:
        """A line (services.meeting_agenda.ItemView) as the caller may see it;
        anything else (a line already in this shape) as it is."""
        item = getattr(line, "item", None)
        if item is None:
            return line
        today = uk_today()
        if line.referral is None:
            return {"id": item.id, "position": item.position, "held_by_others": True}
        return {
            "id": item.id,
            "position": item.position,
            "held_by_others": False,
            "referral": line.referral,
            "added_by_organisation": item.added_by_organisation,
            "carried_forward": item.carried_from_id is not None,
            "decision": item.decision,
            "discussion": item.discussion,
            "risk_level_before": item.risk_level_before,
            "risk_level": item.risk_level,
            "recorded_at": item.recorded_at,
            "actions_agreed": [_Dated(action, today) for action in line.agreed],
            "actions_carried_forward": [_Dated(action, today) for action in line.carried],
        }


class MeetingDetailSchema(MeetingSchema):
    """The meeting as the caller's agency sees it."""

    agencies = ma.fields.List(
        ma.fields.Nested(AgencyAttendanceSchema),
        attribute="invitations",
        metadata={"description": "The agencies taking part, the convening agency first."},
    )
    agenda = ma.fields.List(ma.fields.Nested(AgendaLineSchema), attribute="items")

    @ma.pre_dump
    def flatten(self, view: Any, **_: Any) -> Any:
        """A services.meeting_agenda.MeetingView: the meeting's own fields
        beside its agencies and agenda (anything else as it is)."""
        meeting = getattr(view, "meeting", None)
        if meeting is None:
            return view
        fields = {name: getattr(meeting, name) for name in MeetingSchema().fields}
        return {**fields, "invitations": view.invitations, "items": view.items}
