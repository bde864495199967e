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
# THE PRODUCT'S STATEMENTS. Captured from main at 4df7865 (PostgreSQL
# log_statement = 'all' on a scratch database, one list, detail and create;
# bench/run.py --count-only shows them again). The product's $n parameters
# are written %s here (psycopg sends them as $n again). Not mirrored: the
# pool's pre-ping (`;` on every checkout), which is not a statement of the
# request. Update this block (and the audit write below) when the product's
# statements change.
# ---------------------------------------------------------------------------
MIRRORS = "4df7865"

SESSION_LOOKUP = """\
SELECT auth_session.id, auth_session.user_id, auth_session.kind, auth_session.secret_hash,
auth_session.session_version, auth_session.created_at, auth_session.expires_at,
auth_session.last_seen_at, auth_session.revoked_at, organisation_1.id AS id_1,
organisation_1.code, organisation_1.name, organisation_1.kind AS kind_1,
organisation_1.active, organisation_1.created_at AS created_at_1,
user_role_1.user_id AS user_id_1, user_role_1.role, user_account_1.id AS id_2,
user_account_1.email, user_account_1.full_name, user_account_1.organisation_id,
user_account_1.active AS active_1, user_account_1.password_hash,
user_account_1.totp_secret, user_account_1.totp_last_step,
user_account_1.enrolment_code_hash, user_account_1.enrolment_code_expires_at,
user_account_1.failed_login_count, user_account_1.last_failed_login_at,
user_account_1.locked_until, user_account_1.last_login_at,
user_account_1.session_version AS session_version_1,
user_account_1.created_at AS created_at_2, user_account_1.updated_at
FROM auth_session JOIN user_account AS user_account_1 ON user_account_1.id =
auth_session.user_id JOIN organisation AS organisation_1 ON organisation_1.id =
user_account_1.organisation_id LEFT OUTER JOIN user_role AS user_role_1 ON
user_account_1.id = user_role_1.user_id
WHERE auth_session.secret_hash = %s::VARCHAR
"""

SET_ORGANISATION = """\
SELECT set_config('app.organisation_id', %s, true), set_config('app.rls_bypass', %s, true)
"""

LIST_COUNT = """\
SELECT count(*) AS count_1
FROM (SELECT referral.id AS id, referral.reference AS reference,
referral.child_id AS child_id,
referral.referring_organisation_id AS referring_organisation_id,
referral.referring_user_id AS referring_user_id,
referral.receiving_organisation_id AS receiving_organisation_id,
referral.assignee_id AS assignee_id, referral.status AS status,
referral.risk_level AS risk_level, referral.risk_factors AS risk_factors,
referral.reason AS reason, referral.consent_status AS consent_status,
referral.consent_notes AS consent_notes, referral.lawful_basis AS lawful_basis,
referral.decline_reason AS decline_reason, referral.outcome AS outcome,
referral.outcome_summary AS outcome_summary, referral.created_at AS created_at,
referral.updated_at AS updated_at, referral.submitted_at AS submitted_at,
referral.triage_deadline AS triage_deadline, referral.triaged_at AS triaged_at,
referral.closed_at AS closed_at, referral.legal_hold AS legal_hold,
referral.legal_hold_reason AS legal_hold_reason,
referral.overdue_notified_at AS overdue_notified_at, referral.version AS version
FROM referral
WHERE referral.receiving_organisation_id = %s::UUID AND referral.submitted_at IS NOT NULL
 LIMIT %s::INTEGER) AS anon_1
"""

