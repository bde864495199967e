"""Forms sent from the browser, by the one-time token each page gives its
form: the first sending does the work, the same form sent again is pointed
at what the first one made. A double click, a triple click or a resend after
Back makes one referral, one note, one transition."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from referral_app.extensions import db
from referral_app.models import FormSubmission, User, utcnow

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# A form left open longer than this and sent twice is not guarded: the
# records are kept only as long as a page is plausibly open.
KEEP_FOR = timedelta(days=1)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def claim(actor: User, token: str) -> FormSubmission | None:
    """Record that `actor` sent the form with `token`. Returns None when this
    is the first time (go ahead), or the earlier sending when it is not.

    Two sendings at once both try to insert; the unique (user, token) makes
    the second wait for the first's transaction and then fail, in a
    savepoint, after which the first's record is read."""
    earlier = _find(actor, token)
    if earlier is not None:
        return earlier
    submission = FormSubmission(user_id=actor.id, token=token)
    try:
        with db.session.begin_nested():
            db.session.add(submission)
    except IntegrityError:
        return _find(actor, token)
    return None


def record_result(actor: User, token: str, url: str) -> None:
    """Where the first sending's result is, for any later one."""
    submission = _find(actor, token)
    if submission is not None:
        submission.result_url = url[:500]


def release(actor: User, token: str) -> None:
    """Forget a sending that made nothing to go back to (the page was shown
    again, with its errors): sending that form again is a new attempt."""
    db.session.execute(
        delete(FormSubmission).where(
            FormSubmission.user_id == actor.id, FormSubmission.token == token
        )
    )


def _find(actor: User, token: str) -> FormSubmission | None:
    return db.session.scalars(
        select(FormSubmission).where(
            FormSubmission.user_id == actor.id, FormSubmission.token == token
        )
    ).first()


def forget_old() -> int:
    """Drop the records of forms sent more than KEEP_FOR ago."""
    result = db.session.execute(
        delete(FormSubmission).where(FormSubmission.created_at < utcnow() - KEEP_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)
