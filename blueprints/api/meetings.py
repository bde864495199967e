"""Multi-agency (MACE) meetings: convened by one agency with the agencies it
invites; the agenda of referrals, each seen in full only by the agencies
that hold it; attendance, decisions, actions agreed and shares for the
meeting. A meeting the caller's agency does not take part in is a 404;
recording on an agenda line it does not hold is a 403 (it sees that the
line exists, nothing else)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors, documents_pagination
from referral_app.models import Action, Meeting, MeetingInvitation, Share
from referral_app.policy import Permission, requires
from referral_app.services import meeting_agenda, meetings
from schemas.action import ActionSchema
from schemas.meeting import (
    AgencyAttendanceSchema,
    AgendaAddSchema,
    AgendaLineSchema,
    AttendanceSchema,
    DecisionSchema,
    InvitationCreateSchema,
    MeetingActionCreateSchema,
    MeetingCreateSchema,
    MeetingDetailSchema,
    MeetingListQuerySchema,
    MeetingSchema,
    MeetingShareSchema,
    NextMeetingSchema,
)
from schemas.referral import ShareSchema

blp = Blueprint(
    "meetings",
    __name__,
    description="Multi-agency child exploitation (MACE) meetings, their agendas and minutes.",
)

# What every route about one meeting can answer besides its own errors.
MEETING_ERRORS = (*AUTHENTICATED_ERRORS, 404)
BODY_ERRORS = (400, 413, 415)


@blp.route("/meetings")
class Meetings(MethodView):
    @requires(Permission.MEETINGS_READ)
    @blp.arguments(MeetingListQuerySchema, location="query")
    @blp.response(200, MeetingSchema(many=True))
    @blp.paginate(page_size=25, max_page_size=100)
    @documents_pagination(blp)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Meetings the caller's agency takes part in (convened or invited):
        titles, dates and agencies, no child's details."""
        page = meetings.list_meetings(
            current_user,
            upcoming=query["upcoming"],
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = page.total
        return page.items

    @requires(Permission.MEETINGS_CONVENE)
    @blp.arguments(
        MeetingCreateSchema,
        example={
            "title": "Chelmsford MACE, December",
            "held_at": "2026-12-10T10:00:00+00:00",
            "place": "County Hall, Room 2",
            "online": False,
            "invited_organisation_ids": [
                "6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c",
                "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            ],
        },
    )
    @blp.response(201, MeetingDetailSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS)
    def post(self, data: dict[str, Any]) -> meeting_agenda.MeetingView:
        """Convene a meeting of your agency with the agencies invited (managers).
        With `follows_id`, the children still on review at that meeting are
        carried forward onto this one's agenda (404 for a meeting your agency
        does not take part in, 403 for one it did not convene)."""
        meeting = meetings.convene(current_user, **data)
        return meeting_agenda.view(current_user, meeting)


@blp.route("/meetings/<uuid:meeting_id>")
class MeetingDetail(MethodView):
    @requires(Permission.MEETINGS_READ)
    @blp.response(200, MeetingDetailSchema)
    @documents_errors(blp, *MEETING_ERRORS)
    def get(self, meeting_id: uuid.UUID) -> meeting_agenda.MeetingView:
        """The meeting as your agency may see it: the agencies and their
        attendance; each agenda line of a referral your agency holds with the
        referral, the decision and the actions; any other line as `held_by_others`
        with nothing else."""
        return meeting_agenda.view(current_user, meetings.get_meeting(current_user, meeting_id))


@blp.route("/meetings/<uuid:meeting_id>/invitations")
class Invitations(MethodView):
    @requires(Permission.MEETINGS_CONVENE)
    @blp.arguments(
        InvitationCreateSchema, example={"organisation_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"}
    )
    @blp.response(201, AgencyAttendanceSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID) -> MeetingInvitation:
        """Invite one more agency (managers of the convening agency; 409 when
        it is already invited)."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        return meetings.invite(current_user, meeting, data["organisation_id"])


@blp.route("/meetings/<uuid:meeting_id>/attendance")
class MeetingAttendance(MethodView):
    @requires(Permission.MEETINGS_CONVENE)
    @blp.arguments(
        AttendanceSchema,
        example={
            "attendance": [
                {
                    "organisation_id": "6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c",
                    "attendance": "attended",
                    "attendees": "Helen Carter (team manager)",
                },
                {
                    "organisation_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                    "attendance": "apologies",
                },
            ]
        },
    )
    @blp.response(200, AgencyAttendanceSchema(many=True))
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def put(self, data: dict[str, Any], meeting_id: uuid.UUID) -> list[MeetingInvitation]:
        """Record which agencies attended, sent apologies or were absent, and
        who came (managers of the convening agency; 409 before the meeting's
        day)."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        entries = [meetings.AttendanceEntry(**entry) for entry in data["attendance"]]
        meetings.record_attendance(current_user, meeting, entries)
        return meetings.invitations(meeting)


@blp.route("/meetings/<uuid:meeting_id>/agenda")
class Agenda(MethodView):
    @requires(Permission.MEETINGS_CONTRIBUTE)
    @blp.arguments(AgendaAddSchema, example={"referral_id": "3f2b8c1e-7a4d-4b9e-9c1a-5d6e7f8a9b0c"})
    @blp.response(201, AgendaLineSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID) -> meeting_agenda.ItemView:
        """Put a referral your agency holds on the agenda (404 for one it does
        not hold; 409 for a draft or one already on it)."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        item = meeting_agenda.add_to_agenda(current_user, meeting, data["referral_id"])
        return meeting_agenda.item_view(current_user, meeting, item.id)


@blp.route("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/decision")
class Decision(MethodView):
    @requires(Permission.MEETINGS_CONTRIBUTE)
    @blp.arguments(
        DecisionSchema,
        example={
            "decision": "continue",
            "risk_level": "medium",
            "discussion": "Missing episodes have stopped since the school placement; "
            "keep on review for a month.",
        },
    )
    @blp.response(200, AgendaLineSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def post(
        self, data: dict[str, Any], meeting_id: uuid.UUID, item_id: uuid.UUID
    ) -> meeting_agenda.ItemView:
        """Record the discussion, the decision and the risk level agreed for a
        line whose referral your agency holds (403 otherwise; 409 before the
        meeting's day). Sending it again corrects the record."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        meeting_agenda.record_item(current_user, meeting, item_id, **data)
        return meeting_agenda.item_view(current_user, meeting, item_id)


@blp.route("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/actions")
class AgreedActions(MethodView):
    @requires(Permission.MEETINGS_CONTRIBUTE)
    @blp.arguments(
        MeetingActionCreateSchema,
        example={
            "description": "Share the school attendance record with youth justice.",
            "due_on": "2026-12-17",
            "owning_organisation_id": "6d1f4a2b-3c5e-4f7a-8b9c-0d1e2f3a4b5c",
        },
    )
    @blp.response(201, ActionSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID, item_id: uuid.UUID) -> Action:
        """Agree an action about a line's referral, owned by an agency taking
        part that holds it (422 otherwise), optionally by a named person in
        it. 403 when your agency does not hold the referral."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        return meeting_agenda.agree_action(current_user, meeting, item_id, **data)


@blp.route("/meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/shares")
class MeetingShares(MethodView):
    @requires(Permission.SHARES_MANAGE)
    @blp.arguments(
        MeetingShareSchema,
        example={
            "organisation_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
            "lawful_basis": "public_task",
        },
    )
    @blp.response(201, ShareSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS, 409)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID, item_id: uuid.UUID) -> Share:
        """Share a line's referral with an agency taking part, for this
        meeting: the purpose names the meeting and the share ends 30 days
        after it (managers of the referring or receiving agency)."""
        meeting = meetings.get_meeting(current_user, meeting_id)
        return meeting_agenda.share_for_meeting(
            current_user, meeting, item_id, data["organisation_id"], data["lawful_basis"]
        )


@blp.route("/meetings/<uuid:meeting_id>/next")
class NextMeeting(MethodView):
    @requires(Permission.MEETINGS_CONVENE)
    @blp.arguments(
        NextMeetingSchema,
        example={
            "title": "Chelmsford MACE, January",
            "held_at": "2027-01-14T10:00:00+00:00",
            "online": True,
        },
    )
    @blp.response(201, MeetingDetailSchema)
    @documents_errors(blp, *MEETING_ERRORS, *BODY_ERRORS)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID) -> meeting_agenda.MeetingView:
        """Convene the meeting that follows this one (managers of the agency
        that convened it): the same agencies and any others given, and the
        children still on review carried forward with their open actions."""
        meeting: Meeting = meetings.convene(current_user, follows_id=meeting_id, **data)
        return meeting_agenda.view(current_user, meeting)
