"""The JSON API (flask-smorest): one module per resource."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationMetadataSchema

View = TypeVar("View", bound=Callable[..., Any])

# Every authenticated route can answer these.
AUTHENTICATED_ERRORS = (401, 403)


def documents_errors(blp: Blueprint, *statuses: int) -> Callable[[View], View]:
    """Document the error answers a route gives, with the shared error schema."""

    def decorate(view: View) -> View:
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate


def documents_pagination(blp: Blueprint) -> Callable[[View], View]:
    """Document the pagination header of a `@blp.paginate` route as what it is:
    JSON. flask-smorest documents it with a bare object schema, which OpenAPI
    reads as the "simple" style (`total,4,page,1`), not the JSON it sends."""
    return blp.doc(
        responses={
            "200": {
                "headers": {
                    blp.PAGINATION_HEADER_NAME: {
                        "description": "Pagination metadata, as a JSON object.",
                        "content": {"application/json": {"schema": PaginationMetadataSchema}},
                    }
                }
            }
        }
    )
