"""The API's contract as a committed snapshot: openapi.json at the root of the
repository is the document /api/v1/openapi.json serves. `flask openapi
write` refreshes it; `flask openapi check` says what differs and whether a
client built on the snapshot would break (referral_app.openapi_diff)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from referral_app import openapi_diff

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "openapi.json"
UPDATE_COMMAND = "flask --app referral_app openapi write"

openapi_cli = AppGroup("openapi", help="The API's OpenAPI document and its committed snapshot.")


def served_document(app: Flask) -> dict[str, Any]:
    """The document as the app serves it (through its own JSON encoder)."""
    url = f"{app.config['OPENAPI_URL_PREFIX']}/{app.config['OPENAPI_JSON_PATH']}"
    response = app.test_client().get(url)
    if response.status_code != 200 or not isinstance(response.json, dict):
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response.json


def canonical_text(document: dict[str, Any]) -> str:
    """The snapshot's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_snapshot(path: Path = SNAPSHOT_PATH) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def report(snapshot: dict[str, Any], served: dict[str, Any]) -> tuple[list[str], bool]:
    """Lines describing how `served` differs from `snapshot`, and whether the
    difference is acceptable (nothing breaking, or the major version grew)."""
    changes = openapi_diff.compare(snapshot, served)
    broken = openapi_diff.breaking(changes)
    allowed = openapi_diff.breaking_allowed(snapshot, served)
    lines = [str(change) for change in sorted(changes, key=lambda c: (not c.breaking, c.where))]
    if canonical_text(snapshot) != canonical_text(served) and not changes:
        lines.append("additive: descriptions, examples or other documentation changed")
    if broken and allowed:
        lines.append(
            f"{len(broken)} breaking change(s), allowed: info.version's major number grew "
            f"({snapshot.get('info', {}).get('version')} -> "
            f"{served.get('info', {}).get('version')})"
        )
    return lines, not broken or allowed


@openapi_cli.command("write")
@click.option("--path", type=click.Path(path_type=Path), default=SNAPSHOT_PATH, show_default=True)
@click.option(
    "--accept-breaking",
    is_flag=True,
    help="Write even when the change would break a client built on the snapshot.",
)
def write_snapshot(path: Path, accept_breaking: bool) -> None:
    """Write the served document to the snapshot file. A breaking change (with
    the same major version) is refused unless --accept-breaking says it was
    meant: a snapshot rewritten without a thought would hide it."""
    served = served_document(current_app)
    if path.exists() and not accept_breaking:
        snapshot = read_snapshot(path)
        broken = openapi_diff.breaking(openapi_diff.compare(snapshot, served))
        if broken and not openapi_diff.breaking_allowed(snapshot, served):
            for change in broken:
                click.echo(str(change))
            click.echo(
                f"not written: {len(broken)} breaking change(s) to /api/v1. Make them "
                "additive, publish a new major version, or pass --accept-breaking."
            )
            raise SystemExit(2)
    path.write_text(canonical_text(served), encoding="utf-8")
    click.echo(f"wrote {path}")


@openapi_cli.command("check")
@click.option("--path", type=click.Path(path_type=Path), default=SNAPSHOT_PATH, show_default=True)
def check_snapshot(path: Path) -> None:
    """Compare the served document with the snapshot: exit 1 when they differ
    (2 when the difference would break a client built on the snapshot)."""
    snapshot, served = read_snapshot(path), served_document(current_app)
    if canonical_text(snapshot) == canonical_text(served):
        click.echo(f"{path} matches the served document")
        return
    lines, acceptable = report(snapshot, served)
    for line in lines:
        click.echo(line)
    if not acceptable:
        click.echo("breaking changes to /api/v1: make them additive, or publish a new version")
        raise SystemExit(2)
    click.echo(f"the snapshot is out of date: {UPDATE_COMMAND}")
    raise SystemExit(1)
