"""The orders a list of referrals can be read in: the lists' own (newest
first) or one of the browser's sortable columns, each either way round, from
a fixed list (SORTS) checked before any SQL is built. Also when a referral
last changed (`last_activity`), which is both a column and a sort."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import QueryableAttribute, aliased

from referral_app.extensions import db
from referral_app.models import (
    Child,
    Note,
    Organisation,
    Referral,
    ReferralStatus,
    RiskLevel,
    StatusChange,
    User,
)
from referral_app.models.types import UTCDateTime
from referral_app.services.errors import Invalid
from referral_app.services.scoping import note_is_visible


def last_activity(actor: User) -> ColumnElement[datetime]:
    """SQL, per referral row: when it last changed as the actor's agency sees
    it, the latest of its own update, its status changes and the notes the
    agency may read (the rule of scoping.visible_notes: shared notes and its
    own; another agency's internal note does not show, not even by its time)."""
    notes = (
        select(func.max(Note.created_at))
        .where(Note.referral_id == Referral.id, note_is_visible(actor.organisation_id))
        .scalar_subquery()
    )
    changes = (
        select(func.max(StatusChange.at))
        .where(StatusChange.referral_id == Referral.id)
        .scalar_subquery()
    )
    # GREATEST on PostgreSQL; SQLite's max() with several arguments is the same.
    latest = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max
    return latest(
        Referral.updated_at,
        func.coalesce(notes, Referral.updated_at),
        func.coalesce(changes, Referral.updated_at),
        type_=UTCDateTime,
    )


@dataclass(frozen=True)
class SortKey:
    """One expression a column sorts by. `reverse`: its values run against
    the column's (a later date of birth is a younger child); `nullable`: an
    empty value (no risk level yet, no assignee) goes last either way."""

    expression: ColumnElement[Any] | QueryableAttribute[Any]
    reverse: bool = False
    nullable: bool = False


@dataclass(frozen=True)
class SortColumn:
    keys: Callable[[User], tuple[SortKey, ...]]
    # The rows the keys come from (_JOINS), joined only when sorting by it.
    joins: tuple[str, ...] = ()


# Aliases, so that a sort's join never meets the name search's subquery on
# child (which would otherwise be correlated to it).
_CHILD = aliased(Child, name="sort_child")
_FROM = aliased(Organisation, name="sort_from")
_TO = aliased(Organisation, name="sort_to")
_ASSIGNEE = aliased(User, name="sort_assignee")
_JOINS: dict[str, tuple[Any, ColumnElement[bool], bool]] = {  # target, on, outer
    "child": (_CHILD, _CHILD.id == Referral.child_id, False),
    "from": (_FROM, _FROM.id == Referral.referring_organisation_id, False),
    "to": (_TO, _TO.id == Referral.receiving_organisation_id, False),
    "assignee": (_ASSIGNEE, _ASSIGNEE.id == Referral.assignee_id, True),
}
_RISK_RANK = case(
    {RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}, value=Referral.risk_level
)
# Statuses in the order of the loop (the enum's order), the ends last.
_STATUS_RANK = case(
    {status: rank for rank, status in enumerate(ReferralStatus)}, value=Referral.status
)

# A column's values ascending under its name ("age": youngest first,
# "risk": low first, "deadline": soonest first), descending with "-".
SORT_COLUMNS: dict[str, SortColumn] = {
    "reference": SortColumn(lambda _: (SortKey(Referral.reference),)),
    "child": SortColumn(
        lambda _: (SortKey(func.lower(_CHILD.last_name)), SortKey(func.lower(_CHILD.first_name))),
        joins=("child",),
    ),
    "age": SortColumn(lambda _: (SortKey(_CHILD.date_of_birth, reverse=True),), joins=("child",)),
    "risk": SortColumn(lambda _: (SortKey(_RISK_RANK, nullable=True),)),
    "from": SortColumn(lambda _: (SortKey(func.lower(_FROM.name)),), joins=("from",)),
    "to": SortColumn(lambda _: (SortKey(func.lower(_TO.name)),), joins=("to",)),
    "assignee": SortColumn(
        lambda _: (SortKey(func.lower(_ASSIGNEE.full_name), nullable=True),), joins=("assignee",)
    ),
    "status": SortColumn(lambda _: (SortKey(_STATUS_RANK),)),
    "activity": SortColumn(lambda actor: (SortKey(last_activity(actor)),)),
    "deadline": SortColumn(lambda _: (SortKey(Referral.triage_deadline, nullable=True),)),
}
# The lists' own order: exactly the agency indexes' (no NULLS LAST), so
# PostgreSQL reads a page straight off them.
_NEWEST = SortColumn(lambda _: (SortKey(Referral.created_at, reverse=True),))
SORTS = ("newest", *SORT_COLUMNS, *(f"-{name}" for name in SORT_COLUMNS))


@dataclass(frozen=True)
class Order:
    keys: tuple[SortKey, ...]
    descending: bool
    joins: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        """The names the keys are selected under (see `keyed`)."""
        return [f"sort_{n}" for n in range(len(self.keys))]

    def by(self, columns: list[Any], ident: Any) -> list[Any]:
        """ORDER BY for these columns (the keys' expressions, or the same
        keys read back from a subquery); the id breaks ties."""
        ordered = []
        for column, key in zip(columns, self.keys, strict=True):
            clause = column.desc() if key.reverse != self.descending else column.asc()
            ordered.append(clause.nulls_last() if key.nullable else clause)
        return [*ordered, ident]

    def keyed(self, query: Select[Any]) -> Select[Any]:
        """A query of referrals as (id, sort keys), in this order."""
        expressions = [key.expression for key in self.keys]
        keyed = query.with_only_columns(
            Referral.id,
            *(
                expression.label(name)
                for expression, name in zip(expressions, self.labels, strict=True)
            ),
        )
        for name in self.joins:
            target, onclause, outer = _JOINS[name]
            keyed = keyed.join_from(Referral, target, onclause, isouter=outer)
        return keyed.order_by(*self.by(expressions, Referral.id))

    def of(self, subquery: Any) -> list[Any]:
        """ORDER BY for a subquery of `keyed` rows."""
        return self.by([subquery.c[name] for name in self.labels], subquery.c.id)


def order_for(actor: User, sort: str) -> Order:
    """The order named `sort`. Refuses one that is not in SORTS (Invalid)."""
    if sort not in SORTS:
        raise Invalid("Choose a column to sort by.", {"sort": ["Not a known sort."]})
    column = _NEWEST if sort == "newest" else SORT_COLUMNS[sort.removeprefix("-")]
    return Order(column.keys(actor), sort.startswith("-"), column.joins)
