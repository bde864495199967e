"""The access matrix: every route of the app, times every role, times every
relation of the caller's agency to the record, with the expected answer.
Zero unexpected allows.

The routes are read from the app's URL map: a route without an entry in
`MATRIX` fails `test_matrix_covers_every_route` (and so does an entry for a
route that is gone), so nobody adds a route without deciding who may call it.

Each entry says how to call the route (the body or form a holder would send,
which record ids go into the URL) and what every caller should get, in coarse
classes:

- `allow`: 2xx or 3xx, or a 409/412/422/428 that shows the request reached the
  business rules for an authorised caller;
- `hidden`: 404, the record does not exist for the caller (DESIGN section 4);
- `forbidden`: 403, the role lacks the permission (which reveals nothing about
  any record) or the caller's agency holds the record but may not do this;
- `login`: 401 from the API, a redirect to /login?next=... from a page.

Callers: the six roles, each in an agency with one relation to the record, and
an anonymous caller (a browser that did fetch a CSRF token, so its POSTs get as
far as the sign-in check). Relations to a referral (and its child): referring
agency, receiving agency, shared agency (live share), expired share, revoked
share, an unrelated agency, and the receiving agency of a *draft* (a draft is
held by the referring agency alone). Routes about a user: own organisation or
another. Routes about a notification: the caller's own, a colleague's, or a
user's of another agency. Everything else: the role alone.

Rules the expectations follow (DESIGN sections 3 and 4, referral_app.policy):
case roles (referrer, caseworker, manager) act on referrals their agency holds;
org admins, auditors and system admins see no case data (403 whatever the
record); a permitted role gets 404 for a record its agency does not hold
(expired and revoked shares grant nothing); managers alone share, revoke,
read the access log, export a child's records (subject access), correct and
merge them and read reports (403 for referrers and caseworkers); auditors
read the access log of a referral their agency holds. A further agency with a
share "sees the referral and shared notes only" (DESIGN section 4): it reads
and adds notes, and changes nothing else (403): not the referral, its shares,
its legal hold, nor the child's record.

Each route runs in its own test with its own agencies, users and referrals:
a referral submitted by the referring agency to the receiving agency, shared
by the receiving agency's manager with the shared agency (live), the expired
agency (expiry moved into the past in the database), the revoked agency
(revoked) and two bystander agencies (live: the shares the revoke routes
revoke), plus a draft from the referring to the receiving agency about
another child. Cells expected to be refused run first, so they meet the state
above; the allowed ones run last (an allowed action such as "accept" changes
the state). The app runs with TestingConfig (MFA not required: the MFA gate
has its own tests in tests/blueprints/web/test_totp.py).

A new route: add its entry with `public`, `by_role`, `about_users` or
`about_notifications` or `record`, a body builder if it takes one, and teach `World.placeholder` any
new `<converter:name>` in its rule. A failure lists the cells that differ,
the unexpected allows (access-control bugs) first; a known bug goes in
KNOWN_BUGS, cell by cell (its route's test leaves the cell out and
test_known_bug runs it as a strict xfail) until it is fixed.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from referral_app import document_storage
from referral_app.extensions import db
from referral_app.models import (
    DirectoryService,
    Notification,
    NotificationKind,
    OrganisationKind,
    Role,
    Share,
    User,
    utcnow,
)
from referral_app.models.sso import IdentityProvider
from referral_app.services import saved_searches
from tests.conftest import csrf_token
from tests.documents.samples import PDF_BYTES as DOCUMENT_PDF
from tests.factories import (
    PASSWORD,
    Factory,
    OrgInfo,
    UserInfo,
    bearer,
    commit_and_seal,
    token_for,
)
from tests.referral_helpers import SHARE_REASON, referral_body
from tests.screenings.conftest import answers as screening_answers

# --- outcomes ---------------------------------------------------------------

ALLOW = "allow"
HIDDEN = "hidden"
FORBIDDEN = "forbidden"
LOGIN = "login"

# Answers that show an authorised caller reached the business rules.
BUSINESS_REFUSALS = frozenset({409, 412, 422, 428})


def classify(response: TestResponse) -> str:
    status = response.status_code
    if status == 401:
        return LOGIN
    if 300 <= status < 400:
        target = urlsplit(response.location or "")
        if target.path == "/login" and "next=" in target.query:
            return LOGIN  # the guard sends a page to sign in
        return ALLOW
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if 200 <= status < 300 or status in BUSINESS_REFUSALS:
        return ALLOW
    return f"unexpected {status}"


# --- callers ----------------------------------------------------------------

REFERRER, CASEWORKER, MANAGER = "referrer", "caseworker", "manager"
ORG_ADMIN, AUDITOR, SYSTEM_ADMIN = "org_admin", "auditor", "system_admin"
ROLES = (REFERRER, CASEWORKER, MANAGER, ORG_ADMIN, AUDITOR, SYSTEM_ADMIN)
CASE_ROLES = (REFERRER, CASEWORKER, MANAGER)
ANONYMOUS = "anonymous"

# Relations to a referral or its child.
REFERRING = "referring agency"
RECEIVING = "receiving agency"
SHARED = "shared agency"
EXPIRED = "expired share"
REVOKED = "revoked share"
UNRELATED = "unrelated agency"
DRAFT_RECEIVING = "receiving agency of a draft"
RECORD_RELATIONS = (REFERRING, RECEIVING, SHARED, EXPIRED, REVOKED, UNRELATED, DRAFT_RECEIVING)
HOLDERS = (REFERRING, RECEIVING, SHARED)
SIDES = (REFERRING, RECEIVING)  # the agencies that decide who else sees a referral

# Relations to a user record.
OWN_ORG = "own organisation"
OTHER_ORG = "other organisation"
USER_RELATIONS = (OWN_ORG, OTHER_ORG)

# Relations to a notification: each user's own, nobody else's.
OWN_NOTIFICATION = "own notification"
COLLEAGUE_NOTIFICATION = "a colleague's notification"
ELSEWHERE_NOTIFICATION = "another agency's user's notification"
NOTIFICATION_RELATIONS = (OWN_NOTIFICATION, COLLEAGUE_NOTIFICATION, ELSEWHERE_NOTIFICATION)

# Routes about no record.
NO_RECORD = "-"

# Relations to a multi-agency meeting: convened by the receiving agency of the
# main referral, with the referring agency and an unrelated one invited, the
# main referral on its agenda. The shared agency holds that referral but was
# not invited: holding a referral on the agenda does not open the meeting.
CONVENER = "convening agency"
INVITED_HOLDER = "invited agency holding the agenda's referral"
INVITED_OTHER = "invited agency holding nothing on the agenda"
NOT_INVITED = "agency not invited (holding the referral through a share)"
MEETING_RELATIONS = (CONVENER, INVITED_HOLDER, INVITED_OTHER, NOT_INVITED)
TAKING_PART = (CONVENER, INVITED_HOLDER, INVITED_OTHER)
AGENDA_HOLDERS = (CONVENER, INVITED_HOLDER)

# The agency a caller with each relation belongs to. Record routes: the
# receiving agency of the draft is the receiving agency of the main referral
# (it holds that one, not the draft). Other routes: callers are in "home".
ORG_OF_RELATION = {
    REFERRING: "referring",
    RECEIVING: "receiving",
    SHARED: "shared",
    EXPIRED: "expired",
    REVOKED: "revoked",
    UNRELATED: "unrelated",
    DRAFT_RECEIVING: "receiving",
    OWN_ORG: "home",
    OTHER_ORG: "home",
    OWN_NOTIFICATION: "home",
    COLLEAGUE_NOTIFICATION: "home",
    ELSEWHERE_NOTIFICATION: "home",
    NO_RECORD: "home",
    CONVENER: "receiving",
    INVITED_HOLDER: "referring",
    INVITED_OTHER: "unrelated",
    NOT_INVITED: "shared",
}
# The organisation a user route is about.
TARGET_ORG = {OWN_ORG: "home", OTHER_ORG: "elsewhere"}
ORG_KINDS = {
    "referring": OrganisationKind.POLICE,
    "receiving": OrganisationKind.YOUTH_JUSTICE,
    "shared": OrganisationKind.CHARITY,
    "expired": OrganisationKind.EDUCATION,
    "revoked": OrganisationKind.HEALTH,
    "unrelated": OrganisationKind.COUNCIL,
}

# The users who set up a route's records.
REFERRING_REFERRER = (REFERRER, "referring")
REFERRING_MANAGER = (MANAGER, "referring")
RECEIVING_MANAGER = (MANAGER, "receiving")
MANAGED = "is managed"  # the users the user-admin routes are about
NOTIFIED = "is notified"  # users whose notifications others must not reach

_unique = itertools.count(1)


# --- the matrix -------------------------------------------------------------

Expected = dict[tuple[str, str], str]


@dataclass(frozen=True)
class Cell:
    """One request of the matrix: who calls, with which relation."""

    world: World
    role: str  # one of ROLES, or ANONYMOUS
    relation: str
    params: dict[str, str]
    n: int = field(default_factory=lambda: next(_unique))

    @property
    def user(self) -> UserInfo | None:
        if self.role == ANONYMOUS:
            return None
        return self.world.user(self.role, ORG_OF_RELATION[self.relation])

    def credentials(self) -> UserInfo:
        """The caller's own credentials; a known user's for the anonymous caller."""
        return self.user or self.world.user(REFERRER, "home", purpose="signs in")

    def org(self, name: str) -> OrgInfo:
        return self.world.org(name)


Builder = Callable[[Cell], dict[str, Any] | None]


@dataclass(frozen=True)
class Route:
    relations: tuple[str, ...]
    expected: Expected  # (role, relation) -> class, for every role and relation
    anonymous: str
    body: Builder | None = None  # JSON for the API, form fields for pages
    headers: Builder | None = None


def record(
    permitted: Iterable[str],
    allowed: Mapping[str, Iterable[str]],
    *,
    body: Builder | None = None,
    headers: Builder | None = None,
) -> Route:
    """A route about a referral or its child. Roles outside `permitted` lack
    the permission: 403 whatever the record. A permitted role gets 404 where
    its agency does not hold the record, `allow` in the holder relations
    `allowed` lists for it, and 403 in the other holder relations."""
    permitted = frozenset(permitted)
    expected: Expected = {}
    for role in ROLES:
        for relation in RECORD_RELATIONS:
            if role not in permitted:
                outcome = FORBIDDEN
            elif relation not in HOLDERS:
                outcome = HIDDEN
            elif relation in allowed.get(role, ()):
                outcome = ALLOW
            else:
                outcome = FORBIDDEN
            expected[role, relation] = outcome
    return Route(RECORD_RELATIONS, expected, LOGIN, body, headers)


def action_record(
    permitted: Iterable[str], allowed: Mapping[str, Iterable[str]], *, body: Builder | None = None
) -> Route:
    """A route about an action (on the main referral, owned by the receiving
    agency): as `record`, without the draft relation (a draft has no actions)."""
    route = record(permitted, allowed, body=body)
    relations = tuple(r for r in RECORD_RELATIONS if r != DRAFT_RECEIVING)
    expected = {cell: outcome for cell, outcome in route.expected.items() if cell[1] in relations}
    return Route(relations, expected, LOGIN, body)


def about_meeting(
    permitted: Iterable[str],
    allowed: Mapping[str, Iterable[str]],
    *,
    hidden: Iterable[str] = (NOT_INVITED,),
    body: Builder | None = None,
) -> Route:
    """A route about the meeting (or one of its agenda lines). Roles outside
    `permitted` lack the permission: 403. A permitted role gets 404 in the
    `hidden` relations (an agency not taking part; for a referral it does
    not hold, an agency taking part too), `allow` where `allowed` says, and
    403 in the other relations (taking part, but not allowed to do this)."""
    permitted, hidden = frozenset(permitted), frozenset(hidden)
    expected: Expected = {}
    for role in ROLES:
        for relation in MEETING_RELATIONS:
            if role not in permitted:
                outcome = FORBIDDEN
            elif relation in hidden:
                outcome = HIDDEN
            elif relation in allowed.get(role, ()):
                outcome = ALLOW
            else:
                outcome = FORBIDDEN
            expected[role, relation] = outcome
    return Route(MEETING_RELATIONS, expected, LOGIN, body)


def each(roles: Iterable[str], relations: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {role: tuple(relations) for role in roles}


def by_role(
    allowed_roles: Iterable[str],
    *,
    public: bool = False,
    body: Builder | None = None,
    headers: Builder | None = None,
) -> Route:
    """A route about no record: the roles listed may, the others get 403."""
    allowed_roles = frozenset(allowed_roles)
    expected = {(role, NO_RECORD): ALLOW if role in allowed_roles else FORBIDDEN for role in ROLES}
    return Route((NO_RECORD,), expected, ALLOW if public else LOGIN, body, headers)


def public(*, body: Builder | None = None) -> Route:
    """No sign-in needed: everyone, signed in or not, is answered."""
    return by_role(ROLES, public=True, body=body)


def about_users(other_org_for_org_admin: str, *, body: Builder | None = None) -> Route:
    """A route about a user (or creating one) in the caller's organisation or
    another: system admins manage every organisation's users, org admins
    their own; for another organisation's, an org admin gets
    `other_org_for_org_admin`. Other roles lack the permission."""
    expected: Expected = {}
    for role in ROLES:
        for relation in USER_RELATIONS:
            if role == SYSTEM_ADMIN or (role == ORG_ADMIN and relation == OWN_ORG):
                expected[role, relation] = ALLOW
            elif role == ORG_ADMIN:
                expected[role, relation] = other_org_for_org_admin
            else:
                expected[role, relation] = FORBIDDEN
    return Route(USER_RELATIONS, expected, LOGIN, body)


def about_notifications(*, body: Builder | None = None, roles: Iterable[str] = CASE_ROLES) -> Route:
    """One notification: its recipient may act on it (case roles have
    notifications, and auditors: told of shares without an agreement);
    anyone else's does not exist for them (404)."""
    expected: Expected = {}
    for role in ROLES:
        for relation in NOTIFICATION_RELATIONS:
            if role not in roles:
                expected[role, relation] = FORBIDDEN
            else:
                expected[role, relation] = ALLOW if relation == OWN_NOTIFICATION else HIDDEN
    return Route(NOTIFICATION_RELATIONS, expected, LOGIN, body)


