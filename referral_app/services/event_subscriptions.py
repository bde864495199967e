"""An agency's webhook subscriptions: the endpoint (checked against SSRF),
the event types, and the Standard Webhooks signing secret.

Managed by the agency's org admins: a subscription is a connection to one
of the agency's own systems, like its user accounts, not a decision about a
case. What it sends names no child (ids, type and time), and which events
it carries is decided by what the agency holds, not by who set it up.

The endpoint must be https to a public address: the host is resolved and
every address it resolves to must be global, so the job runner is never
pointed at the internal network (refused again before every delivery, as
DNS may change). Plain http to a loopback address only when
ALLOW_HTTP_LOOPBACK_WEBHOOKS is set (the tests' receivers).

The secret (`whsec_` and base64 of 32 random bytes) is shown once, when the
subscription is made or the secret rotated; it is kept encrypted with a key
derived from SECRET_KEY (it must be read back to sign, so it cannot be
hashed).
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import uuid
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select, update

from referral_app.extensions import db
from referral_app.models import User, utcnow
from referral_app.models.event import (
    DeliveryStatus,
    EventDelivery,
    EventSubscription,
    EventType,
)
from referral_app.models.system_account import SystemAccount
from referral_app.services import audit
from referral_app.services.errors import Invalid, NotFound

EVENT_TYPES = tuple(str(member) for member in EventType)
URL_LIMIT = 2000


class UnsafeEndpoint(ValueError):
    """An endpoint the job runner must not call; the message says why."""


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"event-subscription-secrets"
    ).derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(subscription: EventSubscription) -> str:
    return _fernet().decrypt(subscription.secret_encrypted.encode()).decode()


def _resolve(host: str, port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return {literal}
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise UnsafeEndpoint("The address's host name could not be found.") from error
    addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        addresses.add(address)
    return addresses


def check_endpoint(url: str) -> None:
    """Refuse (UnsafeEndpoint) an endpoint the job runner must not call:
    not https, credentials in the address, a host that does not resolve, or
    one that resolves to any address that is not public (private, loopback,
    link-local, reserved); loopback over http or https only when the
    configuration allows it (tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeEndpoint(
            "Enter an address starting https://, such as https://example.org/events."
        )
    if parts.username or parts.password:
        raise UnsafeEndpoint("Leave the user name and password out of the address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeEndpoint("The address's port is not a number from 1 to 65535.") from error
    addresses = _resolve(parts.hostname, port)
    loopback_allowed = bool(current_app.config.get("ALLOW_HTTP_LOOPBACK_WEBHOOKS"))
    if loopback_allowed and addresses and all(address.is_loopback for address in addresses):
        return
    if parts.scheme != "https":
        raise UnsafeEndpoint("Use an https:// address: events are only sent encrypted.")
    if not addresses or not all(address.is_global for address in addresses):
        raise UnsafeEndpoint(
            "The address is on a private or local network: events are only sent to "
            "public addresses."
        )


def _checked(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a new or changed subscription, or Invalid naming each fault."""
    errors: dict[str, list[str]] = {}
    if "url" in data:
        try:
            check_endpoint(data["url"])
        except UnsafeEndpoint as error:
            errors["url"] = [str(error)]
    if "event_types" in data:
        unknown = sorted(set(data["event_types"]) - set(EVENT_TYPES))
        if unknown:
            errors["event_types"] = ["Not an event type: " + ", ".join(unknown) + "."]
        else:
            data["event_types"] = [name for name in EVENT_TYPES if name in data["event_types"]]
    if data.get("system_account_id") is not None:
        system = db.session.get(SystemAccount, data["system_account_id"])
        if system is None or system.organisation_id != actor.organisation_id or system.revoked:
            errors["system_account_id"] = ["Choose a system of your agency that is not revoked."]
    if errors:
        raise Invalid("The subscription is not valid.", errors)
    return data


def list_subscriptions(actor: User) -> list[EventSubscription]:
    return list(
        db.session.scalars(
            select(EventSubscription)
            .where(EventSubscription.organisation_id == actor.organisation_id)
            .order_by(EventSubscription.created_at, EventSubscription.id)
        )
    )


def get_subscription(actor: User, subscription_id: uuid.UUID) -> EventSubscription:
    """One of the actor's agency's subscriptions; another agency's does not exist (NotFound)."""
    found = db.session.scalar(
        select(EventSubscription).where(
            EventSubscription.id == subscription_id,
            EventSubscription.organisation_id == actor.organisation_id,
        )
    )
    if found is None:
        raise NotFound("No such event subscription.")
    return found


def _audit(action: str, actor: User, subscription: EventSubscription, **details: Any) -> None:
    audit.record(
        action, actor, record_type="event_subscription", record_id=subscription.id, **details
    )


def create(
    actor: User,
    *,
    url: str,
    event_types: list[str],
    description: str | None = None,
    system_account_id: uuid.UUID | None = None,
) -> tuple[EventSubscription, str]:
    """A new subscription of the actor's agency and its secret (returned
    once, never again)."""
    data = _checked(
        actor, {"url": url, "event_types": event_types, "system_account_id": system_account_id}
    )
    secret = new_secret()
    subscription = EventSubscription(
        organisation_id=actor.organisation_id,
        url=data["url"],
        description=description,
        event_types=data["event_types"],
        system_account_id=system_account_id,
        secret_encrypted=_fernet().encrypt(secret.encode()).decode(),
        active=True,
        consecutive_failures=0,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(subscription)
    db.session.flush()
    _audit("event_subscription.created", actor, subscription, fields=["url", "event_types"])
    return subscription, secret


def change(actor: User, subscription: EventSubscription, data: dict[str, Any]) -> EventSubscription:
    """Change the address, the event types or the description."""
    data = _checked(actor, dict(data))
    for name in ("url", "event_types", "description", "system_account_id"):
        if name in data:
            setattr(subscription, name, data[name])
    db.session.flush()
    _audit("event_subscription.changed", actor, subscription, fields=sorted(data))
    return subscription


def rotate_secret(actor: User, subscription: EventSubscription) -> str:
    """A new secret, returned once; the old one stops signing at once."""
    secret = new_secret()
    subscription.secret_encrypted = _fernet().encrypt(secret.encode()).decode()
    subscription.secret_rotated_at = utcnow()
    db.session.flush()
    _audit("event_subscription.secret_rotated", actor, subscription, fields=["secret"])
    return secret


def enable(actor: User, subscription: EventSubscription) -> EventSubscription:
    """Turn a disabled subscription back on: its waiting deliveries are
    tried again now, in order, and the failures counted afresh."""
    subscription.active = True
    subscription.disabled_at = None
    subscription.disabled_reason = None
    subscription.consecutive_failures = 0
    subscription.failing_since = None
    db.session.execute(
        update(EventDelivery)
        .where(
            EventDelivery.subscription_id == subscription.id,
            EventDelivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    _audit("event_subscription.enabled", actor, subscription, fields=["active"])
    return subscription


def delete(actor: User, subscription: EventSubscription) -> None:
    """Remove a subscription, its waiting deliveries and its log."""
    _audit("event_subscription.deleted", actor, subscription)
    db.session.delete(subscription)
    db.session.flush()
