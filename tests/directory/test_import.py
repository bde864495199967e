"""`flask directory import`: an Open Referral UK feed from a file or a
paginated URL on loopback, read record by record (those that cannot be
read skipped with the reason), re-imported in place, and a malformed
source refused with nothing changed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from referral_app.extensions import db
from referral_app.models import AuditEvent, DirectoryService, DirectoryServiceStatus
from referral_app.models.directory import postcode_district
from tests.directory.conftest import FEED, service_ids


def load(app, source_id: str) -> dict[str, Any]:
    with app.app_context():
        service = db.session.scalar(
            select(DirectoryService).where(DirectoryService.source_id == source_id)
        )
        assert service is not None, source_id
        return {
            "name": service.name,
            "provider_name": service.provider_name,
            "organisation_id": service.organisation_id,
            "min_age": service.min_age,
            "max_age": service.max_age,
            "areas": service.areas,
            "area_names": service.area_names,
            "types": service.types,
            "phone": service.phone,
            "email": service.email,
            "url": service.url,
            "status": service.status,
            "source_feed": service.source_feed,
        }


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DirectoryService)) or 0


def feed(tmp_path: Path, records: Any, name: str = "feed.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return str(path)


def records() -> list[dict[str, Any]]:
    return json.loads(FEED.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("given", "district"),
    [("ss1 2aa", "SS1"), ("SS1", "SS1"), ("cm20pj", "CM2"), ("EC1A 1BB", "EC1A"), ("SS12", "SS12")],
)
def test_a_postcode_district_is_the_outward_code(given, district):
    assert postcode_district(given) == district


@pytest.mark.parametrize("given", ["", "Essex", "SS", "12", "SS1 2A", "SS1 2AAA"])
def test_what_is_not_a_postcode_has_no_district(given):
    assert postcode_district(given) is None


def test_a_file_imports_and_reports_each_skipped_record_with_its_reason(
    app, runner, provider_agency
):
    result = runner.invoke(args=["directory", "import", str(FEED), "--feed", "essex"])
    assert result.exit_code == 0, result.output
    assert "6 new, 0 updated, 0 marked inactive, 2 skipped" in result.output
    assert "skipped record 5 (id oruk-essex-0005): it has no name" in result.output
    assert (
        "skipped record 6 (id oruk-essex-0006): its minimum age 18 is above its maximum age 10"
        in result.output
    )
    assert set(service_ids(app)) == {
        "oruk-essex-0001",
        "oruk-essex-0002",
        "oruk-essex-0003",
        "oruk-essex-0004",
        "oruk-essex-0007",
        "oruk-essex-0008",
    }


def test_the_oruk_shape_is_read_whole(app, imported):
    mentoring = load(app, "oruk-essex-0001")
    assert mentoring["name"] == "Southend Youth Mentoring"
    assert mentoring["provider_name"] == "Southend Mentoring Trust"
    assert mentoring["organisation_id"] is None  # not an agency here
    assert (mentoring["min_age"], mentoring["max_age"]) == (10, 17)
    assert mentoring["areas"] == ["SS1", "SS2"]  # "ss2" normalised
    assert mentoring["types"] == ["diversion", "mentoring"]
    assert mentoring["phone"] == "01702 555 010"
    assert mentoring["email"] == "referrals@mentoring.example.org"
    assert mentoring["url"] == "https://mentoring.example.org/southend"
    assert mentoring["status"] is DirectoryServiceStatus.ACTIVE
    assert mentoring["source_feed"] == "essex"


def test_a_service_without_areas_serves_its_locations_districts(app, imported):
    assert load(app, "oruk-essex-0002")["areas"] == ["CM2"]


def test_the_hsds_3_shape_is_read_and_named_areas_set_no_limit(app, imported):
    drugs = load(app, "oruk-essex-0003")
    assert (drugs["min_age"], drugs["max_age"]) == (10, 24)
    assert drugs["areas"] == []
    assert drugs["area_names"] == ["Essex"]
    assert drugs["types"] == ["substance misuse"]
    assert drugs["phone"] == "0800 555 0303"


def test_an_inactive_service_is_kept_inactive(app, imported):
    assert load(app, "oruk-essex-0007")["status"] is DirectoryServiceStatus.INACTIVE


def test_a_provider_named_as_an_agency_here_is_linked_to_it(app, imported, provider_agency):
    assert load(app, "oruk-essex-0008")["organisation_id"] == provider_agency.id


def test_the_import_is_audited(app, imported):
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "directory.import"))
        assert event is not None
        assert event.reason == "essex: 6 new, 0 updated, 0 marked inactive, 2 skipped"
        assert set(event.record_ids or []) == set(imported.values())


def test_importing_again_updates_in_place(app, runner, imported):
    result = runner.invoke(args=["directory", "import", str(FEED), "--feed", "essex"])
    assert result.exit_code == 0, result.output
    assert "0 new, 6 updated, 0 marked inactive, 2 skipped" in result.output
    assert service_ids(app) == imported


def test_a_full_import_changes_services_and_marks_the_missing_inactive(
    app, runner, imported, tmp_path
):
    changed = [record for record in records() if record["id"] != "oruk-essex-0001"]
    boxing = next(record for record in changed if record["id"] == "oruk-essex-0002")
    boxing["name"] = "Chelmsford Boxing Club Diversion"
    boxing["service_areas"] = [{"service_area": "CM2"}, {"service_area": "CM1"}]
    result = runner.invoke(args=["directory", "import", feed(tmp_path, changed), "--feed", "essex"])
    assert result.exit_code == 0, result.output
    assert "0 new, 5 updated, 1 marked inactive, 2 skipped" in result.output
    assert load(app, "oruk-essex-0001")["status"] is DirectoryServiceStatus.INACTIVE
    renamed = load(app, "oruk-essex-0002")
    assert renamed["name"] == "Chelmsford Boxing Club Diversion"
    assert renamed["areas"] == ["CM1", "CM2"]  # CM2 kept, CM1 added
    assert service_ids(app) == imported


def test_a_partial_import_leaves_the_missing_as_they_are(app, runner, imported, tmp_path):
    one = [records()[1]]
    result = runner.invoke(
        args=["directory", "import", feed(tmp_path, one), "--feed", "essex", "--partial"]
    )
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated, 0 marked inactive, 0 skipped" in result.output
    assert load(app, "oruk-essex-0001")["status"] is DirectoryServiceStatus.ACTIVE


def test_another_feed_leaves_this_feeds_services_alone(app, runner, imported, tmp_path):
    other = [{"id": "elsewhere-1", "name": "Thurrock Youth Club"}]
    result = runner.invoke(
        args=["directory", "import", feed(tmp_path, other), "--feed", "thurrock"]
    )
    assert result.exit_code == 0, result.output
    assert load(app, "oruk-essex-0001")["status"] is DirectoryServiceStatus.ACTIVE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"services": []}', "is not a list of services"),
        ('"a string"', "is not a list of services"),
        ('{"content": [], "totalPages": "many"}', "totalPages is not a number of pages"),
    ],
)
def test_a_malformed_file_changes_nothing_and_says_why(
    app, runner, imported, tmp_path, content, message
):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = count(app)
    result = runner.invoke(args=["directory", "import", str(path), "--feed", "essex"])
    assert result.exit_code == 1
    assert message in result.output
    assert count(app) == before
    assert load(app, "oruk-essex-0001")["status"] is DirectoryServiceStatus.ACTIVE


def test_a_missing_file_is_refused(app, runner, tmp_path):
    result = runner.invoke(args=["directory", "import", str(tmp_path / "nowhere.json")])
    assert result.exit_code == 1
    assert "Cannot read" in result.output
    assert count(app) == 0


def test_records_that_cannot_be_read_are_skipped_whole(app, runner, tmp_path):
    bad = [
        "not an object",
        {"name": "No id"},
        {"id": "x-1", "name": "Bad age", "eligibilitys": [{"minimum_age": -1}]},
        {"id": "x-2", "name": "Bad email", "email": "nobody"},
        {"id": "x-3", "name": "A" * 301},
        {"id": "x-4", "name": "Good"},
        {"id": "x-4", "name": "Good again"},
    ]
    result = runner.invoke(args=["directory", "import", feed(tmp_path, bad)])
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 marked inactive, 6 skipped" in result.output
    for expected in (
        "skipped record 1: it is not an object",
        "skipped record 2: it has no source id",
        "skipped record 3 (id x-1): its minimum age is not a whole number of years from 0 to 120",
        "skipped record 4 (id x-2): its email is not an email address",
        "skipped record 5 (id x-3): its name is longer than 300 characters",
        "skipped record 7 (id x-4): its id appears earlier in the feed",
    ):
        assert expected in result.output
    assert load(app, "x-4")["name"] == "Good"


# --- a paginated feed on loopback ----------------------------------------------------


class Feed(BaseHTTPRequestHandler):
    pages: dict[int, list[dict[str, Any]]] = {}  # noqa: RUF012
    asked: list[int] = []  # noqa: RUF012
    failing = False

    def do_GET(self) -> None:
        page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
        type(self).asked.append(page)
        if type(self).failing:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps(
            {
                "totalElements": sum(len(items) for items in self.pages.values()),
                "totalPages": len(self.pages),
                "number": page,
                "first": page == 1,
                "last": page == len(self.pages),
                "content": self.pages.get(page, []),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    all_records = records()
    Feed.pages = {1: all_records[:4], 2: all_records[4:]}
    Feed.asked = []
    Feed.failing = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services?per_page=4"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_paginated_feed_is_followed_page_by_page(app, runner, provider_agency, loopback):
    result = runner.invoke(args=["directory", "import", loopback])
    assert result.exit_code == 0, result.output
    assert Feed.asked == [1, 2]
    assert "6 new, 0 updated, 0 marked inactive, 2 skipped" in result.output
    assert len(service_ids(app)) == 6
    assert load(app, "oruk-essex-0008")["source_feed"] == loopback


def test_a_feed_that_fails_changes_nothing(app, runner, imported, loopback):
    Feed.failing = True
    result = runner.invoke(args=["directory", "import", loopback, "--feed", "essex"])
    assert result.exit_code == 1
    assert "The feed answered 503" in result.output
    assert load(app, "oruk-essex-0001")["status"] is DirectoryServiceStatus.ACTIVE
