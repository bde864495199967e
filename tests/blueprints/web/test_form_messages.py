"""Every form on every page, sent empty and sent with bad input, by each kind
of user: never a 500, and never a framework's own validation text on the
page (marshmallow's "Missing data for required field.", "Not a valid UUID."
and the rest: blueprints/web/forms.py lists them).

The forms are found the way a person finds them: by following the links of
the pages each user can reach from the home page, and reading the <form>s
there. A new page or form is walked without this test changing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from blueprints.web.forms import FRAMEWORK_MESSAGES
from referral_app.models import Role
from tests.blueprints.web.test_referral_pages import new_referral_form, post_action, sign_in

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FRAMEWORK = re.compile("|".join(f"(?:{pattern})" for pattern in FRAMEWORK_MESSAGES))
# Not followed: leaving the pages, downloads, and what ends the session.
SKIP_PATHS = ("/logout", "/api/", "/static/", "/healthz", "/readyz")
SKIP_ACTIONS = ("/logout", "/account/sign-out-everywhere")
PAGES_PER_USER = 60
TOO_LONG = "x" * 20_001


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, value)
    options: dict[str, list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page, their links, and the texts shown as errors."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page_url, a["href"]))
        elif tag == "form":
            self._form = Form(
                action=urljoin(self.page_url, a.get("action") or self.page_url),
                method=(a.get("method") or "get").lower(),
            )
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select", "button"):
            name = a.get("name")
            if not name:
                return
            kind = a.get("type", "text") if tag == "input" else tag
            if tag == "button":
                kind = "submit"
            self._form.fields.append((name, kind, a.get("value", "")))
            if tag == "select":
                self._select = name
                self._form.options.setdefault(name, [])
        elif tag == "option" and self._form is not None and self._select:
            self._form.options[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def read_page(url: str, html: str) -> _Forms:
    parser = _Forms(url)
    parser.feed(html)
    return parser


def pattern_of(path: str) -> str:
    return UUID.sub("{id}", path)


def crawl(client) -> dict[str, tuple[str, _Forms]]:
    """The pages a user reaches from home, at most two of each shape of URL."""
    seen: dict[str, tuple[str, _Forms]] = {}
    shapes: dict[str, int] = {}
    queue = ["/"]
    while queue and len(seen) < PAGES_PER_USER:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIP_PATHS):
            continue
        shape = pattern_of(urlsplit(path).path)
        if shapes.get(shape, 0) >= 2:
            continue
        response = client.get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        page = read_page("http://localhost" + path, response.get_data(as_text=True))
        seen[path] = (response.get_data(as_text=True), page)
        for link in page.links:
            parts = urlsplit(link)
            if parts.netloc == "localhost" and parts.path.startswith("/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def variants(form: Form) -> list[dict[str, list[str]]]:
    """The form sent empty, and with every answer wrong in its own way."""
    hidden = {name: [value] for name, kind, value in form.fields if kind == "hidden" and value}
    submit = [(name, value) for name, kind, value in form.fields if kind == "submit" and value]
    empty = dict(hidden)
    bad = dict(hidden)
    for name, kind, _value in form.fields:
        if kind in ("hidden", "submit"):
            continue
        if kind in ("radio", "checkbox", "select"):
            bad[name] = ["not-one-of-the-choices"]
        elif re.search(r"(day|month|year)$", name):
            bad[name] = ["99" if name.endswith(("day", "month")) else "20x6"]
        elif "date" in name or kind == "date":
            bad[name] = ["31/02/2026"]
        elif "id" in name.split("_") or name.endswith("_id"):
            bad[name] = ["not-an-id"]
        else:
            bad[name] = [TOO_LONG]
    sendings = []
    for data in (empty, bad):
        if submit:  # each submit button says what the form is to do
            for name, value in submit:
                sendings.append({**data, name: [value]})
        else:
            sendings.append(data)
    return sendings


def assert_plain(path: str, html: str) -> None:
    shown = re.sub(r"<[^>]+>", " ", html)
    found = FRAMEWORK.search(shown)
    assert found is None, f"{path} shows the framework's text: {found.group(0)!r}"


@pytest.fixture
def people(app, factory, client):
    """Every kind of user, with referrals in every state around them."""
    from referral_app.models import OrganisationKind

    police = factory.organisation(OrganisationKind.POLICE)
    yjs = factory.organisation(OrganisationKind.YOUTH_JUSTICE)
    charity = factory.organisation(OrganisationKind.CHARITY)
    officer = sign_in(app, factory.user(Role.REFERRER, organisation=police))
    manager = sign_in(app, factory.user(Role.MANAGER, organisation=yjs))
    caseworker_user = factory.user(Role.CASEWORKER, organisation=yjs)
    caseworker = sign_in(app, caseworker_user)
    charity_manager = sign_in(app, factory.user(Role.MANAGER, organisation=charity))
    made = []
    children = [("Amara", "Okafor", "4"), ("Tobias", "Reid", "9"), ("Keisha", "Hall", "17")]
    for (first, last, day), intent in zip(
        [*children, ("Oliver", "Grant", "23")], ("submit", "submit", "submit", "draft"), strict=True
    ):
        names = {"child-first_name": first, "child-last_name": last, "child-dob-day": day}
        response = officer.post(
            "/referrals/new", data=new_referral_form(officer, yjs, intent=intent, **names)
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        made.append(response.location)
    accepted, in_progress, closed, _draft = made
    for path in (accepted, in_progress, closed):
        assert post_action(manager, path, "accept").status_code == 302
    for path in (in_progress, closed):
        assert (
            post_action(manager, path, "assign", assignee_id=str(caseworker_user.id)).status_code
            == 302
        )
    assert (
        post_action(
            caseworker, closed, "close", outcome="engaged_and_completed", outcome_summary="Done."
        ).status_code
        == 302
    )
    return {
        "officer": officer,
        "manager": manager,
        "caseworker": caseworker,
        "charity manager": charity_manager,
        "org admin": sign_in(app, factory.user(Role.ORG_ADMIN, organisation=yjs)),
        "auditor": sign_in(app, factory.user(Role.AUDITOR, organisation=yjs)),
        "system admin": sign_in(app, factory.user(Role.SYSTEM_ADMIN, organisation=police)),
    }


@pytest.mark.parametrize(
    "who",
    ["officer", "manager", "caseworker", "charity manager", "org admin", "auditor", "system admin"],
)
def test_every_form_refuses_empty_and_bad_input_in_plain_words(people, who):
    client = people[who]
    pages = crawl(client)
    assert len(pages) >= 3, f"{who} reached only {sorted(pages)}"
    walked = 0
    for path, (html, page) in pages.items():
        assert_plain(path, html)
        for form in page.forms:
            target = urlsplit(form.action)
            if target.netloc != "localhost" or target.path.startswith(SKIP_ACTIONS):
                continue
            url = target.path + (f"?{target.query}" if target.query else "")
            for data in variants(form):
                if form.method == "post":
                    response = client.post(url, data=data)
                else:
                    response = client.get(url, query_string=data)
                walked += 1
                assert response.status_code < 500, (
                    f"{who}: {form.method.upper()} {url} from {path} -> {response.status_code}"
                )
                if "text/html" in response.content_type:
                    assert_plain(
                        f"{form.method.upper()} {url} from {path}", response.get_data(True)
                    )
    assert walked > 0, f"{who}: no forms found on {sorted(pages)}"
