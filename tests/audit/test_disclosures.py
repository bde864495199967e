"""Every disclosure is logged, whatever the request's outcome: a web form
that is refused (422, 403, 404, 409) and shows the referral or child again
has read case data, and that read is in the audit trail even though the
rest of the request was rolled back."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from referral_app.extensions import db
from referral_app.models import AuditEvent
from referral_app.services.audit import DISCLOSURES
from tests.blueprints.web.test_form_messages import SKIP_ACTIONS, crawl, variants
from tests.blueprints.web.test_form_messages import people as walker_people
from tests.blueprints.web.test_referral_pages import post_action

# A page that shows a referral or a child links to it (or to its own forms).
CASE_LINK = re.compile(r'(href|action)="/(referrals|children)/[0-9a-f-]{36}')


@pytest.fixture
def people(app, factory, client):
    return walker_people.__wrapped__(app, factory, client)


def disclosures_of(app, request_id: str) -> list[str]:
    with app.app_context():
        return [
            event.action
            for event in db.session.query(AuditEvent).filter_by(request_id=request_id)
            if event.action in DISCLOSURES
        ]


def test_a_refused_note_still_records_the_reads_the_page_showed(app, people):
    caseworker = people["caseworker"]
    page = caseworker.get("/referrals").get_data(as_text=True)
    path = re.search(r'href="(/referrals/[0-9a-f-]{36})"', page).group(1)
    form = caseworker.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    refused = caseworker.post(f"{path}/notes", data={"csrf_token": token, "body": ""})
    assert refused.status_code == 422
    assert CASE_LINK.search(refused.get_data(as_text=True))
    reads = disclosures_of(app, refused.headers["X-Request-ID"])
    assert "referral.read" in reads
    assert "referral.notes_read" in reads


def test_a_refused_transition_still_records_the_read(app, people):
    manager = people["manager"]
    page = manager.get("/referrals?status=closed").get_data(as_text=True)
    path = re.search(r'href="(/referrals/[0-9a-f-]{36})"', page).group(1)
    refused = post_action(manager, path, "reopen")  # no reason: refused
    assert refused.status_code == 422
    assert "referral.read" in disclosures_of(app, refused.headers["X-Request-ID"])


@pytest.mark.parametrize("who", ["officer", "manager", "caseworker"])
def test_every_refused_form_that_shows_case_data_records_its_reads(app, people, who):
    """The form walker's pages and forms, sent empty and bad: each refusal
    whose page shows a referral's reference has a disclosure in the trail
    under its own request id."""
    client = people[who]
    checked = 0
    for path, (_html, page) in crawl(client).items():
        for form in page.forms:
            target = urlsplit(form.action)
            if form.method != "post" or target.path.startswith(SKIP_ACTIONS):
                continue
            for data in variants(form):
                response = client.post(target.path, data=data)
                if response.status_code < 400 or "text/html" not in response.content_type:
                    continue
                if not CASE_LINK.search(response.get_data(as_text=True)):
                    continue
                checked += 1
                reads = disclosures_of(app, response.headers["X-Request-ID"])
                assert reads, f"{who}: POST {target.path} from {path} showed a referral unrecorded"
    assert checked > 0, f"{who}: no refused form showed case data"
