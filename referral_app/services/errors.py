"""Exceptions services raise; the boundary turns them into HTTP answers or form errors."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal a caller can show to the user. `status` is the HTTP answer."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Invalid(ServiceError):
    """Input that parses but breaks a domain rule (an inactive organisation, a
    duplicate email): answered 422 with field errors."""

    status = 422
    code = "validation_failed"


class AuthenticationFailed(ServiceError):
    status = 401
    code = "invalid_credentials"


class TooMany(ServiceError):
    """More of something than a user may ask for in a while (a limit that
    keeps a feature from being used as an oracle)."""

    status = 429
    code = "too_many_requests"
