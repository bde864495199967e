"""Background work on one job runner (huey), with retries and schedules:
the audit checkpoint every minute (sealing what waits first, as a safety
net: the sequencer, `flask audit seal --watch`, does the sealing), overdue
notices and the e-mail outbox every minute, forgetting expired page state
hourly, retention nightly.

Storage: Redis when REDIS_URL is set (production: every host's consumer
shares one queue and one schedule), otherwise a SQLite file in the instance
folder (the embedded default). Run the consumer beside the web server:

    .venv/bin/huey_consumer referral_app.jobs.huey

(`make run` starts one). Each task runs in an application context of its
own, commits once, and is retried on failure.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from flask import Flask, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("referral_app.jobs")
RETRIES = 3
RETRY_DELAY = 10  # seconds


def _storage() -> Huey:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("referrals", url=redis_url)
    folder = os.environ.get("JOBS_DIR") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance"
    )
    os.makedirs(folder, exist_ok=True)
    return SqliteHuey("referrals", filename=os.path.join(folder, "jobs.db"))


huey = _storage()


@cache
def _app() -> Flask:
    """The application the consumer's tasks run in, built once per process."""
    from referral_app import create_app

    return create_app()


def in_app(work: Callable[[], Any]) -> Any:
    """Run `work` in an application context (the current one, when a caller
    such as a test has one) and commit what it did; roll back and re-raise
    (so huey retries) on failure."""
    from referral_app.extensions import db

    def run() -> Any:
        try:
            result = work()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return result

    if has_app_context():
        return run()
    with _app().app_context():
        try:
            return run()
        finally:
            db.session.remove()


@huey.periodic_task(crontab(minute="*"), retries=RETRIES, retry_delay=RETRY_DELAY)
def audit_checkpoint() -> int:
    """Seal what is waiting (harmless beside the sequencer: one sealer at a
    time holds the chain lock, the other seals nothing), then sign the audit
    chain's head into the checkpoint store."""
    from referral_app.extensions import db
    from referral_app.services import audit_sequencer, checkpoints

    try:
        in_app(lambda: audit_sequencer.seal(db.session))
    except DBAPIError as error:
        # A consumer running as the web role may not update the trail; the
        # sequencer seals, and the checkpoint still signs the sealed head.
        log.warning("audit_checkpoint: not sealed first (%s)", type(error.orig).__name__)
    return int(in_app(lambda: checkpoints.write_checkpoint(db.session).seq))


@huey.periodic_task(crontab(minute="*"), retries=RETRIES, retry_delay=RETRY_DELAY)
def notices_and_outbox() -> None:
    """Overdue triage notices, then the e-mails that are due."""
    from referral_app.services import notifications, outbox

    in_app(notifications.notify_overdue)
    in_app(outbox.send_pending)


@huey.periodic_task(crontab(minute="*"), retries=RETRIES, retry_delay=RETRY_DELAY)
def deliver_events() -> int:
    """Events written since the last run sequenced (the feed's order), then
    the webhooks that are due sent: each subscription's in order, a failed
    one retried with back-off, a subscription failing too long disabled
    (services/event_delivery.py). Returns how many were delivered."""
    from referral_app.services import event_delivery

    return int(in_app(event_delivery.run).delivered)


@huey.periodic_task(crontab(minute="0", hour="7"), retries=RETRIES, retry_delay=RETRY_DELAY)
def actions_due() -> int:
    """The morning's notices: actions due tomorrow, and those now overdue."""
    from referral_app.services import action_notices

    return int(in_app(action_notices.notify_due))


@huey.periodic_task(crontab(minute="10", hour="7"), retries=RETRIES, retry_delay=RETRY_DELAY)
def agreements_review_due() -> int:
    """The morning's notices: information sharing agreements within 30 days
    of their review date, to their parties' managers (once per review date;
    the e-mails go with the outbox)."""
    from referral_app.services import agreement_reviews

    return int(in_app(agreement_reviews.notify_reviews_due))


@huey.periodic_task(crontab(minute="7"), retries=RETRIES, retry_delay=RETRY_DELAY)
def forget_page_state() -> None:
    """Drop what is kept only for a while: sent-form records past their day,
    expired saved searches (they hold names), Idempotency-Key records past
    their 24 hours."""
    from referral_app.services import form_submissions, referrals, saved_searches

    in_app(form_submissions.forget_old)
    in_app(saved_searches.forget_expired)
    in_app(referrals.forget_expired_idempotency)


@huey.periodic_task(crontab(minute="30", hour="2"), retries=RETRIES, retry_delay=RETRY_DELAY)
def retention_apply() -> None:
    """Anonymise what is past retention (the nightly run of `flask retention apply`)."""
    from referral_app.services import retention

    in_app(lambda: retention.apply(dry_run=False))
