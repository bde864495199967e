"""The documents' tests: the referral world (police refers to youth justice,
a charity may be given a share) and helpers that upload and download."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.documents.samples import PDF_BYTES
from tests.referral_helpers import Actor, World, advance, create, make_world


@pytest.fixture
def world(client: FlaskClient, factory) -> World:
    return make_world(client, factory)


@pytest.fixture
def referral(client: FlaskClient, world: World) -> dict:
    """A referral from the police to youth justice, submitted."""
    made = create(client, world.officer, world.yjs)
    advance(client, world, made["id"], "submitted")
    return made


def upload(
    client: FlaskClient,
    actor: Actor,
    referral_id: str,
    content: bytes = PDF_BYTES,
    filename: str = "consent.pdf",
    expect: int | None = 201,
    **fields: Any,
):
    from io import BytesIO

    form: dict[str, Any] = {"title": "Signed consent form", "kind": "consent_form", **fields}
    if content is not None:
        form["file"] = (BytesIO(content), filename, "application/pdf")
    response = client.post(
        f"/api/v1/referrals/{referral_id}/documents",
        data=form,
        content_type="multipart/form-data",
        headers=actor.headers,
    )
    if expect is not None:
        assert response.status_code == expect, response.json
    return response


def listed(client: FlaskClient, actor: Actor, referral_id: str):
    return client.get(f"/api/v1/referrals/{referral_id}/documents", headers=actor.headers)


def download(client: FlaskClient, actor: Actor, referral_id: str, document_id: str):
    return client.get(
        f"/api/v1/referrals/{referral_id}/documents/{document_id}/content", headers=actor.headers
    )
