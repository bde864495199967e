"""The one error shape every API error uses: {code, status, message, errors}."""

import marshmallow as ma


class ErrorSchema(ma.Schema):
    code = ma.fields.String(
        required=True,
        metadata={"description": "Machine-readable error code, e.g. `not_found`."},
    )
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status code."})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong."})
    errors = ma.fields.Dict(
        metadata={"description": "Field by field messages (validation errors only)."}
    )
