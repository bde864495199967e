"""The event subscriptions page of an agency's org admins: the agency's
webhook subscriptions, adding one (its signing secret shown once), one
subscription with its delivery log, rotating its secret, turning it back
on after it was disabled, removing it.

Org admins, not managers: a subscription connects one of the agency's own
systems (as its user and system accounts do), carries no case data (ids,
type, time), and what it is sent is decided by what the agency holds,
not by who set it up. The rules are services/event_subscriptions.py's."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from blueprints.web import form_fields, validate
from blueprints.web.forms import Field, page_errors
from blueprints.web.sent_once import sent_once
from referral_app.models.event import EventSubscription, EventType
from referral_app.policy import Permission, requires
from referral_app.services import event_delivery, event_subscriptions
from referral_app.services.errors import ServiceError
from schemas.event import SubscriptionCreateSchema

blp = Blueprint("web_events", __name__)

Page = str | tuple[str, int]

FIELDS = (
    Field(
        "url",
        "Address",
        "Enter the address events are sent to",
        invalid="Enter the address events are sent to, starting https://",
    ),
    Field("description", "Description", "Enter what the receiving system is"),
    Field(
        "event_types",
        "Events",
        "Select the events to send",
        anchor="event_types",
    ),
)
EVENT_WORDS = {
    EventType.RECEIVED: "A referral is received (submitted to the receiving agency)",
    EventType.STATUS_CHANGED: "A referral's status changes",
    EventType.OUTCOME_RECORDED: "An outcome is recorded",
    EventType.NOTE_SHARED: "A shared note is added",
    EventType.SHARE_GRANTED: "A referral is shared with another agency",
    EventType.SHARE_REVOKED: "A share is revoked",
    EventType.ACTION_DUE: "An action is due tomorrow, or overdue",
}


def _subscription(subscription_id: uuid.UUID) -> EventSubscription:
    return event_subscriptions.get_subscription(current_user, subscription_id)


@blp.get("/admin/events")
@requires(Permission.EVENTS_MANAGE)
def subscription_list() -> Page:
    listed = event_subscriptions.list_subscriptions(current_user)
    return render_template(
        "events/list.html",
        subscriptions=listed,
        waiting={item.id: event_delivery.waiting(item) for item in listed},
        event_words=EVENT_WORDS,
    )


def _new_page(form: MultiDict[str, str] | None = None, raw_errors: Any = None) -> str:
    return render_template(
        "events/new.html",
        form=form or MultiDict(),
        chosen=(form.getlist("event_types") if form else []),
        errors=page_errors(raw_errors, FIELDS),
        event_words=EVENT_WORDS,
    )


@blp.get("/admin/events/new")
@requires(Permission.EVENTS_MANAGE)
def subscription_new() -> Page:
    return _new_page()


@blp.post("/admin/events/new")
@requires(Permission.EVENTS_MANAGE)
@sent_once
def subscription_create() -> Page:
    data, errors = validate(
        SubscriptionCreateSchema(), form_fields(request.form, lists=("event_types",))
    )
    if data is None:
        return _new_page(request.form, errors), 422
    try:
        subscription, secret = event_subscriptions.create(
            current_user,
            url=data["url"],
            event_types=data.get("event_types", []),
            description=data.get("description"),
        )
    except ServiceError as refusal:
        return _new_page(request.form, refusal.errors or {"_schema": [refusal.message]}), 422
    return render_template("events/secret.html", subscription=subscription, secret=secret)


@blp.get("/admin/events/<uuid:subscription_id>")
@requires(Permission.EVENTS_MANAGE)
def subscription_detail(subscription_id: uuid.UUID) -> Page:
    subscription = _subscription(subscription_id)
    return render_template(
        "events/detail.html",
        subscription=subscription,
        log=event_delivery.deliveries_log(subscription),
        waiting=event_delivery.waiting(subscription),
        event_words=EVENT_WORDS,
    )


@blp.post("/admin/events/<uuid:subscription_id>/secret")
@requires(Permission.EVENTS_MANAGE)
@sent_once
def subscription_secret(subscription_id: uuid.UUID) -> Page:
    subscription = _subscription(subscription_id)
    secret = event_subscriptions.rotate_secret(current_user, subscription)
    return render_template(
        "events/secret.html", subscription=subscription, secret=secret, rotated=True
    )


@blp.post("/admin/events/<uuid:subscription_id>/enable")
@requires(Permission.EVENTS_MANAGE)
@sent_once
def subscription_enable(subscription_id: uuid.UUID) -> Response:
    subscription = event_subscriptions.enable(current_user, _subscription(subscription_id))
    flash("The subscription is on again: waiting events will be sent in order.")
    return redirect(f"/admin/events/{subscription.id}")


@blp.post("/admin/events/<uuid:subscription_id>/delete")
@requires(Permission.EVENTS_MANAGE)
@sent_once
def subscription_delete(subscription_id: uuid.UUID) -> Response:
    event_subscriptions.delete(current_user, _subscription(subscription_id))
    flash("The subscription has been removed. No more events will be sent to it.")
    return redirect("/admin/events")
