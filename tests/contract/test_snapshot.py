"""openapi.json, committed, is the contract partners build on: the served
document must equal it, and any difference must be additive (or come with a
new major version). The failure says what changed and how to update."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Flask

from referral_app import openapi_diff
from referral_app.openapi_contract import (
    SNAPSHOT_PATH,
    UPDATE_COMMAND,
    canonical_text,
    read_snapshot,
    report,
)


def test_the_snapshot_is_committed_in_its_canonical_form() -> None:
    text = SNAPSHOT_PATH.read_text(encoding="utf-8")
    assert text == canonical_text(json.loads(text)), (
        f"{SNAPSHOT_PATH.name} is not in its canonical form (sorted keys, indent 2, "
        f"final newline): {UPDATE_COMMAND}"
    )


def test_the_served_document_is_the_snapshot(served: dict[str, Any]) -> None:
    snapshot = read_snapshot()
    if canonical_text(served) == canonical_text(snapshot):
        return
    lines, _ = report(snapshot, served)
    summary = "\n".join(lines[:60]) + (
        f"\n... and {len(lines) - 60} more" if len(lines) > 60 else ""
    )
    raise AssertionError(
        f"the served OpenAPI document differs from {SNAPSHOT_PATH.name}:\n{summary}\n"
        f"If the change is intended, update the snapshot with `{UPDATE_COMMAND}` "
        "and add a line to the API changelog in README.md."
    )


def test_no_breaking_change_against_the_snapshot(served: dict[str, Any]) -> None:
    """A client built on the committed document keeps working, unless the
    served document's major version (info.version) grew."""
    snapshot = read_snapshot()
    changes = openapi_diff.compare(snapshot, served)
    broken = openapi_diff.breaking(changes)
    if broken and not openapi_diff.breaking_allowed(snapshot, served):
        raise AssertionError(
            f"{len(broken)} breaking change(s) to /api/v1 against {SNAPSHOT_PATH.name}:\n"
            + "\n".join(map(str, broken))
            + "\n/api/v1 changes only additively: keep the old field, path or value, "
            "or publish a new major version (see README, API versioning and changelog)."
        )


def test_the_snapshot_check_reports_a_change_in_words(served: dict[str, Any]) -> None:
    changed = copy.deepcopy(served)
    del changed["paths"]["/api/v1/me"]
    lines, acceptable = report(served, changed)
    assert "BREAKING: /api/v1/me: the path was removed" in lines
    assert not acceptable
    changed["info"]["version"] = "v2"
    assert report(served, changed)[1]  # the version says so


def test_flask_openapi_check_and_write(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    snapshot = tmp_path / "openapi.json"
    written = runner.invoke(args=["openapi", "write", "--path", str(snapshot)])
    assert written.exit_code == 0, written.output
    assert runner.invoke(args=["openapi", "check", "--path", str(snapshot)]).exit_code == 0

    document = json.loads(snapshot.read_text(encoding="utf-8"))
    document["paths"]["/api/v1/me"]["get"]["summary"] = "Older words."
    snapshot.write_text(canonical_text(document), encoding="utf-8")
    stale = runner.invoke(args=["openapi", "check", "--path", str(snapshot)])
    assert stale.exit_code == 1
    assert UPDATE_COMMAND in stale.output

    del document["paths"]["/api/v1/me"]["get"]["responses"]["200"]
    document["paths"]["/api/v1/gone"] = copy.deepcopy(document["paths"]["/api/v1/me"])
    snapshot.write_text(canonical_text(document), encoding="utf-8")
    broken = runner.invoke(args=["openapi", "check", "--path", str(snapshot)])
    assert broken.exit_code == 2
    assert "BREAKING: /api/v1/gone: the path was removed" in broken.output

    # Writing over a breaking change needs saying so.
    refused = runner.invoke(args=["openapi", "write", "--path", str(snapshot)])
    assert refused.exit_code == 2
    assert "BREAKING: /api/v1/gone: the path was removed" in refused.output
    assert json.loads(snapshot.read_text(encoding="utf-8")) == document
    accepted = ["openapi", "write", "--path", str(snapshot), "--accept-breaking"]
    assert runner.invoke(args=accepted).exit_code == 0
    assert runner.invoke(args=["openapi", "check", "--path", str(snapshot)]).exit_code == 0
