"""PostgreSQL row-level security: a second line behind the application's own
scoping (services.scoping). Every transaction of a signed-in user's request
tells the database which organisation is asking
(`app.organisation_id`); the policies (migration 2026_11_24_2300) then show
only the case rows that organisation holds, whatever query the application
sends. Requests without a user, the command line and migrations run with
`app.rls_bypass = on`. A request's transactions begin with neither set
(`await_user`): until the guard knows who is asking, the case tables show
nothing, and the sign-in lookup (tables without policies) costs no extra
statement.

The policies only bind a role that is neither a superuser nor the tables'
owner: run the application as such a role (README, "Row-level security").
On SQLite this module does nothing.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import ColumnElement, String, cast, event, func, literal, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

_organisation: ContextVar[uuid.UUID | None] = ContextVar("rls_organisation", default=None)
# A request before the guard has found its user: set nothing (fail closed).
_AWAITING_USER = uuid.UUID(int=0)

_SET = text(
    "SELECT set_config('app.organisation_id', :organisation, true), "
    "set_config('app.rls_bypass', :bypass, true)"
)


def _settings() -> dict[str, str]:
    organisation = _organisation.get()
    if organisation is None:
        return {"organisation": "", "bypass": "on"}
    return {"organisation": str(organisation), "bypass": "off"}


# Set in session.info when the open transaction already carries the setting
# for this organisation (applied by the sign-in lookup's own statement).
_APPLIED = "rls_applied_for"


@event.listens_for(Session, "after_begin")
def _apply_to_new_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    session.info.pop(_APPLIED, None)
    if connection.dialect.name == "postgresql" and _organisation.get() != _AWAITING_USER:
        connection.execute(_SET, _settings())


def setting_columns(organisation_id: Any) -> tuple[ColumnElement[Any], ...]:
    """Columns for the sign-in lookup's SELECT that scope its transaction to
    the organisation of the row found, in the same statement (one round trip
    fewer than a SET after it). Call `applied_by_lookup` once the lookup is
    known to be good, or `await_user_again` when it is not."""
    return (
        func.set_config("app.organisation_id", cast(organisation_id, String), True).label(
            "rls_organisation"
        ),
        func.set_config("app.rls_bypass", literal("off"), True).label("rls_bypass"),
    )


def applied_by_lookup(session: Any, organisation_id: uuid.UUID) -> None:
    """The lookup's statement set this organisation for the open transaction:
    `scope_to` need not send it again."""
    session.info[_APPLIED] = organisation_id


def await_user_again(session: Any) -> None:
    """The lookup set an organisation but found no valid session (revoked,
    expired, disabled): the transaction sees no case rows again."""
    session.info.pop(_APPLIED, None)
    session.connection().execute(_SET, {"organisation": "", "bypass": "off"})


def await_user() -> Token[uuid.UUID | None]:
    """For the start of a request: its transactions see no case rows until
    `scope_to` names the organisation (the policies fail closed)."""
    return _organisation.set(_AWAITING_USER)


def scope_to(session: Any, organisation_id: uuid.UUID) -> Token[uuid.UUID | None]:
    """From now until `unscope`, this request's transactions see only what
    `organisation_id` holds (on PostgreSQL). Applies to the open transaction too."""
    token = _organisation.set(organisation_id)
    if session.info.get(_APPLIED) == organisation_id:
        return token
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_SET, _settings())
    return token


def unscope(token: Token[uuid.UUID | None]) -> None:
    _organisation.reset(token)
