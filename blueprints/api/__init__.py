"""The JSON API (flask-smorest): one module per resource."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
from flask_smorest.pagination import PaginationMetadataSchema

View = TypeVar("View", bound=Callable[..., Any])

# Every authenticated route can answer these.
AUTHENTICATED_ERRORS = (401, 403)


class ListMetadataSchema(PaginationMetadataSchema):
    total_exact = ma.fields.Boolean(
        metadata={
            "description": "Present and false when the list stopped counting: "
            "`total` is then a lower bound (there are at least that many)."
        }
    )


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's, with `total_exact: false` added to the pagination
    header of a list whose count stopped early (services.paging.bounded_count:
    set `pagination_parameters.total_exact = False`)."""

    def _set_pagination_metadata(self, page_params: Any, result: Any, headers: Any) -> Any:
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        if getattr(page_params, "total_exact", True) is False:
            metadata = json.loads(headers[self.PAGINATION_HEADER_NAME])
            metadata["total_exact"] = False
            headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)
        return result, headers


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
            # An int, as flask-smorest's own responses are keyed: a "200"
            # beside its 200 would be a second key, and the JSON document
            # would keep only one of them (the one without a description).
            200: {
                "headers": {
                    blp.PAGINATION_HEADER_NAME: {
                        "description": "Pagination metadata, as a JSON object.",
                        "content": {"application/json": {"schema": ListMetadataSchema}},
                    }
                }
            }
        }
    )
