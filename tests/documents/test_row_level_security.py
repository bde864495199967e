"""Row-level security on documents (PostgreSQL): with the application
connected as a role that does not own the tables, a scoping bug that looks
a document up by its id alone still shows an agency no document of a
referral it does not hold. The control shows the same bug leaks without it."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from referral_app import create_app
from referral_app.config import TestingConfig
from referral_app.extensions import db
from referral_app.models.document import Document
from referral_app.services import documents
from referral_app.services.errors import NotFound
from tests.conftest import migrated_app
from tests.documents.conftest import upload
from tests.documents.samples import PDF_BYTES
from tests.factories import Factory
from tests.referral_helpers import advance, create, make_world
from tests.test_row_level_security import AS_THE_WEB_ROLE, app_role_url  # noqa: F401


def leaky_get_document(actor, referral, document_id: uuid.UUID) -> Document:
    """A scoping bug: any document by its id, whatever referral it is of."""
    found = db.session.scalar(select(Document).where(Document.id == document_id))
    if found is None:
        raise NotFound("No such document.")
    return found


def scenario(app):
    """The police's document on their referral to the YJS; the stranger's
    own referral, under which it asks for the police's document."""
    client = app.test_client()
    world = make_world(client, Factory(app))
    theirs = create(client, world.officer, world.yjs)
    advance(client, world, theirs["id"], "submitted")
    document = upload(client, world.officer, theirs["id"]).json
    own = create(client, world.stranger, world.yjs)
    path = f"/api/v1/referrals/{own['id']}/documents/{document['id']}/content"
    return client, world, path


def test_a_document_lookup_bug_is_stopped_by_row_level_security(
    app_role_url,  # noqa: F811
    monkeypatch,
):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app_role_url, **AS_THE_WEB_ROLE)
    try:
        client, world, path = scenario(app)  # uploads work under RLS
        monkeypatch.setattr(documents, "get_document", leaky_get_document)
        assert client.get(path, headers=world.stranger.headers).status_code == 404
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_without_row_level_security_the_same_bug_leaks(postgres_url, monkeypatch):
    app = migrated_app(postgres_url)
    try:
        client, world, path = scenario(app)
        monkeypatch.setattr(documents, "get_document", leaky_get_document)
        leaked = client.get(path, headers=world.stranger.headers)
        assert leaked.status_code == 200
        assert leaked.data == PDF_BYTES
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
