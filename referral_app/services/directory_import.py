"""Importing the service directory from an Open Referral UK (HSDS) feed:
a JSON file, or a URL of the ORUK API (`/services`), which answers pages of
`{"content": [...], "totalPages": n}` (HSDS 3: `contents`, `total_pages`).

Each record is read whole before anything is written, and one that cannot
be read (no id, no name, ages that contradict each other...) is skipped
with the reason; the rest are written in the caller's one transaction. A
file or feed that is not a list of services changes nothing (FeedError).
Re-importing updates services by their ORUK id; a full import marks the
services of the same feed that it no longer lists inactive.

Both the ORUK v1 shape (`eligibilitys`, `service_areas[].service_area`,
`service_at_locations[].location.physical_addresses`, `contacts[].phones`,
`service_taxonomys[].taxonomy`) and HSDS 3's (`minimum_age` on the service,
`service_areas[].name`, `phones`, `attributes[].taxonomy_term`) are read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import Organisation, utcnow
from referral_app.models.directory import (
    DirectoryService,
    DirectoryServiceArea,
    DirectoryServiceStatus,
    DirectoryServiceType,
    postcode_district,
)
from referral_app.services import audit
from referral_app.services.directory_feed import FeedError, read_feed

__all__ = ["FeedError", "ImportReport", "import_services", "parse_record", "read_feed"]

OLDEST_AGE = 120
LIMITS = {"source_id": 200, "name": 300, "provider_name": 300, "url": 500, "email": 320}


class RecordProblem(Exception):
    """Why one record is skipped."""


@dataclass(frozen=True)
class ServiceRecord:
    source_id: str
    name: str
    description: str | None
    provider_name: str | None
    url: str | None
    email: str | None
    phone: str | None
    min_age: int | None
    max_age: int | None
    districts: frozenset[str]
    area_names: tuple[str, ...]
    types: frozenset[str]
    active: bool


@dataclass(frozen=True)
class Skipped:
    position: int  # 1-based, in the order the feed lists them
    source_id: str | None
    reason: str


@dataclass
class ImportReport:
    feed: str
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    skipped: list[Skipped] = field(default_factory=list)


# --- reading one record -----------------------------------------------------------


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordProblem(f"it has no {name.replace('_', ' ')}")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and name == "source_id":
        value = str(value)
    if not isinstance(value, str):
        raise RecordProblem(f"its {name.replace('_', ' ')} is not text")
    value = value.strip()
    limit = LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise RecordProblem(f"its {name.replace('_', ' ')} is longer than {limit} characters")
    return value


def _dicts(value: Any) -> list[dict[str, Any]]:
    """A list of objects from a field that may be one object, a list, or absent."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _age(value: Any, label: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= OLDEST_AGE:
        raise RecordProblem(f"its {label} age is not a whole number of years from 0 to 120")
    return value


def _ages(raw: dict[str, Any]) -> tuple[int | None, int | None]:
    eligibilities = _dicts(raw.get("eligibilitys")) + _dicts(raw.get("eligibility"))
    minimums = [_age(item.get("minimum_age"), "minimum") for item in eligibilities]
    maximums = [_age(item.get("maximum_age"), "maximum") for item in eligibilities]
    minimums.append(_age(raw.get("minimum_age"), "minimum"))
    maximums.append(_age(raw.get("maximum_age"), "maximum"))
    low = min((age for age in minimums if age is not None), default=None)
    high = max((age for age in maximums if age is not None), default=None)
    if low is not None and high is not None and low > high:
        raise RecordProblem(f"its minimum age {low} is above its maximum age {high}")
    return low, high