def about_saved_searches() -> Route:
    """A stored search (its URL): its owner sees the results; anyone else's
    does not exist for them (404). Only case roles search. The relations are
    those of notifications: the caller's own, or someone else's."""
    return about_notifications()


# Bodies and forms a holder would send.


def referral_update(cell: Cell) -> dict[str, Any]:
    return {"reason": f"Seen again near the station ({cell.n})."}


def if_match(cell: Cell) -> dict[str, Any]:
    """The referral's current ETag, as a holder just read it (so a refusal
    is about who asks, never a stale tag)."""
    return {"If-Match": cell.world.etag(cell.params["referral_id"])}


def accept(cell: Cell) -> dict[str, Any]:
    return {"action": "accept"}


def note(cell: Cell) -> dict[str, Any]:
    return {"body": f"Met the child at school ({cell.n}).", "visibility": "shared"}


def share_target(cell: Cell) -> OrgInfo:
    """An agency that holds nothing yet: one per relation, so each allowed
    manager makes a share of their own (201, not a 409 for a duplicate)."""
    return cell.org(f"share target ({cell.relation})")


def share_api(cell: Cell) -> dict[str, Any]:
    return {
        "organisation_id": str(share_target(cell).id),
        "purpose": "Mentoring programme place",
        "lawful_basis": "public_task",
        "no_agreement_reason": SHARE_REASON,
        "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
    }


def share_form(cell: Cell) -> dict[str, Any]:
    return {
        "organisation_id": str(share_target(cell).id),
        "purpose": "Mentoring programme place",
        "lawful_basis": "public_task",
        "no_agreement_reason": SHARE_REASON,
        "expires_on": (date.today() + timedelta(days=30)).isoformat(),
    }


def new_referral_api(cell: Cell) -> dict[str, Any]:
    return referral_body(cell.org("elsewhere"))


def new_referral_form(cell: Cell) -> dict[str, Any]:
    return {
        "child-first_name": "Jayden",
        "child-last_name": "Miller",
        "child-dob-day": "14",
        "child-dob-month": "3",
        "child-dob-year": "2011",
        "child-postcode": "SS1 2AA",
        "receiving_organisation_id": str(cell.org("elsewhere").id),
        "reason": "Found with cash and two phones at Southend station.",
        "risk_level": "high",
        "risk_factors": "county_lines",
        "consent_status": "obtained_from_parent",
        "lawful_basis": "public_task",
        "intent": "submit",
    }


def child_match(cell: Cell) -> dict[str, Any]:
    return {"first_name": "Jayden", "last_name": "Miller", "date_of_birth": "2011-03-14"}


def rectify_api(cell: Cell) -> dict[str, Any]:
    return {"school": f"Southend High ({cell.n})"}


def rectify_form(cell: Cell) -> dict[str, Any]:
    """The whole details form, as the page sends it back."""
    return {
        "first_name": "Jayden",
        "last_name": "Miller",
        "dob-day": "14",
        "dob-month": "3",
        "dob-year": "2011",
        "postcode": "SS1 2AA",
        "school": f"Southend High ({cell.n})",
    }


def merge(cell: Cell) -> dict[str, Any]:
    return {"duplicate_id": cell.world.duplicate(cell.relation)}


def legal_hold(cell: Cell) -> dict[str, Any]:
    return {"legal_hold": True, "reason": "Evidence in a criminal case."}


def search(cell: Cell) -> dict[str, Any]:
    return {"q": "Jayden Miller"}


def new_organisation(cell: Cell) -> dict[str, Any]:
    return {"code": f"matrix-{cell.n}", "name": f"Matrix agency {cell.n}", "kind": "charity"}


def new_user(cell: Cell) -> dict[str, Any]:
    """An auditor (a role both kinds of administrator may grant) in the
    organisation the relation names."""
    return {
        "email": f"matrix-new-{cell.n}@example.org",
        "full_name": f"New user {cell.n}",
        "organisation_id": str(cell.org(TARGET_ORG[cell.relation]).id),
        "roles": ["auditor"],
        "password": PASSWORD,
    }


def new_user_form(cell: Cell) -> dict[str, Any]:
    return {**new_user(cell), "roles": "auditor"}


def rename_user(cell: Cell) -> dict[str, Any]:
    return {"full_name": f"Renamed {cell.n}"}


def rename_user_form(cell: Cell) -> dict[str, Any]:
    return {"full_name": f"Renamed {cell.n}", "active": "true"}


def sign_in_api(cell: Cell) -> dict[str, Any]:
    user = cell.credentials()
    return {"email": user.email, "password": user.password, "otp": None}


def sign_in_form(cell: Cell) -> dict[str, Any]:
    user = cell.credentials()
    return {"email": user.email, "password": user.password}


def enrol_totp(cell: Cell) -> dict[str, Any]:
    """The current password and a code for the secret the enrolment page shows
    this browser (as a person would scan it); anonymous callers send any code."""
    code = "000000"
    if cell.user is not None:
        with cell.world.browser(cell.user).get("/account/totp") as page:
            shown = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page.get_data(as_text=True))
        if shown:
            code = pyotp.TOTP(shown.group(1).replace(" ", "")).now()
    return {"current_password": PASSWORD, "otp": code}


def change_password(cell: Cell) -> dict[str, Any]:
    new = "a brand new passphrase for the matrix"
    return {"current_password": PASSWORD, "new_password": new, "confirm_password": new}


