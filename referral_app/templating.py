"""Jinja for the browser pages: the GOV.UK Frontend macros beside our own
templates, and the filters every page uses (UK time, labels)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_login import current_user
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from referral_app.models.types import UK
from referral_app.policy import Permission, has_permission
from referral_app.services import form_submissions

__all__ = ["UK", "age_in_years", "init_app", "label", "uk_date", "uk_time"]


def label(value: object) -> str:
    """An enum value as words: "in_progress" -> "In progress"."""
    return str(value).replace("_", " ").capitalize()


def uk_time(value: datetime | None, with_date: bool = True) -> str:
    """A stored UTC time as UK wall-clock time with its zone (GMT or BST):
    "29 November 2026, 5:04pm GMT"."""
    if value is None:
        return ""
    local = value.astimezone(UK) if value.tzinfo else value.replace(tzinfo=UK)
    clock = local.strftime("%I:%M%p").lstrip("0").lower()
    zone = local.tzname() or ""
    if not with_date:
        return f"{clock} {zone}"
    return f"{local.day} {local.strftime('%B %Y')}, {clock} {zone}"


def uk_date(value: date | datetime | None) -> str:
    """A date as "29 November 2026" (a time is taken in UK time first)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UK) if value.tzinfo else value
    return f"{value.day} {value.strftime('%B %Y')}"


def age_in_years(born: date | None, on: date | None = None) -> int | None:
    if born is None:
        return None
    today = on or datetime.now(UK).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _permission_checker() -> dict[str, Any]:
    """`can("referrals:read")` in templates: the navigation follows the policy."""

    def can(name: str) -> bool:
        return bool(current_user.is_authenticated) and has_permission(
            current_user, Permission(name)
        )

    return {"can": can}


def init_app(app: Flask) -> None:
    """Our templates first, then the design system's macros
    (`govuk_frontend_jinja/components/...`)."""
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    filters: dict[str, Any] = {
        "label": label,
        "uk_time": uk_time,
        "uk_date": uk_date,
        "age": age_in_years,
    }
    app.jinja_env.filters.update(filters)
    app.context_processor(_permission_checker)
    # A one-time token for each form a page shows (blueprints/web/sent_once.py).
    app.jinja_env.globals["new_form_token"] = form_submissions.new_token
    app.jinja_env.globals["service_name"] = app.config.get("SERVICE_NAME", "Referrals")
