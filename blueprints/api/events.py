"""Events about referrals: the pull feed (for systems that cannot receive
calls) and the agency's webhook subscriptions with their delivery log
(services/events.py, event_subscriptions.py, event_delivery.py).

The feed is read by the case roles and by systems granted `events:read`:
the events of the referrals the caller's agency holds now, in order.
Subscriptions are managed by the agency's org admins; another agency's
subscription does not exist for them (404)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from flask_login import current_user

from blueprints.api import AUTHENTICATED_ERRORS, Blueprint, documents_errors
from referral_app.models.event import EventDeliveryAttempt, EventSubscription
from referral_app.policy import Permission, requires
from referral_app.services import event_delivery, event_subscriptions, events
from schemas.event import (
    DeliveryAttemptSchema,
    EventFeedQuerySchema,
    EventFeedSchema,
    SecretSchema,
    SubscriptionChangeSchema,
    SubscriptionCreatedSchema,
    SubscriptionCreateSchema,
    SubscriptionSchema,
)

blp = Blueprint(
    "events",
    __name__,
    description="Events about the referrals an agency holds: a pull feed, and webhooks "
    "signed per Standard Webhooks (subscriptions, their secrets and delivery log).",
)

SUBSCRIPTION_EXAMPLE = {
    "url": "https://records.essex-police.example/hooks/referrals",
    "event_types": ["referral.received", "referral.status_changed", "referral.share_revoked"],
    "description": "Police records system (Niche), referrals interface",
}


@blp.route("/events")
class Feed(MethodView):
    @requires(Permission.EVENTS_READ)
    @blp.arguments(EventFeedQuerySchema, location="query")
    @blp.response(200, EventFeedSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self, query: dict[str, Any]) -> events.FeedPage:
        """The events after a cursor about the referrals the caller's agency
        holds now, in order: the same events its webhooks are sent. Send
        `next_cursor` back as `after` for the next page."""
        return events.feed(current_user, after=query["after"], limit=query["limit"])


@blp.route("/event-subscriptions")
class Subscriptions(MethodView):
    @requires(Permission.EVENTS_MANAGE)
    @blp.response(200, SubscriptionSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS)
    def get(self) -> list[EventSubscription]:
        """The caller's agency's webhook subscriptions (org admins)."""
        return event_subscriptions.list_subscriptions(current_user)

    @requires(Permission.EVENTS_MANAGE)
    @blp.arguments(SubscriptionCreateSchema, example=SUBSCRIPTION_EXAMPLE)
    @blp.response(201, SubscriptionCreatedSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 413, 415)
    def post(self, data: dict[str, Any]) -> EventSubscription:
        """Subscribe an https endpoint on a public host to some or all event
        types (422 for any other address). The answer carries the signing
        secret, shown this once."""
        subscription, secret = event_subscriptions.create(
            current_user,
            url=data["url"],
            event_types=data.get("event_types", []),
            description=data.get("description"),
            system_account_id=data.get("system_account_id"),
        )
        subscription.secret = secret  # type: ignore[attr-defined]
        return subscription


@blp.route("/event-subscriptions/<uuid:subscription_id>")
class Subscription(MethodView):
    @requires(Permission.EVENTS_MANAGE)
    @blp.response(200, SubscriptionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, subscription_id: uuid.UUID) -> EventSubscription:
        """One of the agency's subscriptions."""
        return event_subscriptions.get_subscription(current_user, subscription_id)

    @requires(Permission.EVENTS_MANAGE)
    @blp.arguments(
        SubscriptionChangeSchema,
        example={"event_types": [], "description": "Police records system, all events"},
    )
    @blp.response(200, SubscriptionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 400, 404, 413, 415)
    def patch(self, data: dict[str, Any], subscription_id: uuid.UUID) -> EventSubscription:
        """Change the address (checked as when subscribing), the event types
        or the description."""
        subscription = event_subscriptions.get_subscription(current_user, subscription_id)
        return event_subscriptions.change(current_user, subscription, data)

    @requires(Permission.EVENTS_MANAGE)
    @blp.response(204)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Remove a subscription, its waiting deliveries and its log."""
        subscription = event_subscriptions.get_subscription(current_user, subscription_id)
        event_subscriptions.delete(current_user, subscription)


@blp.route("/event-subscriptions/<uuid:subscription_id>/secret")
class Secret(MethodView):
    @requires(Permission.EVENTS_MANAGE)
    @blp.response(200, SecretSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def post(self, subscription_id: uuid.UUID) -> dict[str, str]:
        """Rotate the signing secret: the new one, shown this once, signs
        every delivery from now on."""
        subscription = event_subscriptions.get_subscription(current_user, subscription_id)
        return {"secret": event_subscriptions.rotate_secret(current_user, subscription)}


@blp.route("/event-subscriptions/<uuid:subscription_id>/enable")
class Enable(MethodView):
    @requires(Permission.EVENTS_MANAGE)
    @blp.response(200, SubscriptionSchema)
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def post(self, subscription_id: uuid.UUID) -> EventSubscription:
        """Turn a subscription disabled after repeated failure back on: its
        waiting deliveries are tried again, in order."""
        subscription = event_subscriptions.get_subscription(current_user, subscription_id)
        return event_subscriptions.enable(current_user, subscription)


@blp.route("/event-subscriptions/<uuid:subscription_id>/deliveries")
class Deliveries(MethodView):
    @requires(Permission.EVENTS_MANAGE)
    @blp.response(200, DeliveryAttemptSchema(many=True))
    @documents_errors(blp, *AUTHENTICATED_ERRORS, 404)
    def get(self, subscription_id: uuid.UUID) -> list[EventDeliveryAttempt]:
        """The subscription's delivery log, newest first (the last 50 tries):
        the event, when, the answer's status, the error, how long it took."""
        subscription = event_subscriptions.get_subscription(current_user, subscription_id)
        return event_delivery.deliveries_log(subscription)