def new_action(cell: Cell) -> dict[str, Any]:
    return {"description": f"Visit the family ({cell.n})", "due_on": date.today().isoformat()}


def new_action_form(cell: Cell) -> dict[str, Any]:
    today = date.today()
    return {
        "description": f"Visit the family ({cell.n})",
        "due_on-day": str(today.day),
        "due_on-month": str(today.month),
        "due_on-year": str(today.year),
    }


def close_action(cell: Cell) -> dict[str, Any]:
    return {"status": "done", "note": f"Visited ({cell.n})."}


def significance(cell: Cell) -> dict[str, Any]:
    return {"significant": True}


def new_document(cell: Cell) -> dict[str, Any]:
    """A multipart upload (a file part): sent as a form, not JSON (World.call)."""
    return {
        "title": "Signed consent form",
        "kind": "consent_form",
        "file": (BytesIO(DOCUMENT_PDF), "consent.pdf"),
    }


def new_screening(cell: Cell) -> dict[str, Any]:
    return {"answers": screening_answers()}


def new_screening_form(cell: Cell) -> dict[str, Any]:
    return {f"answer-{name}": given["answer"] for name, given in screening_answers().items()}


def judgement(cell: Cell) -> dict[str, Any]:
    return {"judgement_level": "high", "judgement_reason": f"Seen at the station ({cell.n})."}


def consent_change(cell: Cell) -> dict[str, Any]:
    # Consent obtained: a withdrawal would flag the scenario's shares.
    return {
        "status": "obtained_from_child",
        "method": "in_person",
        "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(),
    }


def consent_decision(cell: Cell) -> dict[str, Any]:
    return {"decision": "revoke", "reason": f"The family said no ({cell.n})."}


def consent_change_form(cell: Cell) -> dict[str, Any]:
    today = date.today()
    return {
        "status": "obtained_from_child",
        "method": "in_person",
        "occurred_at-day": str(today.day),
        "occurred_at-month": str(today.month),
        "occurred_at-year": str(today.year),
    }


def significance_form(cell: Cell) -> dict[str, Any]:
    return {"significant": "true"}


def new_meeting(cell: Cell) -> dict[str, Any]:
    return {
        "title": f"MACE meeting {cell.n}",
        "held_at": (utcnow() + timedelta(days=7)).isoformat(),
        "online": True,
        "invited_organisation_ids": [str(cell.org("elsewhere").id)],
    }


def next_meeting(cell: Cell) -> dict[str, Any]:
    return {
        "title": f"MACE meeting {cell.n}",
        "held_at": (utcnow() + timedelta(days=7)).isoformat(),
        "online": True,
    }


def new_meeting_form(cell: Cell) -> dict[str, Any]:
    day = date.today() + timedelta(days=7)
    return {
        "title": f"MACE meeting {cell.n}",
        "held_on-day": str(day.day),
        "held_on-month": str(day.month),
        "held_on-year": str(day.year),
        "held_time": "10:00",
        "venue": "online",
        "invited_organisation_ids": str(cell.org("elsewhere").id),
    }


def invitation(cell: Cell) -> dict[str, Any]:
    return {"organisation_id": str(cell.org(f"invitee ({cell.relation})").id)}


def attendance_api(cell: Cell) -> dict[str, Any]:
    convener = cell.org(ORG_OF_RELATION[CONVENER])
    return {"attendance": [{"organisation_id": str(convener.id), "attendance": "attended"}]}


def attendance_form(cell: Cell) -> dict[str, Any]:
    taking_part = [cell.org(ORG_OF_RELATION[relation]) for relation in TAKING_PART]
    return {f"attendance-{org.id}": "attended" for org in taking_part}


def agenda_add(cell: Cell) -> dict[str, Any]:
    return {"referral_id": cell.world.scenario.referral_id}


def decision(cell: Cell) -> dict[str, Any]:
    return {"decision": "continue", "discussion": f"Still at risk ({cell.n})."}


def meeting_action(cell: Cell) -> dict[str, Any]:
    """An action for the caller's own agency (which, where allowed, holds the referral)."""
    own = cell.org(ORG_OF_RELATION[cell.relation])
    return {**new_action(cell), "owning_organisation_id": str(own.id)}


def meeting_action_form(cell: Cell) -> dict[str, Any]:
    own = cell.org(ORG_OF_RELATION[cell.relation])
    return {**new_action_form(cell), "owning_organisation_id": str(own.id)}


def new_agreement(cell: Cell) -> dict[str, Any]:
    return {
        "title": f"Prevention partnership ({cell.n})",
        "reference": f"ISA-{cell.n}",
        "purposes": "Early help for children at risk of exploitation.",
        "lawful_bases": ["public_task"],
        "data_categories": ["identity_and_contact"],
        "party_ids": [str(cell.org("home").id), str(cell.org("elsewhere").id)],
        "starts_on": date.today().isoformat(),
        "review_on": (date.today() + timedelta(days=365)).isoformat(),
    }


def agreement_change(cell: Cell) -> dict[str, Any]:
    return {"purposes": f"Early help and diversion ({cell.n})."}


def _agreement_form(cell: Cell, parties: tuple[str, str]) -> dict[str, Any]:
    today, review = date.today(), date.today() + timedelta(days=365)
    return {
        "title": f"Prevention partnership ({cell.n})",
        "reference": f"ISA-{cell.n}",
        "purposes": "Early help for children at risk of exploitation.",
        "party_ids": [str(cell.org(name).id) for name in parties],
        "lawful_bases": ["public_task"],
        "data_categories": ["identity_and_contact"],
        "starts_on-day": str(today.day),
        "starts_on-month": str(today.month),
        "starts_on-year": str(today.year),
        "review_on-day": str(review.day),
        "review_on-month": str(review.month),
        "review_on-year": str(review.year),
    }


def new_agreement_form(cell: Cell) -> dict[str, Any]:
    return _agreement_form(cell, ("home", "elsewhere"))


def agreement_change_form(cell: Cell) -> dict[str, Any]:
    return _agreement_form(cell, ("referring", "receiving"))


def new_system(cell: Cell) -> dict[str, Any]:
    return {"name": f"Records system {cell.n}", "permissions": ["referrals:read"]}


def new_system_form(cell: Cell) -> dict[str, Any]:
    return {"name": f"Records system {cell.n}", "permissions": "referrals:read"}


def change_system(cell: Cell) -> dict[str, Any]:
    return {"description": f"Changed {cell.n}"}


def change_system_form(cell: Cell) -> dict[str, Any]:
    return {"name": f"Records system {cell.n}", "permissions": "referrals:read"}


def system_token(cell: Cell) -> dict[str, Any]:
    """The client credentials of a system of "home" (a form, as RFC 6749 says)."""
    system = cell.world.system_account("home")
    return {
        "grant_type": "client_credentials",
        "client_id": system["client_id"],
        "client_secret": system["client_secret"],
    }


def new_subscription(cell: Cell) -> dict[str, Any]:
    """A webhook subscription to a loopback receiver (allowed in TestingConfig;
    nothing is sent when it is made)."""
    return {"url": f"http://127.0.0.1:9/hooks/{cell.n}", "description": f"Records {cell.n}"}


def change_subscription(cell: Cell) -> dict[str, Any]:
    return {"description": f"Changed {cell.n}"}


def about_subscriptions(*, body: Builder | None = None) -> Route:
    """An event subscription of the caller's organisation or another: org
    admins manage their own agency's (404 for another's); no other role may."""
    expected: Expected = {}
    for role in ROLES:
        for relation in USER_RELATIONS:
            if role == ORG_ADMIN:
                expected[role, relation] = ALLOW if relation == OWN_ORG else HIDDEN
            else:
                expected[role, relation] = FORBIDDEN
    return Route(USER_RELATIONS, expected, LOGIN, body)


def provider_change(cell: Cell) -> dict[str, Any]:
    return {"display_name": f"Agency accounts {cell.n}", "trust_provider_mfa": True}


def provider_form(cell: Cell) -> dict[str, Any]:
    return {
        "display_name": f"Agency accounts {cell.n}",
        "issuer": "https://login.example.org/tenant/v2.0",
        "client_id": "referrals",
        "client_secret": "a client secret of the provider",
        "user_claim": "sub",
        "mfa_values": "mfa otp",
        "password_sign_in": "true",
        "enabled": "true",
    }


def about_systems(*, body: Builder | None = None) -> Route:
    """A system account of the caller's organisation or another: org admins
    manage their own agency's (404 for another's); no other role may."""
    expected: Expected = {}
    for role in ROLES:
        for relation in USER_RELATIONS:
            if role == ORG_ADMIN:
                expected[role, relation] = ALLOW if relation == OWN_ORG else HIDDEN
            else:
                expected[role, relation] = FORBIDDEN
    return Route(USER_RELATIONS, expected, LOGIN, body)


def agreement_document(cell: Cell) -> dict[str, Any]:
    """The signed agreement: a multipart upload, as a referral's document."""
    return {"file": (BytesIO(DOCUMENT_PDF), "agreement.pdf")}


def stale_tag(cell: Cell) -> dict[str, Any]:
    """An If-Match the agreement never had: a party's manager reaches the
    check (412), anyone else the 404 first."""
    return {"If-Match": '"stale"'}


def about_agreement(
    permitted: Iterable[str], *, body: Builder | None = None, headers: Builder | None = None
) -> Route:
    """An agreement between the referring and the receiving agency: the
    roles `permitted` of a party agency may; of another agency, 404; roles
    without the permission, 403."""
    permitted = frozenset(permitted)
    expected: Expected = {}
    for role in ROLES:
        for relation in AGREEMENT_RELATIONS:
            if role not in permitted:
                expected[role, relation] = FORBIDDEN
            elif relation in (REFERRING, RECEIVING):
                expected[role, relation] = ALLOW
            else:
                expected[role, relation] = HIDDEN
    return Route(AGREEMENT_RELATIONS, expected, LOGIN, body, headers)


