"""The request boundary: a request id for every request, and one commit per
request when it succeeded (a rollback otherwise). Views and services only
flush."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from referral_app import rls
from referral_app.extensions import db
from referral_app.services import audit, audit_sequencer

REQUEST_ID_HEADER = "X-Request-ID"
request_log = logging.getLogger("referral_app.requests")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@event.listens_for(Engine, "before_cursor_execute")
def _count_query(*_: Any) -> None:
    if has_request_context():
        g.query_count = g.get("query_count", 0) + 1


def begin_request() -> None:
    # Our own id, always: it is the one the audit events carry, and a client
    # must not be able to choose (or reuse) the id of its own audit records.
    # An id the client sent is kept apart, for the request log.
    g.request_id = uuid.uuid4().hex
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    g.client_request_id = supplied if _VALID_REQUEST_ID.match(supplied) else None
    g.audit_binding = audit.bind_request(g.request_id, request.remote_addr)
    g.rls_awaiting = rls.await_user()
    g.started = time.perf_counter()


# No request body of ours nests deeper than a few levels; a JSON parser given
# thousands of levels recurses until Python gives up (a 500). Refused first.
MAX_JSON_DEPTH = 64


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in `body` nest deeper than `limit` (brackets
    inside strings do not count). Cheap for ordinary bodies: only one with
    more than `limit` opening brackets in all is scanned."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def refuse_deep_json() -> Response | None:
    if request.is_json and json_depth_exceeds(request.get_data(cache=True)):
        from referral_app.errors import error_response

        return error_response(
            400, f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        )
    return None


def keep_changes_on_error() -> None:
    """Ask the boundary to commit even though the answer is an error (a failed
    sign-in still counts against the account and is audited)."""
    g.keep_changes_on_error = True


def remember_actor() -> None:
    """Who is asking, for the request log (called by the guard)."""
    if current_user.is_authenticated:
        g.log_actor = (str(current_user.id), str(current_user.organisation_id))


def commit_or_roll_back(response: Response) -> Response:
    """Commit a request that succeeded (or asked to keep its changes), roll
    back any other. Either way, its refusals are recorded, and so are its
    disclosures: a read of case data stays in the trail even when the rest
    of the request is undone (a refused form that showed the referral again)."""
    if response.status_code < 400 or g.get("keep_changes_on_error"):
        audit.add_pending(db.session, audit.take_kept(rolled_back=False))
        db.session.commit()
    else:
        db.session.rollback()
        kept = audit.take_kept(rolled_back=True)
        if kept:
            audit.add_pending(db.session, kept)
            db.session.commit()
    if current_app.config.get("AUDIT_SEAL_AFTER_REQUEST"):
        # The test suite's setting: seal at once, in a transaction of its
        # own, not counted among the request's statements.
        counted = g.get("query_count", 0)
        audit_sequencer.seal_what_was_written(db.session)
        g.query_count = counted
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if current_app.config.get("QUERY_COUNT_HEADER"):
            # For the benchmark and the N+1 tests: SQL statements this request ran.
            response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        log_request(response)
    return response


def log_request(response: Response) -> None:
    """One JSON line per request, with the request id the audit events carry.
    No personal data: the path holds ids only, the query string is left out
    (names are never in URLs), and users appear by id."""
    # Read before the commit (see remember_actor): after it, touching the
    # user would reload it from the database for nothing but a log line.
    user_id, organisation_id = g.get("log_actor", (None, None))
    request_log.info(
        json.dumps(
            {
                "request_id": g.request_id,
                "client_request_id": g.get("client_request_id"),
                "method": request.method,
                "path": request.path,
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
                "user_id": user_id,
                "organisation_id": organisation_id,
                "client_ip": request.remote_addr,
            },
            separators=(",", ":"),
        )
    )


def end_request(_error: BaseException | None) -> None:
    binding = g.pop("audit_binding", None)
    if binding is not None:
        audit.unbind_request(binding)
    awaiting = g.pop("rls_awaiting", None)
    if awaiting is not None:
        rls.unscope(awaiting)


def init_app(app: Flask) -> None:
    # Registered before the guard, so even refused requests have an id.
    app.before_request(begin_request)
    app.before_request(refuse_deep_json)
    app.after_request(commit_or_roll_back)
    app.teardown_request(end_request)
