"""The ODS import queued from the admin runs on a real worker, from the
real Redis broker, reading the files the web request stored."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from igpm.celery import app as celery_app
from members.models import NHSOrganisation, OdsImport
from members.organisations.ods_import import import_progress, ods_import_queue
from tests.factories import StaffFactory
from tests.members.ods_world import month_one, north_east_board


@pytest.fixture
def celery_worker(transactional_db):
    assert celery_app.conf.broker_url.startswith("redis://")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker
    celery_app.conf.task_always_eager = eager


def test_an_uploaded_import_runs_on_a_real_worker_and_reports_progress(celery_worker):
    north_east_board()
    administrator = StaffFactory(mfa=True)
    administrator.groups.add(Group.objects.get_or_create(name="Administrators")[0])
    practices, pcns = month_one()
    record = ods_import_queue(
        practices_file=SimpleUploadedFile("epraccur.csv", practices),
        pcn_file=SimpleUploadedFile("pcns.csv", pcns),
        by=administrator,
    )  # queued on commit (autocommit here), to Redis

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record.refresh_from_db()
        if record.is_finished:
            break
        time.sleep(0.2)
    assert record.status == OdsImport.Status.DONE, record.error
    assert record.report["practices"]["added"] == 5
    assert record.started_by_label == administrator.email
    assert NHSOrganisation.objects.get(code="A81001").pcn.code == "U11111"
    assert import_progress(record)["percent"] == 100
