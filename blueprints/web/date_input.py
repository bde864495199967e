"""Dates typed into a GOV.UK date input: three boxes, `<prefix>-day`,
`<prefix>-month` and `<prefix>-year`, read the way the design system asks
(a missing part is named, an impossible date is "not a real date"). The
messages are the field's own words (blueprints.web.forms.Field)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import date

from blueprints.web.forms import Field

PARTS = ("day", "month", "year")


def typed_parts(form: Mapping[str, str], prefix: str) -> dict[str, str]:
    """What was typed in each box, trimmed ("" for an empty box)."""
    return {part: str(form.get(f"{prefix}-{part}", "")).strip() for part in PARTS}


def read_date(form: Mapping[str, str], prefix: str, field: Field) -> tuple[date | None, str | None]:
    """(the date, None) when the three boxes make a real date; (None, None)
    when all three are empty (the caller decides whether that is allowed);
    otherwise (None, what is wrong in the field's words): "Date of birth must
    include a month and year", or the field's `invalid` message."""
    typed = typed_parts(form, prefix)
    if not any(typed.values()):
        return None, None
    missing = [part for part in PARTS if not typed[part]]
    if missing:
        return None, f"{field.label} must include a {' and '.join(missing)}"
    day, month, year = typed["day"], typed["month"], typed["year"]
    if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
        return None, field.invalid or field.missing
    try:
        return date(int(year), int(month), int(day)), None
    except (ValueError, OverflowError):  # 31 2 2025; a day of twenty digits
        return None, field.invalid or field.missing


def parts_of(day: date | None) -> dict[str, str]:
    """A date as the three boxes show it (empty for no date)."""
    if day is None:
        return dict.fromkeys(PARTS, "")
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def date_in_query(
    query: Mapping[str, str], name: str, field: Field
) -> tuple[date | None, str | None]:
    """A date filter in a query string: the three boxes `name-day` ...
    (`read_date`), or one ISO date `name` as a link carries it; (None, None)
    when neither is given, (None, the field's `invalid`) for a link's date
    that is no date."""
    if any(typed_parts(query, name).values()):
        return read_date(query, name, field)
    iso = str(query.get(name, "")).strip()
    if not iso:
        return None, None
    try:
        return date.fromisoformat(iso), None
    except ValueError:
        return None, field.invalid


def boxes_in_query(query: Mapping[str, str], names: Iterable[str]) -> dict[str, dict[str, str]]:
    """The date filters' boxes as they were filled in, a link's ISO date
    split into them (left empty when it is no date)."""
    boxes = {}
    for name in names:
        typed = typed_parts(query, name)
        if not any(typed.values()):
            with suppress(ValueError):
                typed = parts_of(date.fromisoformat(str(query.get(name, "")).strip()))
        boxes[name] = typed
    return boxes
