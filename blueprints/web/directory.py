"""The service directory page: a GOV.UK search form (type, age, postcode)
and the services found, as summary cards. The rules are
services/directory.py's; a search holds no child's details and is not
audited. A full postcode is swapped for its district in the address (the
search only uses the district), so no postcode stays in the history."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response

from blueprints.web import form_fields, validate
from blueprints.web.forms import Field, PageErrors, page_errors
from referral_app.policy import Permission, requires
from referral_app.services import directory, paging
from schemas.directory import DirectoryQuerySchema

blp = Blueprint("web_directory", __name__)

PAGE_SIZE = 20


class DirectoryPageQuerySchema(DirectoryQuerySchema):
    page = ma.fields.Integer(validate=ma.validate.Range(min=1, max=paging.MAX_PAGE))


SEARCH_FIELDS = (
    Field("type", "Type of service", "Select a type of service from the list", anchor="type"),
    Field(
        "age",
        "Age",
        "Enter the child's age in years, from 0 to 25",
        own={"Enter an age from 0 to 25.": "Enter the child's age in years, from 0 to 25"},
    ),
    Field(
        "postcode",
        "Postcode",
        "Enter a postcode, like SS1 2AA, or a postcode district, like SS1",
        own={
            "Enter a UK postcode, like SS1 2AA, or a district, like SS1.": (
                "Enter a postcode, like SS1 2AA, or a postcode district, like SS1"
            )
        },
    ),
    Field("page", "Page", "Choose a page of the results", anchor="main-content"),
)


def _page(
    errors: PageErrors, asked: dict[str, Any], found: directory.ServicePage | None, page: int
) -> str:
    pages = math.ceil(found.total / PAGE_SIZE) if found else 0
    return render_template(
        "directory/search.html",
        errors=errors,
        asked=asked,
        types=directory.types(),
        found=found,
        pagination=_pagination(asked, page, pages),
    )


def _pagination(asked: dict[str, Any], page: int, pages: int) -> dict[str, Any] | None:
    if pages <= 1:
        return None

    def href(number: int) -> str:
        return "/directory?" + urlencode({**asked, "page": number})

    links: dict[str, Any] = {
        "items": [
            {"number": number, "href": href(number), "current": number == page}
            for number in range(1, pages + 1)
        ]
    }
    if page > 1:
        links["previous"] = {"href": href(page - 1)}
    if page < pages:
        links["next"] = {"href": href(page + 1)}
    return links


@blp.app_context_processor
def _directory_choices() -> dict[str, Any]:
    """`directory_choices()` for the referral forms' service select
    (templates/referrals/_referral_fields.html): queried only when called."""
    return {"directory_choices": directory.choices}


@blp.get("/directory")
@requires(Permission.DIRECTORY_READ)
def search() -> str | Response | tuple[str, int]:
    """Services found by type, age and postcode district (all active
    services when nothing is asked)."""
    asked = form_fields(request.args)
    data, errors = validate(DirectoryPageQuerySchema(), asked)
    if data is None:
        return _page(page_errors(errors, SEARCH_FIELDS), asked, None, 1), 422
    district = data.get("district")
    if district is not None and asked["postcode"] != district:
        # Keep the district only: the search does not use the rest.
        return redirect("/directory?" + urlencode({**asked, "postcode": district}))
    page = data.get("page", 1)
    found = directory.search(
        type_=data.get("type"),
        age=data.get("age"),
        district=district,
        page=page,
        page_size=PAGE_SIZE,
    )
    asked.pop("page", None)
    return _page(page_errors({}, SEARCH_FIELDS), asked, found, page)
