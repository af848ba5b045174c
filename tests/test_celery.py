import time
from datetime import timedelta

import pytest
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from igpm.celery import app as celery_app
from members.models import Session
from members.sessions import SessionStore
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


QUEUES = {"celery", "emails", "pdfs", "sweeps"}
APPS = {"members", "accreditation", "events"}


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


def test_every_route_names_a_real_task_and_a_declared_queue():
    from django.conf import settings

    celery_app.loader.import_default_modules()
    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == QUEUES
    for task_name, route in settings.CELERY_TASK_ROUTES.items():
        assert task_name in celery_app.tasks, task_name
        assert route["queue"] in QUEUES, task_name


def test_every_task_of_the_portal_is_routed_on_purpose():
    """A new task lands on a queue chosen for it, not on the default by
    accident (a beat job there would wait behind every other task)."""
    from django.conf import settings

    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if name.split(".")[0] in APPS}
    assert ours, "no task of the portal was registered"
    assert sorted(ours - set(settings.CELERY_TASK_ROUTES)) == []


def test_tasks_go_to_the_queue_for_their_kind_of_work():
    from django.conf import settings

    assert queue_of("members.tasks.membership_decision_email_task") == "emails"
    assert queue_of("events.tasks.registration_email_task") == "emails"
    assert queue_of("accreditation.tasks.certificate_render_task") == "pdfs"
    assert queue_of("members.tasks.data_export_build_task") == "pdfs"
    # Every scheduled job is a sweep: beat's work never queues behind emails.
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queue_of(entry["task"]) == "sweeps", entry["task"]
    assert queue_of("some.task.nobody.routed") == "celery"


def test_a_worker_started_without_queues_consumes_every_queue(celery_worker):
    """bin/run's single worker is started with no -Q: it must still run the
    emails, PDFs and sweeps (the tests above on a real worker use the
    sweeps and pdfs queues)."""
    consuming = {queue.name for queue in celery_worker.consumer.task_consumer.queues}
    assert consuming == QUEUES


def test_a_routed_task_is_queued_once_on_its_own_queue(transactional_db):
    """Published to Redis with every queue declared and no worker running:
    the one message sits on the sweeps queue and nowhere else."""
    import redis
    from django.conf import settings

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(*QUEUES)
    try:
        # Every queue declared and bound, as the workers do when they start.
        with celery_app.connection_for_write() as connection:
            for queue in celery_app.amqp.queues.values():
                queue(connection.default_channel).declare()
        clear_expired_sessions_task.delay()
        assert {name: broker.llen(name) for name in QUEUES} == {
            "celery": 0,
            "emails": 0,
            "pdfs": 0,
            "sweeps": 1,
        }
    finally:
        broker.delete(*QUEUES)
        celery_app.conf.task_always_eager = eager


seen_request_ids: list[str] = []


@shared_task
def request_id_probe_task() -> None:
    from igpm.logs import request_id

    seen_request_ids.append(request_id())


def test_a_task_logs_under_the_id_of_the_request_that_queued_it(celery_worker):
    from igpm.logs import _request_id

    seen_request_ids.clear()
    token = _request_id.set("req-queued-here")
    try:
        request_id_probe_task.delay()
    finally:
        _request_id.reset(token)
    request_id_probe_task.delay()  # queued outside any request

    deadline = time.monotonic() + 20
    while len(seen_request_ids) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    first, second = seen_request_ids
    assert first == "req-queued-here"
    # Nothing to inherit: the task's own id (a UUID), never "-".
    assert len(second) == 36


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
