"""Demo data for the service directory: a handful of Essex diversion
services in the Open Referral UK shape, imported as `flask directory
import` would (services/directory_import.py). Two are run by demo agencies
(Essex Youth Justice Service and Safer Futures Youth Charity), so a
referral to them may name their service; the rest by providers not on the
system. Loaded once: a second run leaves them as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import DirectoryService
from referral_app.services import directory_import

FEED = "demo: Essex diversion services"


def _service(
    number: int,
    name: str,
    provider: str,
    description: str,
    ages: tuple[int, int],
    terms: tuple[str, ...],
    areas: tuple[str, ...] = (),
    phone: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"demo-essex-{number:04}",
        "name": name,
        "description": description,
        "status": "active",
        "url": f"https://example.org/essex/{number}",
        "organization": {"id": f"demo-org-{number}", "name": provider},
        "eligibilitys": [{"minimum_age": ages[0], "maximum_age": ages[1]}],
        "service_areas": [{"service_area": area} for area in areas],
        "service_taxonomys": [{"taxonomy": {"name": term}} for term in terms],
    }
    if phone:
        record["contacts"] = [{"name": "Referrals", "phones": [{"number": phone}]}]
    return record


SERVICES = [
    _service(
        1,
        "Turnaround: early intervention",
        "Essex Youth Justice Service",
        "Support for children on the edge of the youth justice system, before any charge.",
        (10, 17),
        ("diversion", "mentoring"),
        phone="01632 960 001",
    ),
    _service(
        2,
        "Safer Futures mentoring",
        "Safer Futures Youth Charity",
        "A trusted adult for six months: weekly meetings, help back into school or training.",
        (11, 18),
        ("mentoring", "diversion"),
        areas=("SS1", "SS2", "SS3", "SS9"),
        phone="01632 960 002",
    ),
    _service(
        3,
        "Southend boxing and fitness nights",
        "Southend Community Boxing",
        "Evening sessions with coaches and youth workers, free for referred young people.",
        (11, 19),
        ("sport", "diversion"),
        areas=("SS0", "SS1", "SS2"),
    ),
    _service(
        4,
        "Essex young people's drug and alcohol service",
        "Open Road",
        "Advice, harm reduction and treatment for young people's drug and alcohol use.",
        (10, 24),
        ("substance misuse",),
        phone="01632 960 003",
    ),
    _service(
        5,
        "Chelmsford education re-engagement",
        "Chelmsford Learning Partnership",
        "Small-group tuition and a route back to school for excluded pupils.",
        (13, 16),
        ("education",),
        areas=("CM1", "CM2", "CM3"),
    ),
    _service(
        6,
        "Basildon detached youth work",
        "Basildon Youth Services",
        "Youth workers on the streets and in parks where young people gather.",
        (11, 19),
        ("diversion", "sport"),
        areas=("SS13", "SS14", "SS15", "SS16"),
    ),
]


def load_directory() -> directory_import.ImportReport | None:
    """Import the demo services (a full import of the demo feed), unless
    they were loaded before (None then: a second run adds nothing, not even
    an audit event)."""
    loaded = db.session.scalar(
        select(DirectoryService.id).where(DirectoryService.source_feed == FEED).limit(1)
    )
    if loaded is not None:
        return None
    return directory_import.import_services(SERVICES, feed=FEED, full=True)
