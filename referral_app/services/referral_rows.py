"""Referrals read as plain rows for the answers that show them: one Core
statement joins a page of referrals (or one) to its child, its two agencies
and its two people, and each row becomes a nested dict shaped like the
resource (`child`, `referring_organisation`, ... as dicts of their own),
without building ORM objects. The scoping is the scoping layer's
(services.scoping); the services that read add what is worked out per row
(`overdue`, the viewer's actions) in one pass.

Rows are dicts whose keys also read as attributes (`Row`), so the API's dump,
the pages' templates and Python read them as they would read a Referral
(`row.child.first_name`, `row["child"]["first_name"]`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import FromClause, Select, bindparam, select

from referral_app.extensions import db
from referral_app.models import (
    Child,
    DirectoryService,
    Organisation,
    Referral,
    User,
    overdue_at,
    utcnow,
)
from referral_app.services import scoping

REFERRAL = Referral.__table__
CHILD = Child.__table__
# The nested parts of a referral row: (prefix, table alias, columns, outer join).
_PARTS: tuple[tuple[str, Any, tuple[str, ...], Any, bool], ...] = (
    ("referring_organisation", Organisation.__table__.alias("referring_org"),
     ("id", "code", "name"), REFERRAL.c.referring_organisation_id, False),
    ("receiving_organisation", Organisation.__table__.alias("receiving_org"),
     ("id", "code", "name"), REFERRAL.c.receiving_organisation_id, False),
    ("referring_user", User.__table__.alias("referring_person"),
     ("id", "full_name"), REFERRAL.c.referring_user_id, False),
    ("assignee", User.__table__.alias("assignee_person"),
     ("id", "full_name"), REFERRAL.c.assignee_id, True),
    ("service", DirectoryService.__table__.alias("named_service"),
     ("id", "name", "provider_name"), REFERRAL.c.service_id, True),
)  # fmt: skip
SEPARATOR = "__"


def _columns() -> list[Any]:
    columns: list[Any] = list(REFERRAL.c)
    columns += [column.label(f"child{SEPARATOR}{column.name}") for column in CHILD.c]
    for prefix, alias, names, _key, _outer in _PARTS:
        columns += [alias.c[name].label(f"{prefix}{SEPARATOR}{name}") for name in names]
    return columns


def _joined(base: FromClause) -> FromClause:
    joined = base.join(CHILD, CHILD.c.id == REFERRAL.c.child_id)
    for _prefix, alias, _names, key, outer in _PARTS:
        joined = joined.join(alias, alias.c.id == key, isouter=outer)
    return joined


COLUMNS = _columns()


class Row(dict[str, Any]):
    """A dict whose keys read as attributes too: a row stands in for the
    object it describes wherever only its fields are read."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def shaped(keys: Sequence[str], values: Iterable[Sequence[Any]]) -> list[Row]:
    """Rows of COLUMNS as nested dicts; a nested part whose id is null (no
    assignee) is None."""
    plan = _plan(tuple(keys))
    out = []
    for row in values:
        item = Row()
        for (part, name), value in zip(plan, row, strict=True):
            if part is None:
                item[name] = value
            elif part in item:
                item[part][name] = value
            else:
                item[part] = Row({name: value})
        for part in _NULLABLE:
            if part in item and item[part]["id"] is None:
                item[part] = None
        out.append(item)
    return out


_NULLABLE = tuple(prefix for prefix, _alias, _names, _key, outer in _PARTS if outer)


@cache
def _plan(keys: tuple[str, ...]) -> list[tuple[str | None, str]]:
    plan: list[tuple[str | None, str]] = []
    for key in keys:
        part, separator, name = key.partition(SEPARATOR)
        plan.append((part, name) if separator else (None, key))
    return plan


def page_statement(chosen: Any, in_order: list[Any], extra: Sequence[Any] = ()) -> Select[Any]:
    """The rows of the referrals in `chosen` (a subquery of ids and sort
    keys), in order, with any `extra` columns."""
    return (
        select(*COLUMNS, *extra)
        .select_from(_joined(REFERRAL.join(chosen, REFERRAL.c.id == chosen.c.id)))
        .order_by(*in_order)
    )


@cache
def _detail_statement(dialect: str, rules: tuple[Callable[..., Any], ...]) -> Select[Any]:
    """One held referral, prebuilt once per database kind (the scoping's form
    depends on it) and scoping rules in force: the organisation, the time and
    the id are parameters."""
    del dialect, rules
    return (
        select(*COLUMNS)
        .select_from(_joined(REFERRAL))
        .where(
            scoping.holds(bindparam("organisation_id", type_=Referral.id.type), bindparam("now")),
            REFERRAL.c.id == bindparam("referral_id", type_=Referral.id.type),
        )
    )


def held_row(actor: User, referral_id: uuid.UUID) -> Row | None:
    """The referral as a row, if the actor's organisation holds it."""
    statement = _detail_statement(db.session.get_bind().dialect.name, scoping.rules_in_force())
    result = db.session.connection().execute(
        statement,
        {"organisation_id": actor.organisation_id, "now": utcnow(), "referral_id": referral_id},
    )
    rows = shaped(list(result.keys()), result.all())
    return with_overdue(rows)[0] if rows else None


def with_overdue(rows: list[Row], now: datetime | None = None) -> list[Row]:
    """Each row with `overdue` (Referral.is_overdue's rule), in one pass."""
    now = now or utcnow()
    for row in rows:
        row["overdue"] = overdue_at(row["status"], row["triage_deadline"], now)
    return rows
