import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from igpm.celery import app as celery_app
from members.tasks import clear_expired_sessions_task


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker thread consuming from the real Redis broker."""
    assert celery_app.conf.broker_url.startswith("redis://")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker
    celery_app.conf.task_always_eager = eager


def test_a_queued_task_runs_on_a_real_worker(celery_worker):
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )

    clear_expired_sessions_task.delay()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not Session.objects.filter(session_key=expired.session_key).exists():
            break
        time.sleep(0.1)
    assert not Session.objects.filter(session_key=expired.session_key).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()


def test_a_data_export_is_built_and_emailed_by_a_real_worker(celery_worker):
    from django.core import mail

    from members.models import DataExport
    from members.privacy.services import data_export_request
    from tests.factories import ProfileFactory

    member = ProfileFactory().user
    export = data_export_request(user=member)  # queued on commit, to Redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        export.refresh_from_db()
        if export.emailed_at is not None:
            break
        time.sleep(0.1)
    assert export.status == DataExport.Status.READY
    assert export.file.name.endswith(".zip")
    assert [message.to for message in mail.outbox] == [[member.email]]
    assert export.token in mail.outbox[0].body


def test_a_fresh_worker_registers_every_scheduled_and_billing_task_by_its_name():
    """A worker knows only what Celery's autodiscovery imports. Billing's tasks
    moved to members.billing.tasks but keep the names they were queued under
    (members.tasks.*), so beat's entries and messages sent before a deploy
    still find them."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django, json; django.setup()\n"
        "from igpm.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(json.dumps(sorted(app.tasks)))\n"
    )
    found = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
        cwd=settings.BASE_DIR,
    )
    registered = set(json.loads(found.stdout.strip().splitlines()[-1]))
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - registered == set()
    billing = {
        "members.tasks.membership_notices_sweep_task",
        "members.tasks.membership_notices_send_task",
        "members.tasks.payment_receipt_email_task",
        "members.tasks.invoice_email_task",
        "members.tasks.membership_decision_email_task",
        "members.tasks.checkout_sessions_expire_task",
        "members.tasks.payment_notice_send_task",
        "members.tasks.stripe_reconcile_task",
    }
    assert billing - registered == set()
