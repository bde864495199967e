"""The service directory: the search's query and the services' output
(services/directory.py)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from referral_app.models.directory import DirectoryServiceStatus, postcode_district
from schemas.common import InputSchema, OutputSchema

# The youngest and oldest ages a diversion service works with (youth justice
# and leaving-care services reach 25).
AGE_RANGE = (0, 25)


class DirectoryQuerySchema(InputSchema):
    type = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100),
        metadata={
            "description": "A taxonomy term, as the services list them (`mentoring`, "
            "`sport`, `substance misuse`); any case."
        },
    )
    age = ma.fields.Integer(
        validate=ma.validate.Range(
            min=AGE_RANGE[0], max=AGE_RANGE[1], error="Enter an age from 0 to 25."
        ),
        metadata={"description": "The child's age in years: services whose ages include it."},
    )
    postcode = ma.fields.String(
        validate=ma.validate.Length(min=1, max=10),
        metadata={
            "description": "A postcode (`SS1 2AA`) or a postcode district (`SS1`): services "
            "whose areas include its district, and those with no area limit "
            "(`area_limited` false)."
        },
    )

    @ma.validates("postcode")
    def known_shape(self, value: str, **_: Any) -> None:
        if postcode_district(value) is None:
            raise ma.ValidationError("Enter a UK postcode, like SS1 2AA, or a district, like SS1.")

    @ma.post_load
    def as_district(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "postcode" in data:
            data["district"] = postcode_district(data.pop("postcode"))
        if "type" in data:
            data["type"] = data["type"].lower()
        return data


class ProviderAgencySchema(OutputSchema):
    id = ma.fields.UUID()
    code = ma.fields.String()
    name = ma.fields.String()


class DirectoryServiceSchema(OutputSchema):
    id = ma.fields.UUID()
    source_id = ma.fields.String(
        metadata={"description": "The service's id in the Open Referral UK feed it came from."}
    )
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    provider_name = ma.fields.String(
        allow_none=True,
        metadata={"description": "The organisation that runs it, as the feed names it."},
    )
    organisation = ma.fields.Nested(
        ProviderAgencySchema,
        allow_none=True,
        metadata={"description": "The provider when it is one of the agencies here."},
    )
    url = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    min_age = ma.fields.Integer(allow_none=True)
    max_age = ma.fields.Integer(allow_none=True)
    areas = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "The postcode districts it serves; none: no area limit."},
    )
    area_limited = ma.fields.Boolean(
        metadata={"description": "False when it lists no districts (it serves any postcode)."}
    )
    area_names = ma.fields.List(
        ma.fields.String(), metadata={"description": "Named areas, as the feed gives them."}
    )
    types = ma.fields.List(ma.fields.String(), metadata={"description": "Taxonomy terms."})
    status = ma.fields.Enum(DirectoryServiceStatus, by_value=True)
    imported_at = ma.fields.AwareDateTime()
    source_feed = ma.fields.String()


class NamedServiceSchema(OutputSchema):
    """The service a referral names."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    provider_name = ma.fields.String(allow_none=True)