AGREEMENT_RELATIONS = (REFERRING, RECEIVING, SHARED, UNRELATED)
AGREEMENT_READERS = (*CASE_ROLES, AUDITOR)
NOTIFIED_ROLES = (*CASE_ROLES, AUDITOR)


def meeting_share(cell: Cell) -> dict[str, Any]:
    """With the invited agency that holds nothing."""
    return {"organisation_id": str(cell.org(ORG_OF_RELATION[INVITED_OTHER]).id)}


REFERRAL_API = "/api/v1/referrals"
REFERRAL = REFERRAL_API + "/<uuid:referral_id>"
PAGE = "/referrals/<uuid:referral_id>"
READ = record(CASE_ROLES, each(CASE_ROLES, HOLDERS))
ACCESS_LOG = record((MANAGER, AUDITOR), each((MANAGER, AUDITOR), HOLDERS))
NOTES_ADD = each(CASE_ROLES, HOLDERS)  # a shared agency may add notes too
# Accept: a manager of the receiving agency; anyone else holding it: 403.
ACCEPT = {MANAGER: (RECEIVING,)}
# Share and revoke: managers of the referring or receiving agency (a shared
# agency cannot pass a referral on).
SHARING = {MANAGER: SIDES}
CHILD_EXPORT = record((MANAGER,), {MANAGER: HOLDERS})
CHILD_MANAGE = {MANAGER: SIDES}

MEETING_API = "/api/v1/meetings/<uuid:meeting_id>"
MEETING_PAGE = "/meetings/<uuid:meeting_id>"
ITEM_API = MEETING_API + "/agenda/<uuid:item_id>"
ITEM_PAGE = MEETING_PAGE + "/agenda/<uuid:item_id>"
MEETING_READ = about_meeting(CASE_ROLES, each(CASE_ROLES, TAKING_PART))
CONVENING = {MANAGER: (CONVENER,)}
CONTRIBUTORS = (CASEWORKER, MANAGER)
AGENDA = each(CONTRIBUTORS, AGENDA_HOLDERS)

