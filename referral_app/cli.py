"""Command line: `flask --app referral_app ...`. Each command is a boundary:
it commits once when it succeeds and changes nothing when it fails."""

from __future__ import annotations

import base64
import binascii
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError

from referral_app.extensions import db
from referral_app.models import OrganisationKind, Role
from referral_app.services import (
    audit,
    audit_sequencer,
    checkpoints,
    demo,
    notifications,
    organisations,
    outbox,
    retention,
    users,
)
from referral_app.services.errors import ServiceError
from schemas.organisation import OrganisationCreateSchema
from schemas.user import UserCreateSchema

orgs_cli = AppGroup("orgs", help="Manage organisations (agencies).")
audit_cli = AppGroup("audit", help="The audit trail.")
outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
retention_cli = AppGroup("retention", help="Anonymise what is past retention.")
users_cli = AppGroup("users", help="Manage users.")
directory_cli = AppGroup("directory", help="The Open Referral UK service directory.")


@contextmanager
def command_transaction() -> Iterator[None]:
    """Commit on success; on a refusal roll back, print why and exit 1."""
    try:
        yield
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        for field, messages in error.normalized_messages().items():
            click.echo(f"error: {field}: {' '.join(map(str, messages))}", err=True)
        sys.exit(1)
    except ServiceError as error:
        db.session.rollback()
        click.echo(f"error: {error.message}", err=True)
        for field, messages in (error.errors or {}).items():
            click.echo(f"  {field}: {' '.join(messages)}", err=True)
        sys.exit(1)


@orgs_cli.command("create")
@click.option("--code", required=True, help="Unique slug, e.g. essex-police.")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([kind.value for kind in OrganisationKind]))
def create_org(code: str, name: str, kind: str) -> None:
    """Add an organisation."""
    with command_transaction():
        data = OrganisationCreateSchema().load({"code": code, "name": name, "kind": kind})
        organisation = organisations.create_organisation(None, **data)
        click.echo(f"created organisation {organisation.code} ({organisation.id})")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--org", "org_code", required=True, help="The organisation's code.")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice([role.value for role in Role]),
    help="Repeat for several roles.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (never from the command line).",
)
@click.option(
    "--totp-secret", default=None, help="Base32 TOTP secret to require a code at sign-in."
)
def create_user(
    email: str,
    full_name: str,
    org_code: str,
    roles: tuple[str, ...],
    password_stdin: bool,
    totp_secret: str | None,
) -> None:
    """Add a user. The password is read from standard input."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ""
    with command_transaction():
        organisation = organisations.get_organisation_by_code(org_code)
        data = UserCreateSchema().load(
            {
                "email": email,
                "full_name": full_name,
                "organisation_id": str(organisation.id),
                "roles": list(roles),
                "password": password,
            }
        )
        if totp_secret is not None:
            data["totp_secret"] = _valid_totp_secret(totp_secret)
        user = users.create_user(None, **data)
        click.echo(f"created user {user.email} ({user.id})")


def _valid_totp_secret(secret: str) -> str:
    cleaned = secret.replace(" ", "").upper()
    try:
        base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ServiceError("--totp-secret is not valid base32.") from None
    if len(cleaned) < 16:
        raise ServiceError("--totp-secret must be at least 16 base32 characters (80 bits).")
    return cleaned


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo agencies, users and referrals (idempotent) and print the
    logins. Refused under the production configuration."""
    try:
        demo.refuse_in_production()  # before the database is touched
    except ServiceError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    with command_transaction():
        seeded = demo.seed_demo()
    if seeded.already_loaded:
        click.echo("The demo referrals are already loaded: skipped.")
    else:
        click.echo(f"Loaded {seeded.referrals} demo referrals.")
    click.echo("Demo logins (password for all: " + demo.DEMO_PASSWORD + "):")
    for demo_user in seeded.users:
        roles = ", ".join(demo_user.roles)
        click.echo(f"  {demo_user.email:<32} {roles:<14} {demo_user.organisation_code}")


@audit_cli.command("verify")
def verify_audit() -> None:
    """Recompute the audit hash chain and check it still reaches the newest
    signed checkpoint; exit 1 when either fails, naming what is wrong."""
    result = audit.verify_for(None)
    db.session.commit()
    click.echo(f"checked {result.checked} events: " + ("ok" if result.ok else "BROKEN"))
    if result.checkpoint_at is not None:
        at = result.checkpoint_at.isoformat(timespec="seconds")
        click.echo(f"last trusted checkpoint: seq {result.checkpoint_seq}, signed {at}")
    else:
        click.echo("no checkpoint yet: a cut tail cannot be detected until one is written")
    if result.first_bad_seq is not None:
        click.echo(f"first bad seq: {result.first_bad_seq}", err=True)
    if not result.ok and result.problem:
        click.echo(f"problem: {result.problem}", err=True)
    if not result.ok:
        sys.exit(1)


