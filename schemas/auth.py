import marshmallow as ma

from schemas.common import InputSchema, OutputSchema, password_field
from schemas.user import UserSchema

# Far above any password we accept, so a wrong password of any sane length
# gets the same 401 as any other; a megabyte of "password" does not get hashed.
LOGIN_PASSWORD_CEILING = 1024


class CredentialsSchema(InputSchema):
    """Sign-in, for the API token and the login page alike. The password is
    not length-checked beyond a ceiling: a wrong one must get the same answer
    whatever its length."""

    unstripped = frozenset({"password"})

    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(min=1, max=LOGIN_PASSWORD_CEILING),
    )
    otp = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=10),
        metadata={"description": "The 6-digit code, for users who have TOTP set up."},
    )


class TokenSchema(OutputSchema):
    token = ma.fields.String(
        metadata={"description": "Send as `Authorization: Bearer <token>`. Shown once."}
    )
    expires_at = ma.fields.AwareDateTime()
    user = ma.fields.Nested(UserSchema)


class PasswordChangeSchema(InputSchema):
    unstripped = frozenset({"current_password", "new_password", "confirm_password"})

    current_password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    new_password = password_field()
    confirm_password = ma.fields.String(required=True, validate=ma.validate.Length(max=128))

    @ma.validates_schema
    def passwords_match(self, data: dict[str, str], **_: object) -> None:
        if data.get("new_password") != data.get("confirm_password"):
            raise ma.ValidationError("The passwords do not match.", "confirm_password")


class TotpEnrolmentSchema(InputSchema):
    """Setting up an authenticator: the current password (a fresh sign-in)
    and a code from the new secret."""

    unstripped = frozenset({"current_password"})

    current_password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    otp = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^\d{6}$", error="Enter the 6-digit code.")
    )
    enrolment_code = ma.fields.String(
        validate=ma.validate.Length(max=20),
        metadata={"description": "The one-time code an admin issued, where one is needed."},
    )
