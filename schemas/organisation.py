import marshmallow as ma

from referral_app.models import OrganisationKind
from schemas.common import InputSchema, OutputSchema

CODE_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class OrganisationSchema(OutputSchema):
    id = ma.fields.UUID(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.Enum(OrganisationKind, by_value=True)
    active = ma.fields.Boolean()


class OrganisationCreateSchema(InputSchema):
    code = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=2, max=64), ma.validate.Regexp(CODE_PATTERN)],
        metadata={"description": "A slug: lower-case letters, digits and hyphens."},
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    kind = ma.fields.Enum(OrganisationKind, by_value=True, required=True)