LIST_PAGE = """\
SELECT referral.id, referral.reference, referral.child_id,
referral.referring_organisation_id, referral.referring_user_id,
referral.receiving_organisation_id, referral.assignee_id, referral.status,
referral.risk_level, referral.risk_factors, referral.reason, referral.consent_status,
referral.consent_notes, referral.lawful_basis, referral.decline_reason, referral.outcome,
referral.outcome_summary, referral.created_at, referral.updated_at, referral.submitted_at,
referral.triage_deadline, referral.triaged_at, referral.closed_at, referral.legal_hold,
referral.legal_hold_reason, referral.overdue_notified_at, referral.version,
child_1.id AS id_1, child_1.first_name, child_1.last_name, child_1.date_of_birth,
child_1.gender, child_1.address, child_1.postcode, child_1.school, child_1.aliases,
child_1.created_at AS created_at_1, child_1.created_by_organisation_id,
child_1.merged_into_id, child_1.anonymised_at, organisation_1.id AS id_2,
organisation_1.code, organisation_1.name, organisation_1.kind, organisation_1.active,
organisation_1.created_at AS created_at_2, organisation_2.id AS id_3,
organisation_2.code AS code_1, organisation_2.name AS name_1,
organisation_2.kind AS kind_1, organisation_2.active AS active_1,
organisation_2.created_at AS created_at_3, organisation_3.id AS id_4,
organisation_3.code AS code_2, organisation_3.name AS name_2,
organisation_3.kind AS kind_2, organisation_3.active AS active_2,
organisation_3.created_at AS created_at_4, user_account_1.id AS id_5, user_account_1.email,
user_account_1.full_name, user_account_1.organisation_id,
user_account_1.active AS active_3, user_account_1.password_hash,
user_account_1.totp_secret, user_account_1.totp_last_step,
user_account_1.enrolment_code_hash, user_account_1.enrolment_code_expires_at,
user_account_1.failed_login_count, user_account_1.last_failed_login_at,
user_account_1.locked_until, user_account_1.last_login_at, user_account_1.session_version,
user_account_1.created_at AS created_at_5, user_account_1.updated_at AS updated_at_1,
organisation_4.id AS id_6, organisation_4.code AS code_3, organisation_4.name AS name_3,
organisation_4.kind AS kind_3, organisation_4.active AS active_4,
organisation_4.created_at AS created_at_6, user_account_2.id AS id_7,
user_account_2.email AS email_1, user_account_2.full_name AS full_name_1,
user_account_2.organisation_id AS organisation_id_1, user_account_2.active AS active_5,
user_account_2.password_hash AS password_hash_1,
user_account_2.totp_secret AS totp_secret_1,
user_account_2.totp_last_step AS totp_last_step_1,
user_account_2.enrolment_code_hash AS enrolment_code_hash_1,
user_account_2.enrolment_code_expires_at AS enrolment_code_expires_at_1,
user_account_2.failed_login_count AS failed_login_count_1,
user_account_2.last_failed_login_at AS last_failed_login_at_1,
user_account_2.locked_until AS locked_until_1,
user_account_2.last_login_at AS last_login_at_1,
user_account_2.session_version AS session_version_1,
user_account_2.created_at AS created_at_7, user_account_2.updated_at AS updated_at_2
FROM referral JOIN (SELECT referral.id AS id, referral.created_at AS sort_0
FROM referral
WHERE referral.receiving_organisation_id = %s::UUID AND referral.submitted_at IS NOT NULL
ORDER BY referral.created_at DESC, referral.id
 LIMIT %s::INTEGER OFFSET %s::INTEGER) AS page ON referral.id = page.id JOIN child AS
child_1 ON child_1.id = referral.child_id JOIN organisation AS organisation_1 ON
organisation_1.id = referral.referring_organisation_id JOIN organisation AS organisation_2
ON organisation_2.id = referral.receiving_organisation_id JOIN user_account AS
user_account_1 ON user_account_1.id = referral.referring_user_id JOIN organisation AS
organisation_3 ON organisation_3.id = user_account_1.organisation_id LEFT OUTER JOIN
(user_account AS user_account_2 JOIN organisation AS organisation_4 ON organisation_4.id =
user_account_2.organisation_id) ON user_account_2.id = referral.assignee_id ORDER BY
page.sort_0 DESC, page.id
"""