MATRIX: dict[tuple[str, str], Route] = {
    # -- public ---------------------------------------------------------------
    ("GET", "/healthz"): public(),
    ("GET", "/readyz"): public(),
    ("GET", "/api/v1/openapi.json"): public(),
    ("GET", "/api/docs"): public(),
    ("GET", "/api/docs/assets/<path:filename>"): public(),
    ("GET", "/login"): public(),
    ("POST", "/login"): public(body=sign_in_form),
    ("POST", "/api/v1/auth/tokens"): public(body=sign_in_api),
    ("POST", "/api/v1/oauth/token"): public(body=system_token),
    # Single sign-on: choosing the agency, going to its provider (an agency
    # without one, or a callback or security code without a sign-in started
    # in this browser, is sent back to the choice).
    ("GET", "/sign-in/sso"): public(),
    ("GET", "/sign-in/sso/<code>"): public(),
    ("GET", "/sign-in/sso/callback"): public(),
    ("GET", "/sign-in/sso/security-code"): public(),
    ("POST", "/sign-in/sso/security-code"): public(body=lambda cell: {"otp": "123456"}),
    # -- the caller's own account -------------------------------------------
    ("GET", "/api/v1/me"): by_role(ROLES),
    ("DELETE", "/api/v1/auth/tokens/current"): by_role(ROLES),
    ("POST", "/logout"): by_role(ROLES),
    ("GET", "/"): by_role(ROLES),
    ("GET", "/account"): by_role(ROLES),
    ("POST", "/account"): by_role(ROLES, body=change_password),
    ("GET", "/account/totp"): by_role(ROLES),
    ("POST", "/account/totp"): by_role(ROLES, body=enrol_totp),
    # -- the agency directory -----------------------------------------------
    ("GET", "/api/v1/organisations"): by_role(ROLES),
    ("POST", "/api/v1/organisations"): by_role((SYSTEM_ADMIN,), body=new_organisation),
    ("GET", "/admin/organisations"): by_role((SYSTEM_ADMIN,)),
    ("POST", "/admin/organisations"): by_role((SYSTEM_ADMIN,), body=new_organisation),
    # -- user administration -------------------------------------------------
    ("GET", "/api/v1/users"): by_role((ORG_ADMIN, SYSTEM_ADMIN)),
    ("GET", "/admin/users"): by_role((ORG_ADMIN, SYSTEM_ADMIN)),
    ("GET", "/admin/users/new"): by_role((ORG_ADMIN, SYSTEM_ADMIN)),
    ("GET", "/admin/users/<uuid:user_id>"): about_users(HIDDEN),
    ("GET", "/admin/organisations/new"): by_role((SYSTEM_ADMIN,)),
    # An agency's identity provider: its org admins, or a system admin for any.
    ("GET", "/admin/organisations/<uuid:organisation_id>/identity-provider"): about_users(HIDDEN),
    ("POST", "/admin/organisations/<uuid:organisation_id>/identity-provider"): about_users(
        HIDDEN, body=provider_form
    ),
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/identity-provider"): about_users(HIDDEN),
    ("PUT", "/api/v1/organisations/<uuid:organisation_id>/identity-provider"): about_users(
        HIDDEN, body=provider_change
    ),
    ("DELETE", "/api/v1/organisations/<uuid:organisation_id>/identity-provider"): about_users(
        HIDDEN
    ),
    ("POST", "/account/sign-out-everywhere"): by_role(ROLES),
    # Creating a user in another organisation: the org admin is refused (the
    # directory of organisations is public, so 403 reveals nothing).
    ("POST", "/api/v1/users"): about_users(FORBIDDEN, body=new_user),
    ("POST", "/admin/users"): about_users(FORBIDDEN, body=new_user_form),
    # Another organisation's user does not exist for an org admin.
    ("GET", "/api/v1/users/<uuid:user_id>"): about_users(HIDDEN),
    ("PATCH", "/api/v1/users/<uuid:user_id>"): about_users(HIDDEN, body=rename_user),
    ("POST", "/admin/users/<uuid:user_id>"): about_users(HIDDEN, body=rename_user_form),
    ("POST", "/admin/users/<uuid:user_id>/reset-totp"): about_users(HIDDEN),
    ("POST", "/admin/users/<uuid:user_id>/sign-out"): about_users(HIDDEN),
    ("POST", "/admin/users/<uuid:user_id>/enrolment-code"): about_users(HIDDEN),
    ("POST", "/api/v1/users/<uuid:user_id>/enrolment-code"): about_users(HIDDEN),
    # -- system accounts (org admins, their own agency's) ---------------------
    ("GET", "/api/v1/system-accounts"): by_role((ORG_ADMIN,)),
    ("POST", "/api/v1/system-accounts"): by_role((ORG_ADMIN,), body=new_system),
    ("GET", "/api/v1/system-accounts/<uuid:system_id>"): about_systems(),
    ("PATCH", "/api/v1/system-accounts/<uuid:system_id>"): about_systems(body=change_system),
    ("POST", "/api/v1/system-accounts/<uuid:system_id>/secrets"): about_systems(),
    # Its only live secret: 409 (rotate first), past the access checks.
    ("DELETE", "/api/v1/system-accounts/<uuid:system_id>/secrets/<uuid:secret_id>"): (
        about_systems()
    ),
    ("POST", "/api/v1/system-accounts/<uuid:system_id>/revoke"): about_systems(),
    ("GET", "/admin/systems"): by_role((ORG_ADMIN,)),
    ("GET", "/admin/systems/new"): by_role((ORG_ADMIN,)),
    ("POST", "/admin/systems"): by_role((ORG_ADMIN,), body=new_system_form),
    ("GET", "/admin/systems/<uuid:system_id>"): about_systems(),
    ("POST", "/admin/systems/<uuid:system_id>"): about_systems(body=change_system_form),
    ("POST", "/admin/systems/<uuid:system_id>/secrets"): about_systems(),
    ("POST", "/admin/systems/<uuid:system_id>/secrets/<uuid:secret_id>/retire"): about_systems(),
    ("POST", "/admin/systems/<uuid:system_id>/revoke"): about_systems(),
    # -- events: the pull feed (case roles: ids of what their agency holds,
    # scoped as any read) and webhook subscriptions (org admins, their own) --
    ("GET", "/api/v1/events"): by_role(CASE_ROLES),
    ("GET", "/api/v1/event-subscriptions"): by_role((ORG_ADMIN,)),
    ("POST", "/api/v1/event-subscriptions"): by_role((ORG_ADMIN,), body=new_subscription),
    ("GET", "/api/v1/event-subscriptions/<uuid:subscription_id>"): about_subscriptions(),
    ("PATCH", "/api/v1/event-subscriptions/<uuid:subscription_id>"): about_subscriptions(
        body=change_subscription
    ),
    ("DELETE", "/api/v1/event-subscriptions/<uuid:subscription_id>"): about_subscriptions(),
    ("POST", "/api/v1/event-subscriptions/<uuid:subscription_id>/secret"): about_subscriptions(),
    ("POST", "/api/v1/event-subscriptions/<uuid:subscription_id>/enable"): about_subscriptions(),
    ("GET", "/api/v1/event-subscriptions/<uuid:subscription_id>/deliveries"): (
        about_subscriptions()
    ),
    ("GET", "/admin/events"): by_role((ORG_ADMIN,)),
    ("GET", "/admin/events/new"): by_role((ORG_ADMIN,)),
    ("POST", "/admin/events/new"): by_role((ORG_ADMIN,), body=new_subscription),
    ("GET", "/admin/events/<uuid:subscription_id>"): about_subscriptions(),
    ("POST", "/admin/events/<uuid:subscription_id>/secret"): about_subscriptions(),
    ("POST", "/admin/events/<uuid:subscription_id>/enable"): about_subscriptions(),
    ("POST", "/admin/events/<uuid:subscription_id>/delete"): about_subscriptions(),
    # -- the audit trail -----------------------------------------------------
    ("GET", "/api/v1/audit-events"): by_role((AUDITOR, SYSTEM_ADMIN)),
    ("GET", "/api/v1/audit-events/verify"): by_role((AUDITOR, SYSTEM_ADMIN)),
    ("GET", "/audit"): by_role((AUDITOR, SYSTEM_ADMIN)),
    ("POST", "/audit/verify"): by_role((AUDITOR, SYSTEM_ADMIN)),
    # -- referral lists and creation (case roles only) -----------------------
    ("GET", "/api/v1/referrals"): by_role(CASE_ROLES),
    ("POST", "/api/v1/referrals"): by_role(CASE_ROLES, body=new_referral_api),
    ("GET", "/referrals"): by_role(CASE_ROLES),
    # Searches by name are POSTed (names stay out of URLs).
    ("POST", "/api/v1/referrals/search"): by_role(CASE_ROLES, body=search),
    ("POST", "/referrals"): by_role(CASE_ROLES, body=search),
    ("GET", "/referrals/search"): by_role(CASE_ROLES),
    ("POST", "/referrals/search"): by_role(CASE_ROLES, body=search),
    ("GET", "/referrals/search/<uuid:search_id>"): about_saved_searches(),
    ("GET", "/referrals/new"): by_role(CASE_ROLES),
    ("POST", "/referrals/new"): by_role(CASE_ROLES, body=new_referral_form),
    # -- reports: the caller's agency's referrals (managers) -----------------
    ("GET", "/api/v1/reports/summary"): by_role((MANAGER,)),
    ("GET", "/api/v1/reports/referrals.csv"): by_role((MANAGER,)),
    ("GET", "/reports"): by_role((MANAGER,)),
    ("POST", "/reports/referrals.csv"): by_role((MANAGER,)),
    # -- finding a child among those the agency can see (case roles) ---------
    ("POST", "/api/v1/children/matches"): by_role(CASE_ROLES, body=child_match),
    # -- notifications: the caller's own (case roles) ------------------------
    ("GET", "/api/v1/notifications"): by_role(NOTIFIED_ROLES),
    ("POST", "/api/v1/notifications/read-all"): by_role(NOTIFIED_ROLES),
    ("POST", "/api/v1/notifications/<uuid:notification_id>/read"): about_notifications(
        roles=NOTIFIED_ROLES
    ),
    ("GET", "/notifications"): by_role(NOTIFIED_ROLES),
    ("POST", "/notifications/read-all"): by_role(NOTIFIED_ROLES),
    ("POST", "/notifications/<uuid:notification_id>/read"): about_notifications(
        roles=NOTIFIED_ROLES
    ),
    # -- one referral, through the API ---------------------------------------
    ("GET", REFERRAL): READ,
    # A submitted referral: the referring agency may still edit its fields;
    # the receiving agency edits nothing until it accepts; a shared one never.
    ("PATCH", REFERRAL): record(
        CASE_ROLES, each(CASE_ROLES, (REFERRING,)), body=referral_update, headers=if_match
    ),
    ("POST", REFERRAL + "/transitions"): record(CASE_ROLES, ACCEPT, body=accept),
    ("GET", REFERRAL + "/history"): READ,
    ("GET", REFERRAL + "/notes"): READ,
    ("POST", REFERRAL + "/notes"): record(CASE_ROLES, NOTES_ADD, body=note),
    ("GET", REFERRAL + "/access-log"): ACCESS_LOG,
    # Listing shares is reading the referral (a shared agency sees its own share).
    ("GET", REFERRAL + "/shares"): READ,
    ("POST", REFERRAL + "/shares"): record((MANAGER,), SHARING, body=share_api),
    ("DELETE", REFERRAL + "/shares/<uuid:share_id>"): record((MANAGER,), SHARING),
    # Legal hold (retention skips it): managers of the referring or receiving agency.
    ("POST", REFERRAL + "/legal-hold"): record((MANAGER,), SHARING, body=legal_hold),
    # -- the referral's child (the draft's child for the draft relation) -----
    ("GET", "/api/v1/children/<uuid:child_id>"): READ,
    ("GET", "/children/<uuid:child_id>"): READ,
    # Subject access: a manager exports what their agency holds (a shared
    # agency, its share of it).
    ("GET", "/api/v1/children/<uuid:child_id>/export"): CHILD_EXPORT,
    ("POST", "/children/<uuid:child_id>/export"): CHILD_EXPORT,
    # Correcting and merging a child's records: managers of the referring or
    # receiving agency. A further agency with a share "sees the referral and
    # shared notes only" (DESIGN section 4): it changes nothing about the
    # child, as it changes nothing about the referral (PATCH, shares, hold).
    ("PATCH", "/api/v1/children/<uuid:child_id>"): record(
        (MANAGER,), CHILD_MANAGE, body=rectify_api
    ),
    ("POST", "/children/<uuid:child_id>/rectify"): record(
        (MANAGER,), CHILD_MANAGE, body=rectify_form
    ),
    # Each caller merges a duplicate record its agency can see (submitted by
    # the referring to the receiving agency and shared with the shared one).
    ("POST", "/api/v1/children/<uuid:child_id>/merge"): record(
        (MANAGER,), CHILD_MANAGE, body=merge
    ),
    ("POST", "/children/<uuid:child_id>/merge"): record((MANAGER,), CHILD_MANAGE, body=merge),
    ("GET", "/children/<uuid:child_id>/merge"): record((MANAGER,), CHILD_MANAGE),
    ("GET", "/children/<uuid:child_id>/merges/<uuid:merge_id>/undo"): record(
        (MANAGER,), CHILD_MANAGE
    ),
    # Each caller undoes a merge of such a duplicate into the main child (for
    # the draft relation: a merge of a second draft's child into the draft's).
    ("POST", "/api/v1/children/merges/<uuid:merge_id>/undo"): record((MANAGER,), CHILD_MANAGE),
    ("POST", "/children/<uuid:child_id>/merges/<uuid:merge_id>/undo"): record(
        (MANAGER,), CHILD_MANAGE
    ),
    # -- one referral, through the pages -------------------------------------
    ("GET", PAGE): READ,
    ("GET", PAGE + "/access-log"): ACCESS_LOG,
    ("POST", PAGE + "/notes"): record(CASE_ROLES, NOTES_ADD, body=note),
    ("GET", PAGE + "/edit"): record(CASE_ROLES, each(CASE_ROLES, (REFERRING,))),
    ("POST", PAGE + "/edit"): record(
        CASE_ROLES, each(CASE_ROLES, (REFERRING,)), body=referral_update
    ),
    ("POST", PAGE + "/submit"): record(CASE_ROLES, each(CASE_ROLES, (REFERRING,))),
    ("GET", PAGE + "/confirm/<action>"): record(CASE_ROLES, ACCEPT),
    ("GET", PAGE + "/shares/<uuid:share_id>/revoke"): record((MANAGER,), SHARING),
    ("GET", PAGE + "/print"): READ,
    ("POST", PAGE + "/transitions"): record(CASE_ROLES, ACCEPT, body=accept),
    ("POST", PAGE + "/shares"): record((MANAGER,), SHARING, body=share_form),
    ("POST", PAGE + "/shares/<uuid:share_id>/revoke"): record((MANAGER,), SHARING),
    # -- notes marked significant: any holder that may read the note --------
    ("POST", REFERRAL + "/notes/<uuid:note_id>/significance"): record(
        CASE_ROLES, NOTES_ADD, body=significance
    ),
    ("POST", PAGE + "/notes/<uuid:note_id>/significance"): record(
        CASE_ROLES, NOTES_ADD, body=significance_form
    ),
    # -- actions: seen by the referral's holders; made by any holder for its
    # own agency; closed by the owning agency (the receiving one here) ------
    ("GET", REFERRAL + "/actions"): READ,
    ("POST", REFERRAL + "/actions"): record(CASE_ROLES, NOTES_ADD, body=new_action),
    ("POST", PAGE + "/actions"): record(CASE_ROLES, NOTES_ADD, body=new_action_form),
    ("GET", "/api/v1/actions"): by_role(CASE_ROLES),
    ("GET", "/actions"): by_role(CASE_ROLES),
    ("GET", "/api/v1/actions/<uuid:action_id>"): action_record(CASE_ROLES, NOTES_ADD),
    ("GET", "/actions/<uuid:action_id>"): action_record(CASE_ROLES, NOTES_ADD),
    ("POST", "/api/v1/actions/<uuid:action_id>/close"): action_record(
        CASE_ROLES, each(CASE_ROLES, (RECEIVING,)), body=close_action
    ),
    ("POST", "/actions/<uuid:action_id>/close"): action_record(
        CASE_ROLES, each(CASE_ROLES, (RECEIVING,)), body=close_action
    ),
    # -- the child's chronology: the events of the referrals the agency holds
    ("GET", "/api/v1/children/<uuid:child_id>/chronology"): READ,
    ("GET", "/children/<uuid:child_id>/chronology"): READ,
    ("GET", "/children/<uuid:child_id>/chronology/print"): READ,
    ("POST", "/children/<uuid:child_id>/chronology.csv"): READ,
    # -- consent as a history: read by every holder, recorded by the referring
    # and receiving agencies; the decision on a share after a withdrawal by a
    # manager of the agency that granted it (the receiving one here; with no
    # decision pending, 409) -------------------------------------------------
    ("GET", REFERRAL + "/consent"): READ,
    ("POST", REFERRAL + "/consent"): record(
        CASE_ROLES, each(CASE_ROLES, SIDES), body=consent_change
    ),
    ("POST", REFERRAL + "/shares/<uuid:share_id>/consent-decision"): record(
        (MANAGER,), {MANAGER: (RECEIVING,)}, body=consent_decision
    ),
    ("GET", PAGE + "/consent"): READ,
    ("POST", PAGE + "/consent"): record(
        CASE_ROLES, each(CASE_ROLES, SIDES), body=consent_change_form
    ),
    ("GET", PAGE + "/shares/<uuid:share_id>/consent-decision"): record(
        (MANAGER,), {MANAGER: (RECEIVING,)}
    ),
    ("POST", PAGE + "/shares/<uuid:share_id>/consent-decision"): record(
        (MANAGER,), {MANAGER: (RECEIVING,)}, body=consent_decision
    ),
    # -- multi-agency meetings -----------------------------------------------
    ("GET", "/api/v1/meetings"): by_role(CASE_ROLES),
    ("GET", "/meetings"): by_role(CASE_ROLES),
    ("POST", "/api/v1/meetings"): by_role((MANAGER,), body=new_meeting),
    ("GET", "/meetings/new"): by_role((MANAGER,)),
    ("POST", "/meetings/new"): by_role((MANAGER,), body=new_meeting_form),
    # Every agency taking part reads the meeting (the lines it does not hold
    # as "held by other agencies"); an agency not taking part: 404.
    ("GET", MEETING_API): MEETING_READ,
    ("GET", MEETING_PAGE): MEETING_READ,
    ("GET", MEETING_PAGE + "/minutes"): MEETING_READ,
    # The convening agency's managers invite, record attendance, convene the next.
    ("POST", MEETING_API + "/invitations"): about_meeting((MANAGER,), CONVENING, body=invitation),
    ("PUT", MEETING_API + "/attendance"): about_meeting((MANAGER,), CONVENING, body=attendance_api),
    ("POST", MEETING_PAGE + "/attendance"): about_meeting(
        (MANAGER,), CONVENING, body=attendance_form
    ),
    ("POST", MEETING_API + "/next"): about_meeting((MANAGER,), CONVENING, body=next_meeting),
    # Putting a referral on the agenda: an agency taking part that holds it
    # (for one that does not, the referral does not exist: 404).
    ("POST", MEETING_API + "/agenda"): about_meeting(
        CONTRIBUTORS, AGENDA, hidden=(NOT_INVITED, INVITED_OTHER), body=agenda_add
    ),
    ("POST", MEETING_PAGE + "/agenda"): about_meeting(
        CONTRIBUTORS, AGENDA, hidden=(NOT_INVITED, INVITED_OTHER), body=agenda_add
    ),
    # A line's decision and actions: an agency taking part that holds its
    # referral; one taking part that does not sees the line exists: 403.
    ("POST", ITEM_API + "/decision"): about_meeting(CONTRIBUTORS, AGENDA, body=decision),
    ("POST", ITEM_PAGE + "/decision"): about_meeting(CONTRIBUTORS, AGENDA, body=decision),
    ("POST", ITEM_API + "/actions"): about_meeting(CONTRIBUTORS, AGENDA, body=meeting_action),
    ("POST", ITEM_PAGE + "/actions"): about_meeting(CONTRIBUTORS, AGENDA, body=meeting_action_form),
    # Sharing a line's referral for the meeting: managers of its referring or
    # receiving agency (here, both hold it on the agenda).
    ("POST", ITEM_API + "/shares"): about_meeting(
        (MANAGER,), {MANAGER: AGENDA_HOLDERS}, body=meeting_share
    ),
    ("POST", ITEM_PAGE + "/shares"): about_meeting(
        (MANAGER,), {MANAGER: AGENDA_HOLDERS}, body=meeting_share
    ),
    # -- exploitation screenings: the tool is read by case roles; a referral's
    # screenings are read and completed by its holders (not on a draft);
    # judged by the receiving agency's managers or the person who completed
    # one (here the referring agency's referrer who set it up, nobody's cell)
    ("GET", "/api/v1/screening-tools/current"): by_role(CASE_ROLES),
    ("GET", "/api/v1/screening-tools/<version>"): by_role(CASE_ROLES),
    ("GET", REFERRAL + "/screenings"): READ,
    ("POST", REFERRAL + "/screenings"): record(CASE_ROLES, NOTES_ADD, body=new_screening),
    ("GET", REFERRAL + "/screenings/<uuid:screening_id>"): READ,
    ("POST", REFERRAL + "/screenings/<uuid:screening_id>/judgement"): record(
        CASE_ROLES, ACCEPT, body=judgement
    ),
    ("GET", PAGE + "/screenings"): READ,
    ("GET", PAGE + "/screenings/new"): record(CASE_ROLES, NOTES_ADD),
    ("POST", PAGE + "/screenings/new"): record(CASE_ROLES, NOTES_ADD, body=new_screening_form),
    ("GET", PAGE + "/screenings/<uuid:screening_id>"): READ,
    ("POST", PAGE + "/screenings/<uuid:screening_id>/judgement"): record(
        CASE_ROLES, ACCEPT, body=judgement
    ),
    # -- documents: read and uploaded by the referral's holders (like notes);
    # the document is a shared one of the main referral.
    ("GET", REFERRAL + "/documents"): READ,
    ("POST", REFERRAL + "/documents"): record(CASE_ROLES, NOTES_ADD, body=new_document),
    ("GET", REFERRAL + "/documents/<uuid:document_id>"): READ,
    ("GET", REFERRAL + "/documents/<uuid:document_id>/content"): READ,
    ("GET", PAGE + "/documents"): READ,
    ("GET", PAGE + "/documents/new"): record(CASE_ROLES, NOTES_ADD),
    ("POST", PAGE + "/documents/new"): record(CASE_ROLES, NOTES_ADD, body=new_document),
    ("GET", PAGE + "/documents/<uuid:document_id>/download"): READ,
    # -- the referral as a FHIR R4 Bundle: read by its holders, like the referral.
    ("GET", REFERRAL + "/fhir"): READ,
    # -- information sharing agreements: one between the referring and the
    # receiving agency; read by a party's case roles and auditors, changed by
    # its managers; any other agency gets 404. The report: managers, auditors.
    ("GET", "/api/v1/agreements"): by_role(AGREEMENT_READERS),
    ("POST", "/api/v1/agreements"): by_role((MANAGER,), body=new_agreement),
    ("GET", "/api/v1/agreements/<uuid:agreement_id>"): about_agreement(AGREEMENT_READERS),
    ("PATCH", "/api/v1/agreements/<uuid:agreement_id>"): about_agreement(
        (MANAGER,), body=agreement_change, headers=stale_tag
    ),
    ("GET", "/api/v1/reports/agreements"): by_role((MANAGER, AUDITOR)),
    # -- the service directory: services, not case data; any case role finds them
    ("GET", "/api/v1/directory/services"): by_role(CASE_ROLES),
    ("GET", "/api/v1/directory/services/<uuid:service_id>"): by_role(CASE_ROLES),
    ("GET", "/directory"): by_role(CASE_ROLES),
    ("GET", "/agreements"): by_role(AGREEMENT_READERS),
    ("GET", "/agreements/new"): by_role((MANAGER,)),
    ("POST", "/agreements/new"): by_role((MANAGER,), body=new_agreement_form),
    ("GET", "/agreements/<uuid:agreement_id>"): about_agreement(AGREEMENT_READERS),
    ("GET", "/agreements/<uuid:agreement_id>/edit"): about_agreement((MANAGER,)),
    ("POST", "/agreements/<uuid:agreement_id>/edit"): about_agreement(
        (MANAGER,), body=agreement_change_form
    ),
    ("GET", "/reports/agreements"): by_role((MANAGER, AUDITOR)),
    ("POST", "/reports/agreements.csv"): by_role((MANAGER, AUDITOR)),
    ("GET", "/api/v1/agreements/<uuid:agreement_id>/document"): about_agreement(AGREEMENT_READERS),
    ("POST", "/api/v1/agreements/<uuid:agreement_id>/document"): about_agreement(
        (MANAGER,), body=agreement_document
    ),
    ("GET", "/agreements/<uuid:agreement_id>/document"): about_agreement(AGREEMENT_READERS),
    ("POST", "/agreements/<uuid:agreement_id>/document"): about_agreement(
        (MANAGER,), body=agreement_document
    ),
}

