"""Background work runs on huey: each job on its schedule, and a real
consumer process takes a job off the queue and does it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from referral_app import jobs
from referral_app.extensions import db
from referral_app.services import checkpoints

ROOT = Path(__file__).resolve().parents[1]


def periodic(name: str):
    for task_class in jobs.huey._registry._periodic_tasks:
        if task_class.__name__ == name:
            return task_class
    raise AssertionError(f"no periodic task {name}")


def runs_at(name: str, when: datetime) -> bool:
    return bool(periodic(name)().validate_datetime(when))


def test_the_schedules():
    every_minute = [datetime(2026, 11, 29, 17, minute) for minute in range(60)]
    assert all(runs_at("audit_checkpoint", at) for at in every_minute)
    assert all(runs_at("notices_and_outbox", at) for at in every_minute)
    assert [at.minute for at in every_minute if runs_at("forget_page_state", at)] == [7]
    assert runs_at("retention_apply", datetime(2026, 11, 29, 2, 30))
    assert not runs_at("retention_apply", datetime(2026, 11, 29, 14, 30))


def test_the_checkpoint_job_signs_the_head(app, factory, tmp_path):
    factory.user()
    before = app.config["AUDIT_CHECKPOINT_DIR"]
    app.config["AUDIT_CHECKPOINT_DIR"] = str(tmp_path)
    try:
        with app.app_context():
            seq = jobs.audit_checkpoint.call_local()
            trusted, problems = checkpoints.latest_trusted()
            assert problems == []
            assert trusted is not None
            assert trusted.seq == seq > 0
            assert checkpoints.check_chain(db.session).ok
    finally:
        app.config["AUDIT_CHECKPOINT_DIR"] = before


def test_a_consumer_process_runs_a_queued_job(live_app, fresh_database_url, tmp_path):
    """The queue in a SQLite file, a huey_consumer over it (as `make run`
    starts one), and the checkpoint job enqueued: its line appears."""
    from tests.factories import Factory

    Factory(live_app).user()
    store = tmp_path / "checkpoints"
    environment = {
        **os.environ,
        "JOBS_DIR": str(tmp_path),
        "DATABASE_URL": fresh_database_url,
        "AUDIT_CHECKPOINT_DIR": str(store),
        "APP_ENV": "development",
    }
    environment.pop("REDIS_URL", None)
    # Calling a task enqueues it (in the queue JOBS_DIR points at).
    enqueue = "from referral_app import jobs; jobs.audit_checkpoint()"
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", enqueue], cwd=ROOT, env=environment, check=True
    )
    consumer = subprocess.Popen(  # noqa: S603 - our own consumer and arguments
        [str(Path(sys.executable).parent / "huey_consumer"), "referral_app.jobs.huey", "-q"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (store / checkpoints.FILE_NAME).exists():
            time.sleep(0.2)
    finally:
        consumer.terminate()
        output = consumer.communicate(timeout=10)[0].decode()
    assert (store / checkpoints.FILE_NAME).exists(), output
    line = (store / checkpoints.FILE_NAME).read_text().splitlines()[0]
    assert '"seq":' in line