DETAIL = """\
SELECT referral.id, referral.reference, referral.child_id,
referral.referring_organisation_id, referral.referring_user_id,
referral.receiving_organisation_id, referral.assignee_id, referral.status,
referral.risk_level, referral.risk_factors, referral.reason, referral.consent_status,
referral.consent_notes, referral.lawful_basis, referral.decline_reason, referral.outcome,
referral.outcome_summary, referral.created_at, referral.updated_at, referral.submitted_at,
referral.triage_deadline, referral.triaged_at, referral.closed_at, referral.legal_hold,
referral.legal_hold_reason, referral.overdue_notified_at, referral.version,
child_1.id AS id_1, child_1.first_name, child_1.last_name, child_1.date_of_birth,
child_1.gender, child_1.address, child_1.postcode, child_1.school, child_1.aliases,
child_1.created_at AS created_at_1, child_1.created_by_organisation_id,
child_1.merged_into_id, child_1.anonymised_at, organisation_1.id AS id_2,
organisation_1.code, organisation_1.name, organisation_1.kind, organisation_1.active,
organisation_1.created_at AS created_at_2, organisation_2.id AS id_3,
organisation_2.code AS code_1, organisation_2.name AS name_1,
organisation_2.kind AS kind_1, organisation_2.active AS active_1,
organisation_2.created_at AS created_at_3, organisation_3.id AS id_4,
organisation_3.code AS code_2, organisation_3.name AS name_2,
organisation_3.kind AS kind_2, organisation_3.active AS active_2,
organisation_3.created_at AS created_at_4, user_account_1.id AS id_5, user_account_1.email,
user_account_1.full_name, user_account_1.organisation_id,
user_account_1.active AS active_3, user_account_1.password_hash,
user_account_1.totp_secret, user_account_1.totp_last_step,
user_account_1.enrolment_code_hash, user_account_1.enrolment_code_expires_at,
user_account_1.failed_login_count, user_account_1.last_failed_login_at,
user_account_1.locked_until, user_account_1.last_login_at, user_account_1.session_version,
user_account_1.created_at AS created_at_5, user_account_1.updated_at AS updated_at_1,
organisation_4.id AS id_6, organisation_4.code AS code_3, organisation_4.name AS name_3,
organisation_4.kind AS kind_3, organisation_4.active AS active_4,
organisation_4.created_at AS created_at_6, user_account_2.id AS id_7,
user_account_2.email AS email_1, user_account_2.full_name AS full_name_1,
user_account_2.organisation_id AS organisation_id_1, user_account_2.active AS active_5,
user_account_2.password_hash AS password_hash_1,
user_account_2.totp_secret AS totp_secret_1,
user_account_2.totp_last_step AS totp_last_step_1,
user_account_2.enrolment_code_hash AS enrolment_code_hash_1,
user_account_2.enrolment_code_expires_at AS enrolment_code_expires_at_1,
user_account_2.failed_login_count AS failed_login_count_1,
user_account_2.last_failed_login_at AS last_failed_login_at_1,
user_account_2.locked_until AS locked_until_1,
user_account_2.last_login_at AS last_login_at_1,
user_account_2.session_version AS session_version_1,
user_account_2.created_at AS created_at_7, user_account_2.updated_at AS updated_at_2
FROM referral JOIN child AS child_1 ON child_1.id = referral.child_id JOIN organisation AS
organisation_1 ON organisation_1.id = referral.referring_organisation_id JOIN organisation
AS organisation_2 ON organisation_2.id = referral.receiving_organisation_id JOIN
user_account AS user_account_1 ON user_account_1.id = referral.referring_user_id JOIN
organisation AS organisation_3 ON organisation_3.id = user_account_1.organisation_id LEFT
OUTER JOIN (user_account AS user_account_2 JOIN organisation AS organisation_4 ON
organisation_4.id = user_account_2.organisation_id) ON user_account_2.id =
referral.assignee_id
WHERE (referral.referring_organisation_id = %s::UUID OR referral.receiving_organisation_id
= %s::UUID AND referral.submitted_at IS NOT NULL OR referral.id = ANY (array((SELECT
share.referral_id
FROM share
WHERE share.organisation_id = %s::UUID AND share.revoked_at IS NULL AND share.expires_at >
%s::TIMESTAMP WITH TIME ZONE)))) AND referral.id = %s::UUID
"""

