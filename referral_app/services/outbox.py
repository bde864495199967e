"""Sending the e-mail outbox over SMTP, with retries and back-off.

Each message is committed as sent on its own, so a crash mid-run never sends
the earlier ones twice; a failed attempt is counted and retried later
(30 s, 1, 2, 4 ... minutes, at most an hour apart), up to OUTBOX_MAX_ATTEMPTS.
On PostgreSQL, rows are claimed with FOR UPDATE SKIP LOCKED so several
senders never send the same message."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from referral_app.extensions import db
from referral_app.models import OutboxEmail, utcnow

BATCH = 50


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    pending: int = 0


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _deliver(message: OutboxEmail) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=10) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(email)


def send_pending() -> SendReport:
    """Send what is due. Commits after each message (this is its own boundary)."""
    report = SendReport()
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    while True:
        now = utcnow()
        query = (
            select(OutboxEmail)
            .where(
                OutboxEmail.sent_at.is_(None),
                OutboxEmail.next_attempt_at <= now,
                OutboxEmail.attempts < max_attempts,
            )
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(1)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        message = db.session.scalar(query)
        if message is None:
            db.session.commit()
            break
        message.attempts += 1
        try:
            _deliver(message)
        except (TimeoutError, OSError, smtplib.SMTPException) as error:
            message.last_error = f"{type(error).__name__}: {str(error)[:400]}"
            message.next_attempt_at = now + backoff(message.attempts)
            report.failed += 1
        else:
            message.sent_at = utcnow()
            message.last_error = None
            report.sent += 1
        db.session.commit()
        if report.sent + report.failed >= BATCH * 20:
            break
    report.pending = len(
        db.session.scalars(
            select(OutboxEmail.id).where(
                OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < max_attempts
            )
        ).all()
    )
    return report
