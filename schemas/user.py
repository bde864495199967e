from typing import Any

import marshmallow as ma

from referral_app.models import Role
from schemas.common import InputSchema, JsonBoolean, OutputSchema, password_field
from schemas.organisation import OrganisationSchema


class UserSchema(OutputSchema):
    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.String()
    full_name = ma.fields.String()
    organisation = ma.fields.Nested(OrganisationSchema)
    roles = ma.fields.Method(
        "sorted_roles",
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": [str(role) for role in Role]},
            "description": "The user's roles, sorted.",
        },
    )
    active = ma.fields.Boolean()
    totp_enabled = ma.fields.Method(
        "has_totp",
        metadata={"type": "boolean", "description": "Whether the user has TOTP set up."},
    )
    last_login_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Null until the user first signs in."}
    )
    created_at = ma.fields.AwareDateTime()

    def sorted_roles(self, user: object) -> list[str]:
        return sorted(str(role) for role in getattr(user, "roles", ()))

    def has_totp(self, user: object) -> bool:
        return bool(getattr(user, "totp_secret", None))


def roles_field(*, required: bool = False) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Enum(Role, by_value=True),
        required=required,
        validate=ma.validate.Length(min=1, max=len(Role)),
    )


class UserCreateSchema(InputSchema):
    unstripped = frozenset({"password"})

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    full_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    organisation_id = ma.fields.UUID(required=True)
    roles = roles_field(required=True)
    password = password_field()


class UserUpdateSchema(InputSchema):
    full_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    roles = roles_field()
    active = JsonBoolean()
    reset_totp = JsonBoolean(
        metadata={"description": "Remove the user's authenticator: they enrol again."}
    )
    sign_out_everywhere = JsonBoolean(
        metadata={"description": "End every session and API token of the user."}
    )

    @ma.validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        # The body is required: an empty one (or none) is a mistake, not a change.
        if not data:
            raise ma.ValidationError("Give at least one field to change.", "_schema")


class UserListQuerySchema(InputSchema):
    organisation_id = ma.fields.UUID()


class EnrolmentCodeSchema(OutputSchema):
    code = ma.fields.String(
        metadata={"description": "Shown once: give it to the user in person or by phone."}
    )
    expires_at = ma.fields.AwareDateTime()
