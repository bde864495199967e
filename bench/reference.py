"""A bare reference app: what Flask and psycopg do with the product's own SQL.

Serves the three API requests the benchmark compares against (issue 14):

    GET  /api/v1/referrals          a page of 25 incoming referrals
    GET  /api/v1/referrals/<id>     one referral, with the actions the caller may take
    POST /api/v1/referrals          a draft about a new child

and nothing else: no SQLAlchemy, no marshmallow, no blueprints or guards.
Each request looks up the bearer token (its SHA-256, as services/auth.py
does) with the user, sets the row-level-security setting, runs the
product's statements, writes the product's audit event(s), commits, and
answers JSON of the product's shape. The SQL is the text the product sends
(captured with log_statement = 'all'), so the gap between the product and
this app is the cost of everything the product adds on top of the same
database work. bench/run.py serves it under gunicorn beside the product:

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/referral_bench_10000 \\
        gunicorn --pythonpath bench 'reference:create_app()'

One psycopg connection per worker (a sync gunicorn worker serves one
request at a time), opened on first use and again if it breaks; psycopg's
own prepared statements (after 5 executions) as in the product.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from flask import Flask, Response, request
from psycopg.rows import dict_row
from psycopg.types.json import Json

try:
    import orjson

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # orjson is not a dependency (yet): the standard library's

    def dumps(value: Any) -> bytes:
        return json.dumps(value, default=_plain, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value))


# ---------------------------------------------------------------------------
# THE PRODUCT'S STATEMENTS. Captured from main at 70256d2 (the lean read path
# merged at 08e5a54; PostgreSQL log_statement = 'all' on the 10k benchmark
# database, one list, detail and create; `bench/run.py --statements` shows
# them again). The product's $n parameters are written %(name)s here:
# psycopg sends them as $n again, a name used twice as the same $n, as the
# product's statements do. The product sends no pre-ping any more.
# Update this block (and the audit write below) when the product's
# statements change.
# ---------------------------------------------------------------------------
MIRRORS = "70256d2"

# The sign-in lookup, which sets the row-level-security setting for the
# user's organisation in the same statement (referral_app/rls.setting_columns).
SESSION_LOOKUP = """\
SELECT user_account.id, user_account.email, user_account.full_name, \
user_account.organisation_id, user_account.active, user_account.password_hash, \
user_account.totp_secret, user_account.totp_last_step, user_account.enrolment_code_hash, \
user_account.enrolment_code_expires_at, user_account.failed_login_count, \
user_account.last_failed_login_at, user_account.locked_until, user_account.last_login_at, \
user_account.session_version, user_account.created_at, user_account.updated_at, \
auth_session.id AS id_1, auth_session.user_id, auth_session.kind, auth_session.secret_hash, \
auth_session.session_version AS session_version_1, auth_session.created_at AS created_at_1, \
auth_session.expires_at, auth_session.last_seen_at, auth_session.revoked_at, \
set_config(%(name_org)s::VARCHAR, CAST(user_account.organisation_id AS VARCHAR), %(local_org)s) \
AS rls_organisation, set_config(%(name_bypass)s::VARCHAR, %(bypass)s::VARCHAR, \
%(local_bypass)s) AS rls_bypass, organisation_1.id AS id_2, organisation_1.code, \
organisation_1.name, organisation_1.kind AS kind_1, organisation_1.active AS active_1, \
organisation_1.created_at AS created_at_2, user_role_1.user_id AS user_id_1, user_role_1.role
FROM auth_session JOIN user_account ON user_account.id = auth_session.user_id JOIN \
organisation AS organisation_1 ON organisation_1.id = user_account.organisation_id LEFT OUTER \
JOIN user_role AS user_role_1 ON user_account.id = user_role_1.user_id
WHERE auth_session.secret_hash = %(secret_hash)s::VARCHAR"""
SESSION_LOOKUP_PARAMS = {
    "name_org": "app.organisation_id",
    "local_org": True,
    "name_bypass": "app.rls_bypass",
    "bypass": "off",
    "local_bypass": True,
}

_REFERRAL_COLUMNS = """\
referral.id, referral.reference, referral.child_id, referral.referring_organisation_id, \
referral.referring_user_id, referral.receiving_organisation_id, referral.assignee_id, \
referral.status, referral.risk_level, referral.risk_factors, referral.reason, \
referral.consent_status, referral.consent_notes, referral.lawful_basis, \
referral.decline_reason, referral.outcome, referral.outcome_summary, referral.created_at, \
referral.updated_at, referral.submitted_at, referral.triage_deadline, referral.triaged_at, \
referral.closed_at, referral.legal_hold, referral.legal_hold_reason, \
referral.overdue_notified_at, referral.version, child.id AS child__id, \
child.first_name AS child__first_name, child.last_name AS child__last_name, \
child.date_of_birth AS child__date_of_birth, child.gender AS child__gender, \
child.address AS child__address, child.postcode AS child__postcode, \
child.school AS child__school, child.aliases AS child__aliases, \
child.created_at AS child__created_at, \
child.created_by_organisation_id AS child__created_by_organisation_id, \
child.merged_into_id AS child__merged_into_id, child.anonymised_at AS child__anonymised_at, \
referring_org.id AS referring_organisation__id, \
referring_org.code AS referring_organisation__code, \
referring_org.name AS referring_organisation__name, \
receiving_org.id AS receiving_organisation__id, \
receiving_org.code AS receiving_organisation__code, \
receiving_org.name AS receiving_organisation__name, \
referring_person.id AS referring_user__id, \
referring_person.full_name AS referring_user__full_name, assignee_person.id AS assignee__id, \
assignee_person.full_name AS assignee__full_name"""

_REFERRAL_SUBQUERY_COLUMNS = """\
referral.id AS id, referral.reference AS reference, referral.child_id AS child_id, \
referral.referring_organisation_id AS referring_organisation_id, \
referral.referring_user_id AS referring_user_id, \
referral.receiving_organisation_id AS receiving_organisation_id, \
referral.assignee_id AS assignee_id, referral.status AS status, \
referral.risk_level AS risk_level, referral.risk_factors AS risk_factors, \
referral.reason AS reason, referral.consent_status AS consent_status, \
referral.consent_notes AS consent_notes, referral.lawful_basis AS lawful_basis, \
referral.decline_reason AS decline_reason, referral.outcome AS outcome, \
referral.outcome_summary AS outcome_summary, referral.created_at AS created_at, \
referral.updated_at AS updated_at, referral.submitted_at AS submitted_at, \
referral.triage_deadline AS triage_deadline, referral.triaged_at AS triaged_at, \
referral.closed_at AS closed_at, referral.legal_hold AS legal_hold, \
referral.legal_hold_reason AS legal_hold_reason, \
referral.overdue_notified_at AS overdue_notified_at, referral.version AS version"""

_REFERRAL_JOINS = """\
JOIN child ON child.id = referral.child_id JOIN organisation AS referring_org ON \
referring_org.id = referral.referring_organisation_id JOIN organisation AS receiving_org ON \
receiving_org.id = referral.receiving_organisation_id JOIN user_account AS referring_person \
ON referring_person.id = referral.referring_user_id LEFT OUTER JOIN user_account AS \
assignee_person ON assignee_person.id = referral.assignee_id"""

# The page of the list, its count (bounded by the count window) a column of it.
LIST_PAGE = f"""\
SELECT {_REFERRAL_COLUMNS}, (SELECT count(*) AS count_1
FROM (SELECT {_REFERRAL_SUBQUERY_COLUMNS}
FROM referral
WHERE referral.receiving_organisation_id = %(org)s::UUID AND referral.submitted_at IS NOT NULL
 LIMIT %(count_limit)s) AS anon_1) AS total
