"""The worklist (home), the referral list and the search."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from blueprints.web import form_fields, validate
from blueprints.web.choices import CHOICES
from referral_app.models import (
    Referral,
    ReferralStatus,
    User,
)
from referral_app.policy import Permission, has_permission, requires
from referral_app.services import lifecycle, referrals
from schemas.referral import (
    ReferralFiltersSchema,
    ReferralListQuerySchema,
    ReferralSearchSchema,
)

blp = Blueprint("web_worklists", __name__)

PAGE_SIZE = 25


@blp.get("/")
@requires(Permission.ACCOUNT_SELF)
def home() -> str:
    """The worklist: what needs the viewer's attention first."""
    actor: User = current_user
    sections: list[tuple[str, str, list[Referral]]] = []
    if has_permission(actor, Permission.REFERRALS_READ):
        if "manager" in actor.roles:
            triage = referrals.list_referrals(
                actor,
                referrals.ReferralFilters(
                    direction="incoming", status=ReferralStatus.SUBMITTED, sort="deadline"
                ),
                page=1,
                page_size=PAGE_SIZE,
            )
            sections.append(("triage", "Awaiting triage", triage.items))
        mine = referrals.list_referrals(
            actor,
            referrals.ReferralFilters(assigned_to_me=True, status=ReferralStatus.IN_PROGRESS),
            page=1,
            page_size=PAGE_SIZE,
        )
        sections.append(("assigned", "Assigned to me", mine.items))
        sent = referrals.list_referrals(
            actor, referrals.ReferralFilters(direction="outgoing"), page=1, page_size=PAGE_SIZE
        )
        sections.append(("sent", "Sent by my agency", sent.items))
    return render_template("home.html", user=actor, sections=sections, overdue=lifecycle.is_overdue)


SEARCH_LIMIT = 100


@blp.route("/referrals", methods=["GET", "POST"])
@requires(Permission.REFERRALS_READ)
def referral_list() -> str | tuple[str, int]:
    """The list with its filters (in the query string: nothing personal). A
    search by name is POSTed, so the name never appears in a URL or a log;
    it shows the first SEARCH_LIMIT matches."""
    searching = request.method == "POST"
    source = request.form if searching else request.args
    filters_in = form_fields(source, skip=("page",))
    schema = (
        (ReferralSearchSchema() if filters_in.get("q") else ReferralFiltersSchema())
        if searching
        else ReferralListQuerySchema()
    )
    data, errors = validate(schema, filters_in)
    page_number = 1 if searching else max(1, request.args.get("page", 1, type=int) or 1)
    if data is None:
        return render_template(
            "referrals/list.html", errors=errors, form=filters_in, page=None, **CHOICES
        ), 422
    page_size = SEARCH_LIMIT if searching else PAGE_SIZE
    page = referrals.list_referrals(
        current_user,
        referrals.ReferralFilters.from_input(data),
        page=page_number,
        page_size=page_size,
    )
    return render_template(
        "referrals/list.html",
        errors={},
        form=filters_in,
        query={key: value for key, value in filters_in.items() if key != "q"},
        page=page,
        page_number=page_number,
        # None: more pages than were counted (services.paging.bounded_count).
        pages=1 if searching else max(1, -(-page.total // PAGE_SIZE)) if page.exact else None,
        searching=searching,
        search_limit=SEARCH_LIMIT,
        overdue=lifecycle.is_overdue,
        **CHOICES,
    )
