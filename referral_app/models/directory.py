"""The service directory: diversion services imported from an Open Referral
UK (HSDS) feed (services/directory_import.py), found by type, age and
postcode district (services/directory.py), and named by a referral. The
directory is not case data: it holds services, never children."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_app.extensions import Model
from referral_app.models.organisation import Organisation, enum_column
from referral_app.models.types import UTCDateTime, new_uuid, utcnow


class DirectoryServiceStatus(enum.StrEnum):
    ACTIVE = "active"
    # Marked so by the feed, or missing from the latest full import of its feed.
    INACTIVE = "inactive"


class DirectoryService(Model):
    """One service of the directory. `source_id` is the service's id in the
    feed it came from (an ORUK id), so a re-import updates it in place.
    `areas` are the postcode districts it serves (outward codes such as
    "SS1"): none means no area limit. `area_names` are the feed's named
    areas ("Southend-on-Sea"), shown, not matched. `types` are its taxonomy
    terms, lower case ("mentoring", "substance misuse")."""

    __tablename__ = "directory_service"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    source_id: Mapped[str] = mapped_column(String(200), unique=True)
    source_feed: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    provider_name: Mapped[str | None] = mapped_column(String(300))
    # The provider when it is one of our agencies (matched by name on import).
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id"), index=True
    )
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(60))
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    area_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[DirectoryServiceStatus] = mapped_column(
        enum_column(DirectoryServiceStatus, "directory_service_status"),
        default=DirectoryServiceStatus.ACTIVE,
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Loaded lazily: a referral that names a service joins the service's own
    # row only; the directory's reads load these for a page at once
    # (services.directory, selectinload).
    organisation: Mapped[Organisation | None] = relationship()
    area_rows: Mapped[list[DirectoryServiceArea]] = relationship(
        cascade="all, delete-orphan", order_by="DirectoryServiceArea.district"
    )
    type_rows: Mapped[list[DirectoryServiceType]] = relationship(
        cascade="all, delete-orphan", order_by="DirectoryServiceType.term"
    )

    @property
    def areas(self) -> list[str]:
        return [row.district for row in self.area_rows]

    @property
    def types(self) -> list[str]:
        return [row.term for row in self.type_rows]

    @property
    def area_limited(self) -> bool:
        """Whether it serves listed postcode districts only."""
        return bool(self.area_rows)

    @property
    def active(self) -> bool:
        return self.status is DirectoryServiceStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<DirectoryService {self.source_id}>"


class DirectoryServiceArea(Model):
    """A postcode district a service serves (its own table: searched by district)."""

    __tablename__ = "directory_service_area"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), primary_key=True
    )
    district: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class DirectoryServiceType(Model):
    """A taxonomy term of a service, lower case (searched by term)."""

    __tablename__ = "directory_service_type"

    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_service.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_INWARD = re.compile(r"[0-9][A-Z]{2}")


def postcode_district(text: str) -> str | None:
    """The postcode district (outward code) of a UK postcode or of a district
    itself: "ss1 2aa" and "SS1" give "SS1", "CM2 0PJ" gives "CM2"; None for
    anything else."""
    compact = "".join(text.split()).upper()
    if len(compact) >= 5 and _INWARD.fullmatch(compact[-3:]) and _OUTWARD.fullmatch(compact[:-3]):
        return compact[:-3]
    if _OUTWARD.fullmatch(compact):
        return compact
    return None