FROM referral JOIN (SELECT referral.id AS id, referral.created_at AS sort_0
FROM referral
WHERE referral.receiving_organisation_id = %(org)s::UUID AND referral.submitted_at IS NOT \
NULL ORDER BY referral.created_at DESC, referral.id
 LIMIT %(limit)s OFFSET %(offset)s) AS page ON referral.id = page.id {_REFERRAL_JOINS} \
ORDER BY page.sort_0 DESC, page.id"""  # noqa: S608 - constant fragments

# Only for a page past the end (no row to carry the count): not mirrored,
# the benchmark asks for the first page.

DETAIL = f"""\
SELECT {_REFERRAL_COLUMNS}
FROM referral {_REFERRAL_JOINS}
WHERE (referral.referring_organisation_id = %(org)s::UUID OR \
referral.receiving_organisation_id = %(org)s::UUID AND referral.submitted_at IS NOT NULL OR \
referral.id = ANY (array((SELECT share.referral_id
FROM share
WHERE share.organisation_id = %(org)s::UUID AND share.revoked_at IS NULL AND \
share.expires_at > %(now)s::TIMESTAMP WITH TIME ZONE)))) AND referral.id = %(id)s::UUID"""  # noqa: S608 - constant fragments

# The receiving agency read and the year's counter bumped, in one statement.
RECEIVING_AND_REFERENCE = """\
WITH bump AS
(UPDATE reference_counter SET last_value=(reference_counter.last_value + \
%(step)s::INTEGER) WHERE reference_counter.year = %(year)s::INTEGER RETURNING \
reference_counter.last_value)
 SELECT organisation.id, organisation.code, organisation.name, organisation.kind, \
