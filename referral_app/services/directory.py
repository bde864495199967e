"""Finding services in the directory, and the service a referral names.

The directory lists services, not children: it is not case data, so any
signed-in case role may search it and the searches are not audited (an
import is: services/directory_import.py). A referral naming a service is
case data and is audited with the referral's own create and update."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from referral_app.extensions import db
from referral_app.models import Referral
from referral_app.models.directory import (
    DirectoryService,
    DirectoryServiceArea,
    DirectoryServiceStatus,
    DirectoryServiceType,
)
from referral_app.services import paging
from referral_app.services.errors import Invalid, NotFound

_LOADS = (
    selectinload(DirectoryService.organisation),
    selectinload(DirectoryService.area_rows),
    selectinload(DirectoryService.type_rows),
)


@dataclass(frozen=True)
class ServicePage:
    items: list[DirectoryService]
    total: int


def _matching(type_: str | None, age: int | None, district: str | None) -> Select[Any]:
    query = select(DirectoryService).where(DirectoryService.status == DirectoryServiceStatus.ACTIVE)
    if type_:
        query = query.where(
            exists().where(
                DirectoryServiceType.service_id == DirectoryService.id,
                DirectoryServiceType.term == type_.lower(),
            )
        )
    if age is not None:
        query = query.where(
            or_(DirectoryService.min_age.is_(None), DirectoryService.min_age <= age),
            or_(DirectoryService.max_age.is_(None), DirectoryService.max_age >= age),
        )
    if district:
        serves = exists().where(DirectoryServiceArea.service_id == DirectoryService.id)
        query = query.where(
            or_(
                # A service that lists no districts has no area limit.
                ~serves,
                serves.where(DirectoryServiceArea.district == district),
            )
        )
    return query


def search(
    *,
    type_: str | None = None,
    age: int | None = None,
    district: str | None = None,
    page: int = 1,
    page_size: int = 25,
) -> ServicePage:
    """Active services of `type_` (a taxonomy term, any case) whose ages
    include `age` (a service without an age bound is open at that end) and
    whose areas include the postcode `district`, or that list no areas (no
    area limit). By name. Refuses a page past the last possible (Invalid)."""
    query = _matching(type_, age, district)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(*_LOADS)
        .order_by(DirectoryService.name, DirectoryService.id)
        .limit(page_size)
        .offset(paging.offset(page, page_size))
    )
    return ServicePage(list(items), int(total))


def get_service(service_id: uuid.UUID) -> DirectoryService:
    """One service, active or not (a referral may name one since withdrawn).
    NotFound for an unknown id."""
    service = db.session.scalar(
        select(DirectoryService).options(*_LOADS).where(DirectoryService.id == service_id)
    )
    if service is None:
        raise NotFound("No such service in the directory.")
    return service


def types() -> list[str]:
    """The taxonomy terms of the active services, for a search's choices."""
    found = db.session.scalars(
        select(DirectoryServiceType.term)
        .join(DirectoryService, DirectoryService.id == DirectoryServiceType.service_id)
        .where(DirectoryService.status == DirectoryServiceStatus.ACTIVE)
        .distinct()
        .order_by(DirectoryServiceType.term)
    )
    return list(found)


def choices(named: str | None = None) -> list[DirectoryService]:
    """The active services a referral may name, by name (a form's choices),
    and the one it names now (`named`, an id) even if it has stopped, so an
    edit page that shows it keeps it."""
    keep = _uuid_or_none(named)
    shown = DirectoryService.status == DirectoryServiceStatus.ACTIVE
    found = db.session.scalars(
        select(DirectoryService)
        .options(selectinload(DirectoryService.organisation))
        .where(shown if keep is None else or_(shown, DirectoryService.id == keep))
        .order_by(DirectoryService.name, DirectoryService.id)
    )
    return list(found)


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def check_named_service(referral: Referral) -> None:
    """The service a referral names, if any, must be in the directory and
    active, and when its provider is one of the agencies here, it must be
    the referral's receiving agency (Invalid on `service_id` otherwise). A
    service from a provider not on this system may be named with any
    receiving agency: the receiving agency refers on."""
    if referral.service_id is None:
        referral.service = None
        return
    # Not flushed first: the referral may already carry the id being checked
    # (an unknown one would fail its foreign key before it is refused here).
    with db.session.no_autoflush:
        service = db.session.get(DirectoryService, referral.service_id)
    if service is None or not service.active:
        raise Invalid(
            "Choose a service that is in the directory and still running.",
            {"service_id": ["Choose a service from the directory that is still running."]},
        )
    # Before the first flush the receiving agency is set as the relationship only.
    receiving = referral.receiving_organisation
    receiving_id = receiving.id if receiving is not None else referral.receiving_organisation_id
    provider = service.organisation_id
    if provider is not None and provider != receiving_id:
        raise Invalid(
            "That service is run by another agency.",
            {
                "service_id": [
                    f"{service.name} is run by {service.provider_name or 'another agency'}: "
                    "send the referral to them, or choose another service."
                ]
            },
        )
    # The relationship follows the id at once (the answer dumps it before commit).
    referral.service = service


@dataclass(frozen=True)
class ServiceCount:
    service_id: uuid.UUID
    name: str
    provider_name: str | None
    incoming: int
    outgoing: int


def referral_counts(where: Any, direction: Any, incoming: str) -> list[ServiceCount]:
    """How many of a report's referrals (`where`) name each service, by
    `direction` (an expression giving `incoming` or the other way): the
    services named at least once, the most named first. Referrals naming
    none are not counted here."""
    rows = db.session.execute(
        select(
            DirectoryService.id,
            DirectoryService.name,
            DirectoryService.provider_name,
            direction,
            func.count(Referral.id),
        )
        .join(DirectoryService, DirectoryService.id == Referral.service_id)
        .where(where)
        .group_by(
            DirectoryService.id, DirectoryService.name, DirectoryService.provider_name, direction
        )
    )
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for service_id, name, provider_name, way, count in rows:
        entry = found.setdefault(
            service_id,
            {"service_id": service_id, "name": name, "provider_name": provider_name,
             "incoming": 0, "outgoing": 0},
        )  # fmt: skip
        entry["incoming" if way == incoming else "outgoing"] += int(count)
    counts = [ServiceCount(**entry) for entry in found.values()]
    return sorted(counts, key=lambda item: (-(item.incoming + item.outgoing), item.name))
