"""One thing per form, however often it is sent: every page form carries a
one-time `form_token` (the `form_tokens()` macro in _form.html puts it there
with the CSRF token) and every view that makes or changes something is
wrapped in `sent_once`.

The first sending runs the view; when it succeeds with a redirect, the
redirect's target is kept. The same form sent again (a double click that
beat the button's own guard, a resend after Back) does not run the view: it
goes where the first one went. A page re-shown with errors gives its form a
new token, and its failed sending leaves nothing behind: only a sending
that ends in a redirect keeps its claim."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask_login import current_user
from werkzeug.wrappers import Response

from blueprints.web import safe_next
from referral_app.services import form_submissions

FORM_TOKEN = "form_token"  # noqa: S105 (the name of a form field, not a secret)
View = TypeVar("View", bound=Callable[..., Any])


def sent_once(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        token = request.form.get(FORM_TOKEN, "")
        if not current_user.is_authenticated or not form_submissions.TOKEN_PATTERN.match(token):
            # Pages always send a token; a client posting a bare form gets no
            # duplicate guard, and no error for the lack of one.
            return view(*args, **kwargs)
        earlier = form_submissions.claim(current_user, token)
        if earlier is not None:
            flash("You already sent this form. This is what it did.")
            return redirect(safe_next(earlier.result_url or _page_sent_from()))
        result = view(*args, **kwargs)
        if isinstance(result, Response) and result.status_code in (302, 303):
            form_submissions.record_result(current_user, token, result.location)
        else:
            # The page was shown again (usually with its errors). A refused
            # request rolls the claim back anyway; one that keeps its changes
            # (the reads it showed stay audited) must not keep the claim.
            form_submissions.release(current_user, token)
        return result

    return cast(View, guarded)


def _page_sent_from() -> str:
    """The path of the page the form was on, if it was one of ours."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return "/"
    return referrer.path or "/"