organisation.active, organisation.created_at, (SELECT bump.last_value
FROM bump) AS anon_1
FROM organisation
WHERE organisation.id = %(organisation)s::UUID"""

# The year's first referral only (the counter row made): services/referrals.next_reference.
NEXT_REFERENCE = """\
UPDATE reference_counter SET last_value=(reference_counter.last_value + %s::INTEGER) WHERE
reference_counter.year = %s::INTEGER RETURNING reference_counter.last_value
"""

INSERT_CHILD = """\
INSERT INTO child (id, first_name, last_name, date_of_birth, gender, address, postcode,
school, aliases, created_at, created_by_organisation_id, merged_into_id,
anonymised_at) VALUES (%s::UUID, %s::VARCHAR, %s::VARCHAR, %s::DATE, %s::VARCHAR,
%s::VARCHAR, %s::VARCHAR, %s::VARCHAR, %s::JSON, %s::TIMESTAMP WITH TIME ZONE, %s::UUID,
%s::UUID, %s::TIMESTAMP WITH TIME ZONE)
"""

INSERT_REFERRAL = """\
INSERT INTO referral (id, reference, child_id, referring_organisation_id,
referring_user_id, receiving_organisation_id, assignee_id, status, risk_level,
risk_factors, reason, consent_status, consent_notes, lawful_basis, decline_reason, outcome,
outcome_summary, created_at, updated_at, submitted_at, triage_deadline, triaged_at,
closed_at, legal_hold, legal_hold_reason, overdue_notified_at, version) VALUES (%s::UUID,
%s::VARCHAR, %s::UUID, %s::UUID, %s::UUID, %s::UUID, %s::UUID, %s, %s, %s::JSON,
%s::VARCHAR, %s, %s::VARCHAR, %s, %s::VARCHAR, %s, %s::VARCHAR,
%s::TIMESTAMP WITH TIME ZONE, %s::TIMESTAMP WITH TIME ZONE, %s::TIMESTAMP WITH TIME ZONE,
%s::TIMESTAMP WITH TIME ZONE, %s::TIMESTAMP WITH TIME ZONE, %s::TIMESTAMP WITH TIME ZONE,
%s, %s::VARCHAR, %s::TIMESTAMP WITH TIME ZONE, %s::INTEGER)
"""

# All of a transaction's events in one INSERT: the column list, then one
# VALUES group per event.
INSERT_AUDIT_EVENTS = """\
INSERT INTO audit_event (occurred_at, request_id, actor_user_id, actor_organisation_id,
actor_role, action, record_type, record_id, record_ids, fields, recipient_organisation_id,
reason, outcome, client_ip, written_at, mac) VALUES """
AUDIT_EVENT_VALUES = """\
(%s::TIMESTAMP WITH TIME ZONE, %s::VARCHAR, %s::UUID, %s::UUID, %s::VARCHAR, %s::VARCHAR,
%s::VARCHAR, %s::VARCHAR, %s::JSON, %s::JSON, %s::UUID, %s::VARCHAR, %s::VARCHAR,
%s::VARCHAR, %s::TIMESTAMP WITH TIME ZONE, %s::VARCHAR)"""

# The list: direction=incoming, newest first; counted at most this far
# (services/paging.COUNT_WINDOW), as the product does.
COUNT_WINDOW = 1_000
PAGE_SIZE = 25
# --------------------------------- end of the product's statements ---------

# models/audit.MAC_DOMAIN: starts the message of an unsealed event's HMAC.
MAC_DOMAIN = "referral-audit-event/v1\n"
CASE_ROLES = frozenset({"referrer", "caseworker", "manager"})
# services/lifecycle.RULES, in its order: action -> (from statuses, side, roles, assignee may).
RULES = {
    "submit": ({"draft"}, "referring", CASE_ROLES, False),
    "withdraw": ({"draft", "submitted"}, "referring", CASE_ROLES, False),
    "accept": ({"submitted"}, "receiving", {"manager"}, False),
    "decline": ({"submitted"}, "receiving", {"manager"}, False),
    "assign": ({"accepted", "in_progress"}, "receiving", {"manager"}, False),
    "close": ({"in_progress"}, "receiving", {"manager"}, True),
    "reopen": ({"closed"}, "receiving", {"manager"}, False),
}
REFERRAL_FIELDS = (
    "risk_level",
    "risk_factors",
    "reason",
    "consent_status",
    "consent_notes",
    "lawful_basis",
)
CHILD_FIELDS = ("first_name", "last_name", "date_of_birth", "gender", "address", "postcode")

DATABASE_URL = os.environ.get("DATABASE_URL", "").replace("postgresql+psycopg://", "postgresql://")
# The development key, as the benchmark runs the product with APP_ENV=development:
# events written here must verify in the same chain as the product's.
AUDIT_KEY = os.environ.get("AUDIT_HMAC_KEY", "dev-only-audit-key-not-for-production").encode()

# The product's session settings (referral_app/__init__._engine_options: no
# parallel plans for a request), and UTC.
OPTIONS = "-c max_parallel_workers_per_gather=0 -c TimeZone=UTC"

_connection: psycopg.Connection[dict[str, Any]] | None = None


def connection() -> psycopg.Connection[dict[str, Any]]:
    """This worker's connection: opened on first use (after gunicorn forks)
    and again when the last one broke."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(DATABASE_URL, row_factory=dict_row, options=OPTIONS)
    return _connection


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(dumps(body), status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response


# --- who is asking -----------------------------------------------------------


def caller(cur: psycopg.Cursor[dict[str, Any]]) -> dict[str, Any]:
    """The token's user, checked as services/auth.resolve_session checks it;
    the same statement sets the row-level-security setting for the user's
    organisation (a refused caller's transaction is rolled back)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        raise Refused(401, "Sign in first.")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    rows = cur.execute(SESSION_LOOKUP, {**SESSION_LOOKUP_PARAMS, "secret_hash": digest}).fetchall()
    first = rows[0] if rows else None
    if (
        first is None
        or first["kind"] != "api_token"
        or first["revoked_at"] is not None
        or first["expires_at"] <= datetime.now(UTC)
        or first["session_version"] != first["session_version_1"]
        or not (first["active"] and first["active_1"])
    ):
        raise Refused(401, "Sign in first.")
    roles = sorted(row["role"] for row in rows if row["role"])
    if not CASE_ROLES.intersection(roles):
        raise Refused(403, "Not allowed.")
    organisation_id = first["organisation_id"]
    # The lookup set the row-level-security setting for this organisation.
    return {
        "id": first["user_id"],
        "full_name": first["full_name"],
        "organisation_id": organisation_id,
        "organisation": {"id": organisation_id, "code": first["code"], "name": first["name"]},
        "roles": roles,
    }


# --- the audit write ---------------------------------------------------------


def audit_event(user: dict[str, Any], action: str, **details: Any) -> dict[str, Any]:
    """An event as services/audit._event makes it (names, never values)."""
    fields = details.get("fields")
    record_id = details.get("record_id")
    return {
        "occurred_at": datetime.now(UTC),
        "request_id": request.environ["reference.request_id"],
        "actor_user_id": user["id"],
        "actor_organisation_id": user["organisation_id"],
        "actor_role": ",".join(user["roles"]),
        "action": action,
        "record_type": details.get("record_type"),
        "record_id": str(record_id) if record_id is not None else None,
        "record_ids": details.get("record_ids"),
        "fields": sorted(fields) if fields is not None else None,
        "recipient_organisation_id": None,
        "reason": None,
        "outcome": "success",
        "client_ip": request.remote_addr,
    }


def _mac(event: dict[str, Any], written_at: datetime) -> str:
    # models/audit.event_mac: the event's content (models/audit.content) and
    # when it was written, not its place in the chain.
    content = {
        **event,
        "occurred_at": event["occurred_at"].isoformat(),
        "actor_user_id": str(event["actor_user_id"]) if event["actor_user_id"] else None,
        "actor_organisation_id": (
            str(event["actor_organisation_id"]) if event["actor_organisation_id"] else None
        ),
        "written_at": written_at.isoformat(),
    }
    message = MAC_DOMAIN + json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hmac.new(AUDIT_KEY, message.encode(), hashlib.sha256).hexdigest()


def write_audit(cur: psycopg.Cursor[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """The product's audit write (services/audit._write_pending_events, as at 74952b9 and 70256d2):
    all of the transaction's events in one INSERT, unsealed (no seq,
    prev_hash or hash), each with its own HMAC; no lock. The product's
    sequencer (`flask audit seal --watch`, which bench/run.py starts) seals
    them into the chain after the commit, the reference's with the product's."""
    written_at = datetime.now(UTC)
    values: list[Any] = []
    for event in events:
        values += [
            event["occurred_at"],
            event["request_id"],
            event["actor_user_id"],
            event["actor_organisation_id"],
            event["actor_role"],
            event["action"],
            event["record_type"],
            event["record_id"],
            Json(event["record_ids"]),
            Json(event["fields"]),
            event["recipient_organisation_id"],
            event["reason"],
            event["outcome"],
            event["client_ip"],
            written_at,
            _mac(event, written_at),
        ]
    statement = INSERT_AUDIT_EVENTS + ", ".join([AUDIT_EVENT_VALUES] * len(events))
    cur.execute(statement, values)


# --- the answers -------------------------------------------------------------


def referral_json(row: dict[str, Any]) -> dict[str, Any]:
    """ReferralSchema's shape from a row of LIST_PAGE or DETAIL (their aliases)."""
    return {
        "id": row["id"],
        "reference": row["reference"],
        "status": row["status"],
        "child": {
            "id": row["child__id"],
            "first_name": row["child__first_name"],
            "last_name": row["child__last_name"],
            "date_of_birth": row["child__date_of_birth"],
            "gender": row["child__gender"],
            "address": row["child__address"],
            "postcode": row["child__postcode"],
            "school": row["child__school"],
            "aliases": row["child__aliases"],
        },
        "referring_organisation": {
            "id": row["referring_organisation__id"],
            "code": row["referring_organisation__code"],
            "name": row["referring_organisation__name"],
        },
        "referring_user": {
            "id": row["referring_user__id"],
            "full_name": row["referring_user__full_name"],
        },
        "receiving_organisation": {
            "id": row["receiving_organisation__id"],
            "code": row["receiving_organisation__code"],
            "name": row["receiving_organisation__name"],
        },
        "assignee": (
            {"id": row["assignee__id"], "full_name": row["assignee__full_name"]}
            if row["assignee__id"]
            else None
        ),
        "risk_level": row["risk_level"],
        "risk_factors": row["risk_factors"],
        "reason": row["reason"],
        "consent_status": row["consent_status"],
        "consent_notes": row["consent_notes"],
        "lawful_basis": row["lawful_basis"],
        "decline_reason": row["decline_reason"],
        "outcome": row["outcome"],
        "outcome_summary": row["outcome_summary"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "submitted_at": row["submitted_at"],
        "triage_deadline": row["triage_deadline"],
        "overdue": row["status"] == "submitted"
        and row["triage_deadline"] is not None
        and row["triage_deadline"] < datetime.now(UTC),
        "triaged_at": row["triaged_at"],
        "closed_at": row["closed_at"],
        "version": row["version"],
        "legal_hold": row["legal_hold"],
    }


def allowed_actions(user: dict[str, Any], referral: dict[str, Any]) -> list[str]:
    """services/lifecycle.allowed_actions for a referral held as referring or
    receiving agency (a shared one allows no action, and is not asked for)."""
    org = user["organisation_id"]
    sides = set()
    if referral["referring_organisation_id"] == org:
        sides.add("referring")
    if referral["receiving_organisation_id"] == org and referral["submitted_at"] is not None:
        sides.add("receiving")
    return [
        action
        for action, (sources, side, roles, assignee_may) in RULES.items()
        if referral["status"] in sources
        and side in sides
        and (
            roles.intersection(user["roles"])
            or (assignee_may and referral["assignee_id"] == user["id"])
        )
    ]


def etag(referral_id: uuid.UUID, version: int) -> str:
    # flask-smorest's ETag of blueprints/api/referrals.etag_data, through the
    # product's JSON provider (orjson since 08e5a54: sorted keys, compact).
    data = json.dumps(
        {"id": str(referral_id), "version": version}, sort_keys=True, separators=(",", ":")
    )
    return '"' + hashlib.sha1(data.encode()).hexdigest() + '"'  # noqa: S324 - as flask-smorest


def pagination(total: int, bound: int, page: int, page_size: int) -> str:
    last = max(1, -(-total // page_size))
    metadata: dict[str, Any] = {
        "total": total,
        "total_pages": last,
        "first_page": 1,
        "last_page": last,
        "page": page,
    }
    if page > 1:
        metadata["previous_page"] = page - 1
    if page < last:
        metadata["next_page"] = page + 1
    if total > bound:
        metadata["total_exact"] = False
    return json.dumps(metadata)


# --- the three requests ------------------------------------------------------


def list_referrals(cur: psycopg.Cursor[dict[str, Any]]) -> Response:
    """GET /api/v1/referrals?direction=incoming[&page=&page_size=]."""
    user = caller(cur)
    if request.args.get("direction", "incoming") != "incoming":
        raise Refused(400, "The reference serves direction=incoming only.")
    page = int(request.args.get("page", 1))
    page_size = min(int(request.args.get("page_size", PAGE_SIZE)), 100)
    start = (page - 1) * page_size
    org = user["organisation_id"]
    bound = start + COUNT_WINDOW
    rows = cur.execute(
        LIST_PAGE, {"org": org, "count_limit": bound + 1, "limit": page_size, "offset": start}
    ).fetchall()
    if not rows and page > 1:
        raise Refused(400, "The reference serves pages up to the last only.")
    total = rows[0]["total"] if rows else 0
    items = [referral_json(row) for row in rows]
    write_audit(
        cur,
        [
            audit_event(
                user,
                "referral.list",
                record_type="referral",
                record_ids=[str(row["id"]) for row in rows],
                fields=["direction"],
            )
        ],
    )
    return answer(items, headers={"X-Pagination": pagination(total, bound, page, page_size)})


def read_referral(cur: psycopg.Cursor[dict[str, Any]], referral_id: uuid.UUID) -> Response:
    """GET /api/v1/referrals/<id>."""
    user = caller(cur)
    org = user["organisation_id"]
    row = cur.execute(DETAIL, {"org": org, "now": datetime.now(UTC), "id": referral_id}).fetchone()
    if row is None:
        raise Refused(404, "No such referral.")
    write_audit(
        cur, [audit_event(user, "referral.read", record_type="referral", record_id=row["id"])]
    )
    body = referral_json(row)
    body["allowed_actions"] = allowed_actions(user, row)
    return answer(body, headers={"ETag": etag(row["id"], row["version"])})


def next_reference(cur: psycopg.Cursor[dict[str, Any]], year: int) -> str:
    """services/referrals.next_reference: the year's counter, made on first use."""
    found = cur.execute(NEXT_REFERENCE, (1, year)).fetchone()
    if found is None:
        try:
            with cur.connection.transaction():
                cur.execute(
                    "INSERT INTO reference_counter (year, last_value) VALUES (%s, 1)", (year,)
                )
            return f"R-{year}-{1:06d}"
        except psycopg.errors.UniqueViolation:
            found = cur.execute(NEXT_REFERENCE, (1, year)).fetchone()
    return f"R-{year}-{found['last_value']:06d}"


def create_referral(cur: psycopg.Cursor[dict[str, Any]]) -> Response:
    """POST /api/v1/referrals with `child` (a new child): a draft."""
    user = caller(cur)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("child"), dict):
        raise Refused(400, "The reference makes drafts about a new child only.")
    child = body["child"]
    try:
        receiving_id = uuid.UUID(str(body["receiving_organisation_id"]))
        date_of_birth = date.fromisoformat(child["date_of_birth"])
        first_name, last_name = child["first_name"].strip(), child["last_name"].strip()
    except (KeyError, ValueError, AttributeError) as error:
        raise Refused(400, f"Missing or malformed: {error}") from error
    now = datetime.now(UTC)
    receiving = cur.execute(
        RECEIVING_AND_REFERENCE, {"step": 1, "year": now.year, "organisation": receiving_id}
    ).fetchone()
    if receiving is None or not receiving["active"] or receiving_id == user["organisation_id"]:
        raise Refused(400, "Choose an active agency other than your own.")
    reference = (
        f"R-{now.year}-{receiving['anon_1']:06d}"
        if receiving["anon_1"] is not None
        else next_reference(cur, now.year)  # the year's first: its counter row is made
    )
    org = user["organisation_id"]
    child_id = uuid.uuid4()
    aliases = child.get("aliases") or []
    cur.execute(
        INSERT_CHILD,
        (
            child_id,
            first_name,
            last_name,
            date_of_birth,
            child.get("gender"),
            child.get("address"),
            child.get("postcode"),
            child.get("school"),
            Json(aliases),
            now,
            org,
            None,
            None,
        ),
    )
    events = [
        audit_event(user, "child.create", record_type="child", record_id=child_id, fields=child)
    ]
    fields = {name: body[name] for name in REFERRAL_FIELDS if name in body}
    referral = {
        "id": uuid.uuid4(),
        "reference": reference,
        "child_id": child_id,
        "referring_organisation_id": org,
        "referring_user_id": user["id"],
        "receiving_organisation_id": receiving_id,
        "assignee_id": None,
        "status": "draft",
        "risk_level": fields.get("risk_level"),
        "risk_factors": fields.get("risk_factors") or [],
        "reason": fields.get("reason"),
        "consent_status": fields.get("consent_status"),
        "consent_notes": fields.get("consent_notes"),
        "lawful_basis": fields.get("lawful_basis"),
        "created_at": datetime.now(UTC),
    }
    referral["updated_at"] = referral["created_at"]
    cur.execute(
        INSERT_REFERRAL,
        (
            referral["id"],
            referral["reference"],
            child_id,
            org,
            user["id"],
            receiving_id,
            None,
            "draft",
            referral["risk_level"],
            Json(referral["risk_factors"]),
            referral["reason"],
            referral["consent_status"],
            referral["consent_notes"],
            referral["lawful_basis"],
            None,
            None,
            None,
            referral["created_at"],
            referral["updated_at"],
            None,
            None,
            None,
            None,
            False,
            None,
            None,
            1,
        ),
    )
    events.append(
        audit_event(
            user,
            "referral.create",
            record_type="referral",
            record_id=referral["id"],
            fields=[
                "child",
                "receiving_organisation_id",
                *(k for k in body if k not in ("child", "receiving_organisation_id")),
            ],
        )
    )
    write_audit(cur, events)
    row = {
        **referral,
        "child__id": child_id,
        "child__first_name": first_name,
        "child__last_name": last_name,
        "child__date_of_birth": date_of_birth,
        "child__gender": child.get("gender"),
        "child__address": child.get("address"),
        "child__postcode": child.get("postcode"),
        "child__school": child.get("school"),
        "child__aliases": aliases,
        "referring_organisation__id": org,
        "referring_organisation__code": user["organisation"]["code"],
        "referring_organisation__name": user["organisation"]["name"],
        "referring_user__id": user["id"],
        "referring_user__full_name": user["full_name"],
        "receiving_organisation__id": receiving_id,
        "receiving_organisation__code": receiving["code"],
        "receiving_organisation__name": receiving["name"],
        "assignee__id": None,
        "assignee__full_name": None,
        "decline_reason": None,
        "outcome": None,
        "outcome_summary": None,
        "submitted_at": None,
        "triage_deadline": None,
        "triaged_at": None,
        "closed_at": None,
        "version": 1,
        "legal_hold": False,
    }
    answer_body = referral_json(row)
    answer_body["allowed_actions"] = allowed_actions(user, row)
    return answer(answer_body, 201)


# --- the app -----------------------------------------------------------------


def in_transaction(handler: Any, *args: Any) -> Response:
    """One transaction per request: commit on success, roll back otherwise."""
    request.environ["reference.request_id"] = uuid.uuid4().hex
    conn = connection()
    try:
        with conn.cursor() as cur:
            response = handler(cur, *args)
        conn.commit()
    except Refused as refusal:
        conn.rollback()
        response = answer({"message": refusal.message}, refusal.status)
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise
    response.headers["X-Request-ID"] = request.environ["reference.request_id"]
    return response


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        # For run.py to know the server is up; no database.
        return answer({"status": "ok"})

    @app.get("/api/v1/referrals")
    def referrals_get() -> Response:
        return in_transaction(list_referrals)

    @app.post("/api/v1/referrals")
    def referrals_post() -> Response:
        return in_transaction(create_referral)

    @app.get("/api/v1/referrals/<uuid:referral_id>")
    def referral_get(referral_id: uuid.UUID) -> Response:
        return in_transaction(read_referral, referral_id)

    return app
