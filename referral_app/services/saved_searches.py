"""Searches by name kept on the server for a short while, so that the
browser's URL carries only a random id (names never reach an address bar,
a history, a proxy's log or a bookmark) while Back, refresh and bookmarks
still work (post/redirect/get).

A saved search holds the criteria only, never results: each viewing runs it
again through referral_lists (still scoped to what the agency holds now, and
audited as a search with the ids it showed). It is its user's alone and
expires after KEEP_FOR; expired ones are deleted whenever a search is stored
(`forget_expired`, until a job runner does it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from referral_app.extensions import db
from referral_app.models import SavedSearch, User, utcnow
from referral_app.services import audit
from referral_app.services.errors import NotFound, ServiceError

KEEP_FOR = timedelta(minutes=30)


class SearchExpired(ServiceError):
    """The search is gone: the page offers the form again."""

    status = 410
    code = "search_expired"


def store(actor: User, criteria: dict[str, Any]) -> SavedSearch:
    """Keep `criteria` (what the search form loaded: plain JSON values) for
    the actor until KEEP_FOR from now. Audited as stored, with the names of
    the criteria only (never the name searched for); expired searches of
    anyone are deleted first."""
    forget_expired()
    now = utcnow()
    saved = SavedSearch(
        user_id=actor.id, criteria=dict(criteria), created_at=now, expires_at=now + KEEP_FOR
    )
    db.session.add(saved)
    db.session.flush()
    audit.record(
        "referral.search_saved",
        actor,
        record_type="saved_search",
        record_id=saved.id,
        fields=sorted(criteria),
    )
    return saved


def load(actor: User, search_id: uuid.UUID) -> dict[str, Any]:
    """The criteria of the actor's own search.

    Refuses another user's search (NotFound, as if there were none: its id
    means nothing to anyone else) and one that has expired or was deleted
    when it expired (SearchExpired)."""
    saved = db.session.scalar(select(SavedSearch).where(SavedSearch.id == search_id))
    if saved is None:
        # Expired searches are deleted (forget_expired): an id that is not
        # there was most likely one, and the page offers the form again.
        raise SearchExpired("This search has expired. Search again.")
    if saved.user_id != actor.id:
        raise NotFound("No such search.")
    if saved.expires_at <= utcnow():
        raise SearchExpired("This search has expired. Search again.")
    return dict(saved.criteria)


def forget_expired(now: datetime | None = None) -> int:
    """Delete every saved search past its expiry (the names in them go with
    it); returns how many. Called when a search is stored."""
    result = db.session.execute(
        delete(SavedSearch)
        .where(SavedSearch.expires_at <= (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
