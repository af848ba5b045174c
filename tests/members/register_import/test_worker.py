"""The register import on a real Celery worker and real PostgreSQL: the
dry run, the import and the invitations go through Redis; membership
numbers stay unique when payments and an import take them at once."""

import threading
import time

import pytest
from django.core import mail
from django.db import close_old_connections, transaction

from members.billing.services.numbers import membership_number_next, membership_numbers_reserve
from members.models import ClaimInvitation, Membership, MembershipNumberSequence, RegisterImport
from members.register_import.services import register_import_start, register_import_upload
from tests.factories import team_member
from tests.test_celery import celery_worker  # noqa: F401  (the real worker fixture)

from .world import csv_bytes, good_rows


def wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_dry_run_import_and_invitations_run_on_a_real_worker(celery_worker):  # noqa: F811
    staff = team_member("Membership team")
    register_import = register_import_upload(
        name="register.csv", content=csv_bytes(good_rows()), by=staff
    )

    def status():
        return RegisterImport.objects.get(pk=register_import.pk).status

    assert wait_for(lambda: status() == RegisterImport.Status.CHECKED)
    register_import.refresh_from_db()
    register_import_start(
        register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
    )
    assert wait_for(lambda: status() == RegisterImport.Status.IMPORTED)
    assert Membership.objects.filter(number__startswith="IGPM-0050").count() == 3
    assert wait_for(lambda: ClaimInvitation.objects.filter(sent_at__isnull=False).count() == 3)
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@example.org",
        "bob@example.org",
        "cat@example.org",
    ]


@pytest.mark.django_db(transaction=True)
def test_numbers_taken_at_once_by_payments_and_an_import_never_repeat():
    MembershipNumberSequence.objects.update_or_create(pk=1, defaults={"last": 0})
    taken, errors = [], []
    barrier = threading.Barrier(21)

    def take():
        try:
            barrier.wait()
            with transaction.atomic():
                number = membership_number_next()
                time.sleep(0.01)  # hold the lock a moment, as a payment does
            taken.append(number)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()

    def reserve():
        try:
            barrier.wait()
            with transaction.atomic():
                membership_numbers_reserve(highest=500)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take) for _ in range(20)]
    threads.append(threading.Thread(target=reserve))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(taken)) == 20
    values = sorted(int(n.removeprefix("IGPM-")) for n in taken)
    # Numbers taken before the reservation are below it, the rest after it:
    # none lands in 1..500 after the import moved the sequence on.
    before = [v for v in values if v <= 500]
    after = [v for v in values if v > 500]
    assert before == list(range(1, len(before) + 1))
    assert after == list(range(501, 501 + len(after)))
    assert MembershipNumberSequence.objects.get().last == max(values[-1], 500)


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_numbers_taken_at_once_repeat(monkeypatch):
    """The negative control: moving the sequence on by reading it and then
    writing it back, rather than in one locking statement, hands out one
    number several times."""
    from members.billing.services import numbers

    MembershipNumberSequence.objects.update_or_create(pk=1, defaults={"last": 0})

    def read_then_write():
        last = MembershipNumberSequence.objects.get(pk=1).last
        time.sleep(0.05)  # everyone reads before anyone writes
        MembershipNumberSequence.objects.filter(pk=1).update(last=last + 1)
        return last + 1

    monkeypatch.setattr(numbers, "_advance", read_then_write)
    taken = []
    barrier = threading.Barrier(10)

    def take():
        try:
            barrier.wait()
            with transaction.atomic():
                taken.append(membership_number_next())
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 10
    assert len(set(taken)) < 10


def test_on_a_real_worker_an_import_that_keeps_failing_stops_and_carries_on(
    celery_worker,  # noqa: F811
    monkeypatch,
):
    """The retries run on the worker through Redis; once they are spent the
    import says it stopped, and carrying on finishes it."""
    from django.db import OperationalError

    from members.register_import import services

    staff = team_member("Membership team")
    register_import = register_import_upload(
        name="register.csv", content=csv_bytes(good_rows()), by=staff
    )

    def status():
        return RegisterImport.objects.get(pk=register_import.pk).status

    assert wait_for(lambda: status() == RegisterImport.Status.CHECKED)
    real = services._apply_batch
    attempts = []

    def always_deadlocked(*args):
        attempts.append(1)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(services, "_apply_batch", always_deadlocked)
    register_import.refresh_from_db()
    register_import_start(
        register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
    )
    assert wait_for(lambda: status() == RegisterImport.Status.INTERRUPTED, seconds=60)
    assert len(attempts) == 4  # the first try and three retries
    register_import.refresh_from_db()
    assert "deadlock detected" in register_import.problem
    assert not Membership.objects.exists()

    monkeypatch.setattr(services, "_apply_batch", real)
    from members.register_import.services import register_import_resume

    register_import_resume(register_import=register_import, by=staff)
    assert wait_for(lambda: status() == RegisterImport.Status.IMPORTED)
    assert Membership.objects.filter(number__startswith="IGPM-0050").count() == 3
