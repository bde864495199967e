"""The agency directory."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import Organisation, OrganisationKind, User
from referral_app.services import audit, paging
from referral_app.services.errors import Conflict, NotFound


def list_organisations(*, page: int, page_size: int) -> tuple[list[Organisation], int]:
    """The directory, by name: every signed-in user may read it (to choose
    where to refer), and it holds no case data."""
    total = db.session.scalar(select(func.count(Organisation.id))) or 0
    organisations = db.session.scalars(
        select(Organisation)
        .order_by(Organisation.name, Organisation.id)
        .limit(page_size)
        .offset(paging.offset(page, page_size))
    ).all()
    return list(organisations), total


def get_organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def get_organisation_by_code(code: str) -> Organisation:
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        raise NotFound(f"No organisation with code {code!r}.")
    return organisation


def create_organisation(
    actor: User | None, *, code: str, name: str, kind: OrganisationKind
) -> Organisation:
    """Add an agency. Refuses a code already in use (Conflict)."""
    if db.session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise Conflict(
            "An organisation with this code already exists.", {"code": ["Already in use."]}
        )
    organisation = Organisation(code=code, name=name, kind=kind, active=True)
    db.session.add(organisation)
    db.session.flush()
    audit.record(
        "organisation.create",
        actor,
        record_type="organisation",
        record_id=organisation.id,
        fields=["code", "name", "kind"],
    )
    return organisation