@audit_cli.command("checkpoint")
def checkpoint_audit() -> None:
    """Sign the audit chain's head now and append it to the checkpoint store
    (the job runner does this every minute)."""
    checkpoint = checkpoints.write_checkpoint(db.session)
    db.session.commit()
    click.echo(f"checkpoint: seq {checkpoint.seq}, written to {checkpoints.store()}")


@audit_cli.command("seal")
@click.option("--watch", is_flag=True, help="Keep running, sealing as events are written.")
@click.option("--interval", default=0.2, show_default=True, help="Seconds between passes.")
def seal_audit(watch: bool, interval: float) -> None:
    """Seal the audit events written since the last pass into the chain
    (give each its seq and hash). With --watch, the sequencer: runs until
    SIGTERM or SIGINT; one per deployment or one per host, both are safe."""
    if watch:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        total = audit_sequencer.watch(current_app._get_current_object(), interval=interval)  # type: ignore[attr-defined]
        click.echo(f"sealed {total} events")
        return
    total = 0
    while sealed := audit_sequencer.seal(db.session):  # batch after batch, until none is full
        total += sealed
        if sealed < 5000:
            break
    click.echo(f"sealed {total} events")


@outbox_cli.command("send")
@click.option("--watch", is_flag=True, help="Keep running, sending as e-mails arrive.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
@click.option(
    "--passes", default=0, hidden=True, help="With --watch, stop after this many passes (tests)."
)
def send_outbox(watch: bool, interval: float, passes: int) -> None:
    """Tell managers about referrals past their triage deadline, then send the
    e-mails that are due (retrying failed ones with back-off)."""
    done = 0
    while True:
        overdue = notifications.notify_overdue()
        db.session.commit()
        report = outbox.send_pending()
        click.echo(
            f"overdue notices: {overdue}; sent: {report.sent}; failed: {report.failed}; "
            f"waiting: {report.pending}"
        )
        done += 1
        if not watch or (passes and done >= passes):
            break
        time.sleep(interval)


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Say what would be anonymised; change nothing.")
def apply_retention(dry_run: bool) -> None:
    """Anonymise children (and their case text) whose referrals all ended
    more than RETENTION_DAYS ago, unless one is on legal hold."""
    with command_transaction():
        report = retention.apply(dry_run=dry_run)
        if dry_run:
            db.session.rollback()
    verb = "would anonymise" if dry_run else "anonymised"
    cutoff = report.cutoff.date().isoformat() if report.cutoff else "?"
    click.echo(
        f"{verb} {len(report.children)} children, the text of {report.referrals} referrals "
        f"and {report.notes} notes (referrals that ended before {cutoff})"
    )
    for child_id in report.children:
        click.echo(f"  child {child_id}")


@click.command("bench-seed")
@click.option("--referrals", default=10_000, show_default=True)
@click.option("--organisations", default=50, show_default=True)
def bench_seed(referrals: int, organisations: int) -> None:
    """Load generated benchmark data in bulk (into an empty database)."""
    from referral_app import benchseed

    started = time.perf_counter()
    with command_transaction():
        counts = benchseed.seed(referrals, organisations)
    seconds = time.perf_counter() - started
    click.echo(", ".join(f"{table}: {count}" for table, count in counts.items()))
    click.echo(
        f"loaded in {seconds:.1f} s; every bench user's password: {benchseed.BENCH_PASSWORD}"
    )


@directory_cli.command("import")
@click.argument("source")
@click.option("--feed", help="The feed's name, kept with each service (default: SOURCE as given).")
@click.option(
    "--partial",
    is_flag=True,
    help="Leave the feed's services missing from SOURCE as they are "
    "(by default a full import marks them inactive).",
)
def import_directory(source: str, feed: str | None, partial: bool) -> None:
    """Import services from an Open Referral UK (HSDS) JSON file or feed URL
    (every page of an ORUK API `/services` answer). Records that cannot be
    read are skipped with the reason; a source that is not a list of
    services changes nothing and exits 1."""
    from referral_app.services import directory_import

    try:
        records = directory_import.read_feed(source)
    except directory_import.FeedError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    with command_transaction():
        report = directory_import.import_services(records, feed=feed or source, full=not partial)
    click.echo(
        f"imported {report.feed}: {report.created} new, {report.updated} updated, "
        f"{report.deactivated} marked inactive, {len(report.skipped)} skipped"
    )
    for skipped in report.skipped:
        shown = f" (id {skipped.source_id})" if skipped.source_id else ""
        click.echo(f"  skipped record {skipped.position}{shown}: {skipped.reason}")


def register(app: Flask) -> None:
    from referral_app.openapi_contract import openapi_cli

    app.cli.add_command(openapi_cli)
    app.cli.add_command(bench_seed)
    app.cli.add_command(audit_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(seed_demo)
