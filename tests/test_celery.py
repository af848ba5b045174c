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