RECEIVING_ORGANISATION = """\
SELECT organisation.id, organisation.code, organisation.name, organisation.kind,
organisation.active, organisation.created_at
FROM organisation
WHERE organisation.id = %s::UUID
"""

INSERT_CHILD = """\
INSERT INTO child (id, first_name, last_name, date_of_birth, gender, address, postcode,
school, aliases, created_at, created_by_organisation_id, merged_into_id,
anonymised_at) VALUES (%s::UUID, %s::VARCHAR, %s::VARCHAR, %s::DATE, %s::VARCHAR,
%s::VARCHAR, %s::VARCHAR, %s::VARCHAR, %s::JSON, %s::TIMESTAMP WITH TIME ZONE, %s::UUID,
%s::UUID, %s::TIMESTAMP WITH TIME ZONE)
"""

NEXT_REFERENCE = """\
UPDATE reference_counter SET last_value=(reference_counter.last_value + %s::INTEGER) WHERE
reference_counter.year = %s::INTEGER RETURNING reference_counter.last_value
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

AUDIT_CHAIN_HEAD = """\
SELECT seq, hash FROM audit_chain_head(%s)
"""

INSERT_AUDIT_EVENT = """\
INSERT INTO audit_event (seq, occurred_at, request_id, actor_user_id,
actor_organisation_id, actor_role, action, record_type, record_id, record_ids, fields,
recipient_organisation_id, reason, outcome, client_ip, prev_hash, hash) VALUES (%s::BIGINT,
%s::TIMESTAMP WITH TIME ZONE, %s::VARCHAR, %s::UUID, %s::UUID, %s::VARCHAR, %s::VARCHAR,
%s::VARCHAR, %s::VARCHAR, %s::JSON, %s::JSON, %s::UUID, %s::VARCHAR, %s::VARCHAR,
%s::VARCHAR, %s::VARCHAR, %s::VARCHAR)
"""

# The list: direction=incoming, newest first; counted at most this far
# (services/paging.COUNT_WINDOW), as the product does.
COUNT_WINDOW = 1_000
PAGE_SIZE = 25
# --------------------------------- end of the product's statements ---------

CHAIN_LOCK_KEY = 0x41554454  # services/audit.CHAIN_LOCK_KEY
GENESIS_HASH = "0" * 64
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

_connection: psycopg.Connection[dict[str, Any]] | None = None


def connection() -> psycopg.Connection[dict[str, Any]]:
    """This worker's connection: opened on first use (after gunicorn forks)
    and again when the last one broke."""
    global _connection
    if _connection is None or _connection.closed or _connection.broken:
        _connection = psycopg.connect(DATABASE_URL, row_factory=dict_row, options="-c TimeZone=UTC")
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
    then the row-level-security setting for the user's organisation."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret or len(secret) > 200:
        raise Refused(401, "Sign in first.")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    rows = cur.execute(SESSION_LOOKUP, (digest,)).fetchall()
    first = rows[0] if rows else None
    if (
        first is None
        or first["kind"] != "api_token"
        or first["revoked_at"] is not None
        or first["expires_at"] <= datetime.now(UTC)
        or first["session_version"] != first["session_version_1"]
        or not (first["active_1"] and first["active"])
    ):
        raise Refused(401, "Sign in first.")
    roles = sorted(row["role"] for row in rows if row["role"])
    if not CASE_ROLES.intersection(roles):
        raise Refused(403, "Not allowed.")
    organisation_id = first["organisation_id"]
    cur.execute(SET_ORGANISATION, (str(organisation_id), "off"))
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


def _canonical(seq: int, event: dict[str, Any]) -> str:
    # models/audit.AuditEvent.canonical, serialised as services/audit.chain_hash does.
    plain = {
        **event,
        "seq": seq,
        "occurred_at": event["occurred_at"].isoformat(),
        "actor_user_id": str(event["actor_user_id"]) if event["actor_user_id"] else None,
        "actor_organisation_id": (
            str(event["actor_organisation_id"]) if event["actor_organisation_id"] else None
        ),
    }
    return json.dumps(plain, sort_keys=True, separators=(",", ":"))


def write_audit(cur: psycopg.Cursor[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """The product's audit write at 4df7865 (services/audit._seal_pending_events):
    the chain lock and the head in one statement, then each event with the
    next seq and its HMAC over the canonical row and the previous hash, all
    inserted in one executemany. The lock is held until COMMIT."""
    head = cur.execute(AUDIT_CHAIN_HEAD, (CHAIN_LOCK_KEY,)).fetchone()
    seq, prev_hash = (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)
    rows = []
    for event in events:
        seq += 1
        digest = hmac.new(
            AUDIT_KEY, (_canonical(seq, event) + prev_hash).encode(), hashlib.sha256
        ).hexdigest()
        rows.append(
            (
                seq,
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
                prev_hash,
                digest,
            )
        )
        prev_hash = digest
    cur.executemany(INSERT_AUDIT_EVENT, rows)


# --- the answers -------------------------------------------------------------


def referral_json(row: dict[str, Any]) -> dict[str, Any]:
    """ReferralSchema's shape from a row of LIST_PAGE or DETAIL (their aliases)."""
    return {
        "id": row["id"],
        "reference": row["reference"],
        "status": row["status"],
        "child": {
            "id": row["id_1"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "date_of_birth": row["date_of_birth"],
            "gender": row["gender"],
            "address": row["address"],
            "postcode": row["postcode"],
            "school": row["school"],
            "aliases": row["aliases"],
        },
        "referring_organisation": {"id": row["id_2"], "code": row["code"], "name": row["name"]},
        "referring_user": {"id": row["id_5"], "full_name": row["full_name"]},
        "receiving_organisation": {
            "id": row["id_3"],
            "code": row["code_1"],
            "name": row["name_1"],
        },
        "assignee": ({"id": row["id_7"], "full_name": row["full_name_1"]} if row["id_7"] else None),
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
    # flask-smorest's ETag of blueprints/api/referrals.etag_data.
    data = json.dumps({"id": str(referral_id), "version": version}, sort_keys=True)
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
    total = cur.execute(LIST_COUNT, (org, bound + 1)).fetchone()["count_1"]
    rows = cur.execute(LIST_PAGE, (org, page_size, start)).fetchall()
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
    row = cur.execute(DETAIL, (org, org, org, datetime.now(UTC), referral_id)).fetchone()
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
    receiving = cur.execute(RECEIVING_ORGANISATION, (receiving_id,)).fetchone()
    if receiving is None or not receiving["active"] or receiving_id == user["organisation_id"]:
        raise Refused(400, "Choose an active agency other than your own.")
    org = user["organisation_id"]
    now = datetime.now(UTC)
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
        "reference": next_reference(cur, now.year),
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
        "id_1": child_id,
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": date_of_birth,
        "gender": child.get("gender"),
        "address": child.get("address"),
        "postcode": child.get("postcode"),
        "school": child.get("school"),
        "aliases": aliases,
        "id_2": org,
        "code": user["organisation"]["code"],
        "name": user["organisation"]["name"],
        "id_5": user["id"],
        "full_name": user["full_name"],
        "id_3": receiving_id,
        "code_1": receiving["code"],
        "name_1": receiving["name"],
        "id_7": None,
        "full_name_1": None,
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