def _areas(raw: dict[str, Any]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(postcode districts, area names). A service that states no areas is
    limited to the districts of its locations' postcodes; named areas alone
    set no limit (they are shown, not matched)."""
    districts: set[str] = set()
    names: list[str] = []
    for area in raw.get("service_areas") or []:
        text = area if isinstance(area, str) else None
        if isinstance(area, dict):
            text = area.get("service_area") or area.get("name")
        if not isinstance(text, str) or not text.strip():
            continue
        district = postcode_district(text)
        if district is not None:
            districts.add(district)
        elif text.strip() not in names:
            names.append(text.strip()[:200])
    if not districts and not names:
        for postcode in _location_postcodes(raw):
            district = postcode_district(postcode)
            if district is not None:
                districts.add(district)
    return frozenset(districts), tuple(names)


def _location_postcodes(raw: dict[str, Any]) -> Iterator[str]:
    locations = [item.get("location") for item in _dicts(raw.get("service_at_locations"))]
    locations += _dicts(raw.get("locations"))
    for location in _dicts(locations):
        addresses = _dicts(location.get("physical_addresses"))
        addresses += _dicts(location.get("physical_address"))
        addresses += _dicts(location.get("addresses"))
        for address in addresses:
            if isinstance(address.get("postal_code"), str):
                yield address["postal_code"]


def _phone(raw: dict[str, Any]) -> str | None:
    phones = _dicts(raw.get("phones"))
    for contact in _dicts(raw.get("contacts")):
        phones += _dicts(contact.get("phones"))
    for phone in phones:
        number = phone.get("number")
        if isinstance(number, str) and number.strip():
            return number.strip()[:60]
    return None


def _types(raw: dict[str, Any]) -> frozenset[str]:
    terms = [item.get("taxonomy") for item in _dicts(raw.get("service_taxonomys"))]
    terms += [item.get("taxonomy_term") for item in _dicts(raw.get("attributes"))]
    terms += _dicts(raw.get("taxonomy_terms"))
    found = set()
    for term in _dicts(terms):
        name = term.get("name")
        if isinstance(name, str) and name.strip():
            found.add(" ".join(name.split()).lower()[:100])
    return frozenset(found)


def parse_record(raw: Any) -> ServiceRecord:
    """One service of the feed, read whole; RecordProblem says why not."""
    if not isinstance(raw, dict):
        raise RecordProblem("it is not an object")
    source_id = _text(raw.get("id"), "source_id", required=True)
    name = _text(raw.get("name"), "name", required=True)
    assert source_id is not None
    assert name is not None
    email = _text(raw.get("email"), "email")
    if email is not None and "@" not in email:
        raise RecordProblem("its email is not an email address")
    organisation = raw.get("organization")
    provider = (
        _text(organisation.get("name"), "provider_name") if isinstance(organisation, dict) else None
    )
    min_age, max_age = _ages(raw)
    districts, area_names = _areas(raw)
    status = raw.get("status")
    return ServiceRecord(
        source_id=source_id,
        name=name,
        description=_text(raw.get("description"), "description"),
        provider_name=provider,
        url=_text(raw.get("url"), "url"),
        email=email,
        phone=_phone(raw),
        min_age=min_age,
        max_age=max_age,
        districts=districts,
        area_names=area_names,
        types=_types(raw),
        active=not isinstance(status, str) or status.strip().lower() == "active",
    )


# --- writing ------------------------------------------------------------------------


def import_services(records: Iterable[Any], *, feed: str, full: bool = True) -> ImportReport:
    """Create or update the services of `records` (by ORUK id) in the open
    transaction, skipping the records that cannot be read (each with its
    reason); with `full`, mark the feed's services it does not list
    inactive. A provider whose name is one of our agencies' is linked to
    it. Audited as `directory.import`. The caller commits."""
    report = ImportReport(feed=feed)
    parsed: dict[str, ServiceRecord] = {}
    for position, raw in enumerate(records, start=1):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            record = parse_record(raw)
        except RecordProblem as problem:
            report.skipped.append(Skipped(position, _shown_id(raw_id), str(problem)))
            continue
        if record.source_id in parsed:
            report.skipped.append(
                Skipped(position, record.source_id, "its id appears earlier in the feed")
            )
            continue
        parsed[record.source_id] = record
    agencies = {
        name.lower(): organisation_id
        for organisation_id, name in db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.active.is_(True))
        )
    }
    existing = {
        service.source_id: service
        for service in db.session.scalars(
            select(DirectoryService).where(DirectoryService.source_id.in_(list(parsed)))
        )
    }
    now = utcnow()
    touched = []
    for record in parsed.values():
        service = existing.get(record.source_id)
        if service is None:
            service = DirectoryService(source_id=record.source_id)
            db.session.add(service)
            report.created += 1
        else:
            report.updated += 1
        _apply(service, record, feed, now, agencies)
        touched.append(service)
    if full:
        missing = db.session.scalars(
            select(DirectoryService).where(
                DirectoryService.source_feed == feed,
                DirectoryService.status == DirectoryServiceStatus.ACTIVE,
                DirectoryService.source_id.not_in(list(parsed)),
            )
        )
        for service in missing:
            service.status = DirectoryServiceStatus.INACTIVE
            touched.append(service)
            report.deactivated += 1
    db.session.flush()
    audit.record(
        "directory.import",
        None,
        record_type="directory_service",
        record_ids=[service.id for service in touched],
        reason=(
            f"{feed}: {report.created} new, {report.updated} updated, "
            f"{report.deactivated} marked inactive, {len(report.skipped)} skipped"
        )[:2000],
    )
    return report


def _shown_id(raw_id: Any) -> str | None:
    if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
        return str(raw_id)[:200]
    return None


def _apply(
    service: DirectoryService,
    record: ServiceRecord,
    feed: str,
    now: Any,
    agencies: dict[str, Any],
) -> None:
    service.source_feed = feed[:500]
    service.name = record.name
    service.description = record.description
    service.provider_name = record.provider_name
    service.organisation_id = (
        agencies.get(record.provider_name.lower()) if record.provider_name else None
    )
    service.url = record.url
    service.email = record.email
    service.phone = record.phone
    service.min_age = record.min_age
    service.max_age = record.max_age
    service.area_names = list(record.area_names)
    service.status = (
        DirectoryServiceStatus.ACTIVE if record.active else DirectoryServiceStatus.INACTIVE
    )
    service.imported_at = now
    # Changed in place, row by row: deleting a row and inserting the same
    # key in one flush would collide.
    service.area_rows = [row for row in service.area_rows if row.district in record.districts]
    have = {row.district for row in service.area_rows}
    service.area_rows += [
        DirectoryServiceArea(district=district) for district in sorted(record.districts - have)
    ]
    service.type_rows = [row for row in service.type_rows if row.term in record.types]
    have = {row.term for row in service.type_rows}
    service.type_rows += [DirectoryServiceType(term=term) for term in sorted(record.types - have)]