# Cells that give an unexpected answer today, each an access-control bug:
# (method, rule, role, relation) -> what is wrong. Its route's test leaves the
# cell out (so every other cell of the route still guards), and
# test_known_bug runs it alone as xfail(strict=True): once the app is fixed
# the cell passes, the strict xfail fails, and the entry must go.
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {}


# --- the world a route's cells run in ----------------------------------------


@dataclass(frozen=True)
class Scenario:
    referral_id: str
    child_id: str
    draft_id: str
    draft_child_id: str
    # Live shares with bystander agencies (no users): the one the revoke
    # routes revoke, one for each side that may, so both get a 200.
    revocable_share_ids: dict[str, str]


class World:
    """Agencies, users, signed-in clients and referrals, made on first use."""

    def __init__(self, app: Flask, factory: Factory) -> None:
        self.app = app
        self.factory = factory
        self.api = app.test_client(use_cookies=False)
        self._orgs: dict[str, OrgInfo] = {}
        self._users: dict[tuple[str, str, str], UserInfo] = {}
        self._tokens: dict[UserInfo, dict[str, str]] = {}
        self._browsers: dict[UserInfo | None, FlaskClient] = {}
        self._csrf: dict[UserInfo | None, str] = {}
        self._notifications: dict[UserInfo, str] = {}

    def org(self, name: str) -> OrgInfo:
        if name not in self._orgs:
            kind = ORG_KINDS.get(name, OrganisationKind.OTHER)
            self._orgs[name] = self.factory.organisation(kind)
        return self._orgs[name]

    def user(self, role: str, org_name: str, purpose: str = "") -> UserInfo:
        key = (role, org_name, purpose)
        if key not in self._users:
            self._users[key] = self.factory.user(
                Role(role),
                organisation=self.org(org_name),
                # The users the admin routes manage have an authenticator to reset.
                totp_secret=pyotp.random_base32() if purpose == MANAGED else None,
            )
        return self._users[key]

    def api_headers(self, user: UserInfo | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self._tokens:
            self._tokens[user] = bearer(token_for(self.api, user))
        return dict(self._tokens[user])

    def browser(self, user: UserInfo | None) -> FlaskClient:
        """A browser signed in as `user` through the login form (None: not signed in)."""
        if user not in self._browsers:
            client = self.app.test_client()
            if user is not None:
                response = client.post(
                    "/login",
                    data={
                        "csrf_token": csrf_token(client),
                        "email": user.email,
                        "password": user.password,
                    },
                )
                assert response.status_code == 302, f"sign-in failed: {response.status_code}"
            self._browsers[user] = client
        return self._browsers[user]

    def csrf(self, user: UserInfo | None) -> str:
        """A CSRF token for the browser's session, read from a form it can open."""
        if user not in self._csrf:
            self._csrf[user] = csrf_token(self.browser(user), "/account" if user else "/login")
        return self._csrf[user]

    def _api(self, user: UserInfo, method: str, path: str, body: Any = None) -> TestResponse:
        return self.api.open(path, method=method, json=body, headers=self.api_headers(user))

    # Setting up goes through the API, as the referring agency's referrer and
    # manager and the receiving agency's manager (users of their own).
    def _created(self, who: tuple[str, str], method: str, path: str, body: Any = None) -> Any:
        user = self.user(*who, purpose="sets up")
        response = self._api(user, method, path, body)
        assert response.status_code in (200, 201), (method, path, response.json)
        return response.json

    def _refer(self, child: dict[str, str] | None = None, *, submit: bool = True) -> Any:
        """A referral from the referring to the receiving agency."""
        body = referral_body(self.org("receiving"), **({"child": child} if child else {}))
        referral = self._created(REFERRING_REFERRER, "POST", REFERRAL_API, body)
        if submit:
            path = f"{REFERRAL_API}/{referral['id']}/transitions"
            self._created(REFERRING_REFERRER, "POST", path, {"action": "submit"})
        return referral

    def _share(self, referral_id: str, org_name: str) -> str:
        grant = {
            "organisation_id": str(self.org(org_name).id),
            "purpose": "Diversion programme",
            "lawful_basis": "public_task",
            "no_agreement_reason": SHARE_REASON,
            "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        }
        path = f"{REFERRAL_API}/{referral_id}/shares"
        return str(self._created(RECEIVING_MANAGER, "POST", path, grant)["id"])

    @cached_property
    def scenario(self) -> Scenario:
        main = self._refer()
        rid = main["id"]
        shares = {
            name: self._share(rid, name)
            for name in ("shared", "expired", "revoked", "bystander 1", "bystander 2")
        }
        revoke = f"{REFERRAL_API}/{rid}/shares/{shares['revoked']}"
        self._created(RECEIVING_MANAGER, "DELETE", revoke)
        with self.app.app_context():
            expired = db.session.get(Share, uuid.UUID(shares["expired"]))
            assert expired is not None
            expired.expires_at = utcnow() - timedelta(minutes=1)
            db.session.commit()
        draft_child = {"first_name": "Kai", "last_name": "Turner", "date_of_birth": "2010-07-02"}
        draft = self._refer(draft_child, submit=False)
        assert draft["status"] == "draft"
        return Scenario(
            referral_id=rid,
            child_id=main["child"]["id"],
            draft_id=draft["id"],
            draft_child_id=draft["child"]["id"],
            revocable_share_ids={
                REFERRING: shares["bystander 1"],
                RECEIVING: shares["bystander 2"],
            },
        )

    @cached_property
    def duplicates(self) -> dict[str, str]:
        """For each holder relation, another record of the main child: a
        submitted referral from the referring to the receiving agency, shared
        with the shared agency, so all three see it."""
        self.scenario  # noqa: B018 - the main referral first
        found = {}
        for n, relation in enumerate(HOLDERS):
            duplicate = {
                "first_name": "Jaydn",
                "last_name": "Miller",
                "date_of_birth": "2011-03-14",
            }
            duplicate["first_name"] += "e" * n
            referral = self._refer(duplicate)
            self._share(referral["id"], "shared")
            found[relation] = referral["child"]["id"]
        return found

    def duplicate(self, relation: str) -> str:
        return self.duplicates.get(relation, self.duplicates[REFERRING])

    @cached_property
    def merges(self) -> dict[str, str]:
        """For each holder relation, a merge of its duplicate into the main
        child; for the draft relation, a merge of a second draft's child into
        the draft's (held by the referring agency alone)."""
        found = {}
        for relation, duplicate in self.duplicates.items():
            path = f"/api/v1/children/{self.scenario.child_id}/merge"
            body = {"duplicate_id": duplicate}
            found[relation] = self._created(REFERRING_MANAGER, "POST", path, body)["id"]
        second = self._refer(
            {"first_name": "Kai", "last_name": "Turner", "date_of_birth": "2010-07-02"},
            submit=False,
        )
        path = f"/api/v1/children/{self.scenario.draft_child_id}/merge"
        body = {"duplicate_id": second["child"]["id"]}
        found[DRAFT_RECEIVING] = self._created(REFERRING_MANAGER, "POST", path, body)["id"]
        return found

    @cached_property
    def meeting(self) -> tuple[str, str]:
        """(meeting id, agenda line id): a meeting convened by the receiving
        agency an hour ago, with the referring and an unrelated agency, the
        main referral on its agenda."""
        rid = self.scenario.referral_id
        body = {
            "title": "MACE meeting",
            "held_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "online": True,
            "invited_organisation_ids": [
                str(self.org(ORG_OF_RELATION[relation]).id)
                for relation in (INVITED_HOLDER, INVITED_OTHER)
            ],
        }
        meeting = self._created(RECEIVING_MANAGER, "POST", "/api/v1/meetings", body)
        path = f"/api/v1/meetings/{meeting['id']}/agenda"
        item = self._created(RECEIVING_MANAGER, "POST", path, {"referral_id": rid})
        return str(meeting["id"]), str(item["id"])

    @cached_property
    def action_id(self) -> str:
        """An action on the main referral, owned by the receiving agency."""
        path = f"{REFERRAL_API}/{self.scenario.referral_id}/actions"
        body = {"description": "Home visit", "due_on": date.today().isoformat()}
        return str(self._created(RECEIVING_MANAGER, "POST", path, body)["id"])

    @cached_property
    def screening_id(self) -> str:
        """A screening of the main referral, completed by the referring agency's referrer."""
        path = f"{REFERRAL_API}/{self.scenario.referral_id}/screenings"
        return str(
            self._created(REFERRING_REFERRER, "POST", path, {"answers": screening_answers()})["id"]
        )

    @cached_property
    def document_id(self) -> str:
        """A shared document of the main referral, uploaded by the referring agency's referrer."""
        user = self.user(*REFERRING_REFERRER, purpose="sets up")
        response = self.api.open(
            f"{REFERRAL_API}/{self.scenario.referral_id}/documents",
            method="POST",
            data=new_document(None),
            headers=self.api_headers(user),
        )
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def event_subscription(self, org_name: str) -> str:
        """The id of an event subscription of the organisation."""
        made = self.__dict__.setdefault("_subscriptions", {})
        if org_name not in made:
            body = {"url": "http://127.0.0.1:9/hooks"}
            path = "/api/v1/event-subscriptions"
            made[org_name] = str(self._created((ORG_ADMIN, org_name), "POST", path, body)["id"])
        return made[org_name]  # type: ignore[no-any-return]

    def identity_provider(self, org_name: str) -> str:
        """The organisation's id, once it has an identity provider (made
        again for each call: a cell may have removed it)."""
        org = self.org(org_name)
        with self.factory.app.app_context():
            found = db.session.scalar(
                select(IdentityProvider.id).where(IdentityProvider.organisation_id == org.id)
            )
            if found is None:
                db.session.add(
                    IdentityProvider(
                        organisation_id=org.id,
                        display_name="Agency accounts",
                        issuer="https://login.example.org/tenant/v2.0",
                        client_id="referrals",
                        client_secret_encrypted=document_storage.encrypt(
                            f"idp-{org.id.hex}", b"a client secret"
                        ),
                    )
                )
                commit_and_seal(self.factory.app)
        return str(org.id)

    def system_account(self, org_name: str) -> dict[str, Any]:
        """A system account of the organisation (the creation's answer)."""
        made = self.__dict__.setdefault("_systems", {})
        if org_name not in made:
            body = {"name": "Records system", "permissions": ["referrals:read"]}
            path = "/api/v1/system-accounts"
            made[org_name] = self._created((ORG_ADMIN, org_name), "POST", path, body)
        return made[org_name]  # type: ignore[no-any-return]

    @cached_property
    def agreement_id(self) -> str:
        """An agreement between the referring and the receiving agency."""
        body = {
            "title": "Prevention partnership",
            "reference": "ISA-1",
            "purposes": "Early help for children at risk of exploitation.",
            "lawful_bases": ["public_task"],
            "data_categories": ["identity_and_contact"],
            "party_ids": [str(self.org("referring").id), str(self.org("receiving").id)],
            "starts_on": date.today().isoformat(),
            "review_on": (date.today() + timedelta(days=365)).isoformat(),
        }
        made = str(self._created(REFERRING_MANAGER, "POST", "/api/v1/agreements", body)["id"])
        signed = self.api.post(
            f"/api/v1/agreements/{made}/document",
            data={"file": (BytesIO(DOCUMENT_PDF), "agreement.pdf")},
            headers=self.api_headers(self.user(*REFERRING_MANAGER)),
        )
        assert signed.status_code == 200, signed.json
        return made

    @cached_property
    def directory_service_id(self) -> str:
        """A service of the directory, imported as the command line would."""
        from referral_app.services import directory_import

        with self.app.app_context():
            directory_import.import_services(
                [{"id": "matrix-service", "name": "Matrix mentoring"}], feed="matrix", full=False
            )
            db.session.commit()
            made = select(DirectoryService.id).where(DirectoryService.source_id == "matrix-service")
            return str(db.session.scalar(made))

    @cached_property
    def note_id(self) -> str:
        """A shared note on the main referral, by the receiving agency."""
        path = f"{REFERRAL_API}/{self.scenario.referral_id}/notes"
        body = {"body": "Met the family.", "visibility": "shared", "kind": "home_visit"}
        return str(self._created(RECEIVING_MANAGER, "POST", path, body)["id"])

    def etag(self, referral_id: str) -> str:
        referrer = self.user(*REFERRING_REFERRER, purpose="sets up")
        response = self._api(referrer, "GET", f"{REFERRAL_API}/{referral_id}")
        assert response.status_code == 200, response.json
        return str(response.headers["ETag"])

    def notification(self, recipient: UserInfo) -> str:
        """A notification for `recipient` (about the scenario's referral)."""
        if recipient not in self._notifications:
            # The scenario first: its requests must not run inside the context below.
            referral_id = uuid.UUID(self.scenario.referral_id)
            with self.app.app_context():
                notice = Notification(
                    recipient_id=recipient.id,
                    kind=NotificationKind.ARRIVED,
                    referral_id=referral_id,
                )
                db.session.add(notice)
                db.session.commit()
                self._notifications[recipient] = str(notice.id)
        return self._notifications[recipient]

    def saved_search(self, owner: UserInfo) -> str:
        """A live stored search of `owner`'s."""
        with self.app.app_context():
            stored = saved_searches.store(db.session.get(User, owner.id), {"q": "Jayden"})
            db.session.commit()
            return str(stored.id)

    def placeholder(self, name: str, role: str, relation: str) -> str:
        """The value for `<converter:name>` in a rule, for a caller with `role`
        and `relation`."""
        draft = relation == DRAFT_RECEIVING
        if name == "referral_id":
            return self.scenario.draft_id if draft else self.scenario.referral_id
        if name == "child_id":
            return self.scenario.draft_child_id if draft else self.scenario.child_id
        if name == "action":
            return "accept"
        if name == "share_id":
            shares = self.scenario.revocable_share_ids
            return shares.get(relation, shares[REFERRING])
        if name == "user_id":
            return str(self.user(REFERRER, TARGET_ORG[relation], purpose=MANAGED).id)
        if name == "merge_id":
            return self.merges.get(relation, self.merges[REFERRING])
        if name == "notification_id":
            if relation == OWN_NOTIFICATION and role != ANONYMOUS:
                recipient = self.user(role, ORG_OF_RELATION[relation])
            elif relation == ELSEWHERE_NOTIFICATION:
                recipient = self.user(REFERRER, "elsewhere", purpose=NOTIFIED)
            else:
                recipient = self.user(REFERRER, "home", purpose=NOTIFIED)
            return self.notification(recipient)
        if name == "search_id":
            if relation == OWN_NOTIFICATION and role != ANONYMOUS:
                owner = self.user(role, ORG_OF_RELATION[relation])
            else:
                owner = self.user(REFERRER, "elsewhere", purpose=NOTIFIED)
            return self.saved_search(owner)
        if name == "filename":
            return "swagger-ui.css"
        if name == "meeting_id":
            return self.meeting[0]
        if name == "item_id":
            return self.meeting[1]
        if name == "action_id":
            return self.action_id
        if name == "note_id":
            return self.note_id
        if name == "screening_id":
            return self.screening_id
        if name == "document_id":
            return self.document_id
        if name == "agreement_id":
            return self.agreement_id
        if name == "version":
            return "1"
        if name == "service_id":
            return self.directory_service_id
        if name == "system_id":
            return self.system_account(TARGET_ORG[relation])["system"]["id"]
        if name == "secret_id":
            return self.system_account(TARGET_ORG[relation])["secret_id"]
        if name == "subscription_id":
            return self.event_subscription(TARGET_ORG[relation])
        if name == "organisation_id":
            return self.identity_provider(TARGET_ORG[relation])
        if name == "code":
            return "an-agency-without-single-sign-on"
        raise AssertionError(f"no value for <{name}>: teach World.placeholder about it")

    def call(self, method: str, rule: str, route: Route, role: str, relation: str) -> TestResponse:
        params = {
            name: self.placeholder(name, role, relation)
            for name in re.findall(r"<(?:\w+:)?(\w+)>", rule)
        }
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: params[match.group(1)], rule)
        cell = Cell(self, role, relation, params)
        body = route.body(cell) if route.body else None
        headers = route.headers(cell) if route.headers else {}
        user = cell.user
        if rule.startswith("/api/v1/"):
            headers.update(self.api_headers(user))
            if route.body in (new_document, agreement_document, system_token):
                return self.api.open(path, method=method, data=body, headers=headers)
            return self.api.open(path, method=method, json=body, headers=headers)
        client = self.browser(user)
        if method == "GET":
            return client.open(path, method=method, headers=headers)
        form = {**(body or {}), "csrf_token": self.csrf(user)}
        return client.open(path, method=method, data=form, headers=headers)


# --- running a route ----------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    role: str
    relation: str
    expected: str
    got: str
    status: int
    detail: str

    def __str__(self) -> str:
        where = self.role if self.relation == NO_RECORD else f"{self.role} @ {self.relation}"
        return (
            f"  {where}: expected {self.expected}, got {self.got} "
            f"({self.status}{': ' + self.detail if self.detail else ''})"
        )


def detail(response: TestResponse) -> str:
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        return str(body.get("message", ""))[:120]
    if 300 <= response.status_code < 400:
        return f"-> {response.location}"
    return ""


def cells(route: Route) -> list[tuple[str, str, str]]:
    """(role, relation, expected) for every caller, the refusals first and the
    allowed last, so an allowed change never alters what a refusal meets."""
    anonymous_relation = route.relations[0]
    every = [(role, rel, route.expected[role, rel]) for role in ROLES for rel in route.relations]
    every.append((ANONYMOUS, anonymous_relation, route.anonymous))
    return sorted(every, key=lambda cell: cell[2] == ALLOW)


def check_route(
    world: World,
    method: str,
    rule: str,
    route: Route,
    only: Callable[[str, str], bool] = lambda role, relation: True,
) -> list[Mismatch]:
    mismatches = []
    for role, relation, expected in cells(route):
        if not only(role, relation):
            continue
        response = world.call(method, rule, route, role, relation)
        with response:  # a file response holds its file open until closed
            got = classify(response)
            if got != expected:
                mismatches.append(
                    Mismatch(role, relation, expected, got, response.status_code, detail(response))
                )
    return mismatches


def report(method: str, rule: str, route: Route, mismatches: list[Mismatch]) -> str:
    allows = [m for m in mismatches if m.got == ALLOW]
    others = [m for m in mismatches if m.got != ALLOW]
    lines = [f"{method} {rule}: {len(mismatches)} of {len(cells(route))} cells differ"]
    known = [
        f"  {role} @ {relation}" for m, r, role, relation in KNOWN_BUGS if (m, r) == (method, rule)
    ]
    if known:
        lines += ["(left out, known bugs: see test_known_bug)", *known]
    if allows:
        lines += ["UNEXPECTED ALLOWS (access-control bugs):", *map(str, allows)]
    if others:
        lines += ["other mismatches:", *map(str, others)]
    return "\n".join(lines)


def app_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# --- the tests ------------------------------------------------------------------


def test_matrix_covers_every_route(app):
    actual = app_routes(app)
    missing = sorted(actual - MATRIX.keys())
    gone = sorted(MATRIX.keys() - actual)
    problems = [f"no MATRIX entry (decide who may call it): {m} {r}" for m, r in missing]
    problems += [f"MATRIX entry for a route that is gone: {m} {r}" for m, r in gone]
    assert problems == []


def test_every_entry_states_every_cell():
    for (method, rule), route in MATRIX.items():
        wanted = {(role, relation) for role in ROLES for relation in route.relations}
        assert set(route.expected) == wanted, f"{method} {rule}"
        assert set(route.expected.values()) | {route.anonymous} <= {
            ALLOW,
            HIDDEN,
            FORBIDDEN,
            LOGIN,
        }, f"{method} {rule}"


@pytest.mark.parametrize("key", [pytest.param(key, id=" ".join(key)) for key in MATRIX])
def test_access_matrix(app, factory, key):
    method, rule = key
    assert key in app_routes(app), f"{method} {rule} is no longer a route: drop its entry"
    route = MATRIX[key]

    def not_a_known_bug(role: str, relation: str) -> bool:
        return (method, rule, role, relation) not in KNOWN_BUGS

    mismatches = check_route(World(app, factory), method, rule, route, not_a_known_bug)
    assert not mismatches, report(method, rule, route, mismatches)


def test_known_bugs_name_real_cells():
    for method, rule, role, relation in KNOWN_BUGS:
        assert (method, rule) in MATRIX, (method, rule)
        assert (role, relation) in MATRIX[method, rule].expected, (method, rule, role, relation)


_KNOWN_BUG_CELLS = [
    pytest.param(
        cell,
        id=f"{cell[0]} {cell[1]} {cell[2]} @ {cell[3]}",
        marks=pytest.mark.xfail(strict=True, reason=reason),
    )
    for cell, reason in KNOWN_BUGS.items()
] or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="no known access bugs"))]


@pytest.mark.parametrize("cell", _KNOWN_BUG_CELLS)
def test_known_bug(app, factory, cell):
    method, rule, role, relation = cell
    route = MATRIX[method, rule]
    mismatches = check_route(
        World(app, factory), method, rule, route, lambda *this: this == (role, relation)
    )
    assert not mismatches, report(method, rule, route, mismatches)
