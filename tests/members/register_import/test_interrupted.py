"""A dry run or an import whose task fails for good is marked stopped with
the reason; one that stalls is shown as stalled. Staff carry on with one
button, safe to press twice: rows already written are not written again."""

import datetime

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from members.models import AuditEntry, ImportRow, Membership, RegisterImport, User
from members.register_import import services
from tests.factories import team_member

from .test_import import checked, snapshot
from .world import csv_bytes, row

pytestmark = pytest.mark.django_db
Status = RegisterImport.Status


@pytest.fixture
def staff(db):
    return team_member("Membership team")


@pytest.fixture(autouse=True)
def failures_stay_in_the_task():
    """As on a worker: a task's error (and its retries) stay in the task,
    rather than reaching the caller as the tests' eager mode does."""
    from igpm.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def five_rows() -> bytes:
    return csv_bytes([row(f"Person {i}", f"p{i}@example.org", str(6000 + i)) for i in range(5)])


def test_an_import_that_fails_for_good_stops_with_the_reason_and_carries_on_once(
    staff, staff_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.REGISTER_IMPORT_BATCH = 2
    register_import = checked(staff, five_rows(), django_capture_on_commit_callbacks)
    real = services._apply_batch
    calls = []

    def second_batch_always_fails(register_import, batch, grades):
        calls.append(batch[0].line)
        if batch[0].line == 4:
            raise OperationalError("the database went away")
        return real(register_import, batch, grades)

    monkeypatch.setattr(services, "_apply_batch", second_batch_always_fails)
    start = reverse("members:staff_register_import_start", args=[register_import.pk])
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(start, {})
    register_import.refresh_from_db()
    # Tried again (three retries), then given up: not "being imported" for ever.
    assert calls.count(4) == 4
    assert register_import.status == Status.INTERRUPTED
    assert register_import.interrupted_step == Status.IMPORTING
    assert "the database went away" in register_import.problem
    assert Membership.objects.count() == 2  # the first batch was written
    assert AuditEntry.objects.filter(action="register_import_interrupted").count() == 1

    page = staff_client.get(register_import.get_absolute_url()).content.decode()
    assert "The import stopped before it finished" in page
    assert "the database went away" in page
    assert "Carry on from where it stopped" in page

    monkeypatch.setattr(services, "_apply_batch", real)
    calls.clear()
    resume = reverse("members:staff_register_import_resume", args=[register_import.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(resume).status_code == 302
    register_import.refresh_from_db()
    assert register_import.status == Status.IMPORTED
    assert register_import.import_counts["created"] == 5
    assert Membership.objects.count() == 5
    # Each member written once: one "imported" entry each, none twice.
    assert AuditEntry.objects.filter(action="imported").count() == 5
    before = snapshot()

    # Pressed again (a second tab, a double click): refused, nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        again = staff_client.post(resume, follow=True)
    assert "nothing to carry on" in again.content.decode()
    assert snapshot() == before
    resumed = AuditEntry.objects.filter(action="register_import_resumed")
    assert resumed.count() == 1 and resumed.get().actor == staff


def test_a_dry_run_that_fails_for_good_stops_and_starts_again(
    staff, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(cleans):
        raise RuntimeError("judge fell over")

    judge = services.rows_judge
    monkeypatch.setattr(services, "rows_judge", broken)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("members:staff_register_imports"),
            {"file": __import__("tests.members.register_import.world", fromlist=["upload"])
             .upload(five_rows())},
        )  # fmt: skip
    register_import = RegisterImport.objects.get()
    assert register_import.status == Status.INTERRUPTED
    assert register_import.interrupted_step == Status.CHECKING
    page = staff_client.get(register_import.get_absolute_url()).content.decode()
    assert "The dry run stopped before it finished" in page and "judge fell over" in page

    monkeypatch.setattr(services, "rows_judge", judge)
    resume = reverse("members:staff_register_import_resume", args=[register_import.pk])
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(resume)
    register_import.refresh_from_db()
    assert register_import.status == Status.CHECKED
    assert register_import.check_counts["create"] == 5
    assert ImportRow.objects.filter(register_import=register_import).count() == 5
    assert not User.objects.filter(email__startswith="p").exists()


def test_work_with_no_progress_for_a_while_is_shown_as_stalled_and_can_carry_on(
    staff, staff_client, settings, django_capture_on_commit_callbacks
):
    settings.REGISTER_IMPORT_STALLED_MINUTES = 15
    register_import = checked(staff, five_rows(), django_capture_on_commit_callbacks)
    # Started, but the worker died before its first batch: the task is gone.
    services.register_import_start(
        register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
    )
    resume = reverse("members:staff_register_import_resume", args=[register_import.pk])
    url = register_import.get_absolute_url()
    assert "has stalled" not in staff_client.get(url).content.decode()
    # Still moving: carrying on is refused (no second task on the same rows).
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(resume)
    assert not Membership.objects.exists()

    RegisterImport.objects.filter(pk=register_import.pk).update(
        progress_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    progress = staff_client.get(
        reverse("members:staff_register_import_progress", args=[register_import.pk])
    ).json()
    assert progress["busy"] and progress["stalled"]
    page = staff_client.get(url).content.decode()
    assert "The import has stalled" in page and "Carry on from where it stopped" in page
    assert "register_import.js" not in page  # the page stops polling
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(resume)
    register_import.refresh_from_db()
    assert register_import.status == Status.IMPORTED
    assert Membership.objects.count() == 5
    entry = AuditEntry.objects.get(action="register_import_resumed")
    assert entry.data["stalled"] is True


def test_staff_outside_the_membership_team_cannot_carry_on(
    client, staff, django_capture_on_commit_callbacks
):
    register_import = checked(staff, five_rows(), django_capture_on_commit_callbacks)
    services.register_import_interrupted(import_id=register_import.pk, reason="x")
    register_import.refresh_from_db()
    assert register_import.status == Status.CHECKED  # only busy work is marked stopped
    client.force_login(team_member("Events team"))
    resume = reverse("members:staff_register_import_resume", args=[register_import.pk])
    assert client.post(resume).status_code == 403


def test_a_corrected_import_deadlocked_by_a_payment_is_retried_complete_and_correct(
    staff, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The first attempt at Ann's batch writes, then dies of a deadlock
    with her renewal (rolled back whole); the renewal commits; the task's
    retry writes the batch again, sees the payment and keeps it, and goes
    on to the other batches. Every row ends written once."""
    from members.billing.services.invoices import InvoiceDetails, invoice_request
    from members.billing.services.payments import payment_fulfil

    from .test_import import imported
    from .world import day, good_rows

    settings.REGISTER_IMPORT_BATCH = 1
    rows = good_rows()
    rows[0][5] = day(5)  # Ann is due to renew
    imported(staff, csv_bytes(rows), django_capture_on_commit_callbacks)
    ann = Membership.objects.get(number="IGPM-005001")
    corrected = [list(r) for r in rows]
    corrected[0][5] = day(40)  # the register moves Ann's paid-up date
    corrected[1][7] = "07700 900456"  # Bob's phone
    corrected[2][1] = "cat.cooper@example.org"  # Cat's address
    register_import = checked(staff, csv_bytes(corrected), django_capture_on_commit_callbacks)
    assert register_import.check_counts["update"] == 3

    real = services._apply_batch
    attempts = []

    def deadlocked_once(register_import, batch, grades):
        attempts.append(batch[0].line)
        if attempts == [2]:
            real(register_import, batch, grades)  # written, then lost
            raise OperationalError("deadlock detected")
        if attempts == [2, 2]:
            # Between the attempts the renewal that won the deadlock commits.
            with django_capture_on_commit_callbacks(execute=True):
                invoice = invoice_request(
                    membership=ann, by=staff,
                    details=InvoiceDetails(organisation="Riverside Surgery", address="",
                                           accounts_email="", purchase_order=""),
                ).payment  # fmt: skip
            payment_fulfil(payment_id=invoice.pk)
        return real(register_import, batch, grades)

    monkeypatch.setattr(services, "_apply_batch", deadlocked_once)
    with django_capture_on_commit_callbacks(execute=True):
        services.register_import_start(
            register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
        )
    register_import.refresh_from_db()
    assert attempts == [2, 2, 3, 4]  # Ann's batch retried, then the rest
    assert register_import.status == Status.IMPORTED
    assert register_import.import_counts == {
        "created": 0, "updated": 2, "unchanged": 0, "left_out": 0, "refused": 1,
    }  # fmt: skip
    ann.refresh_from_db()
    renewed = ann.periods.order_by("ends_on").last()
    assert ann.expires_on == renewed.ends_on  # the payment's year, not the register's
    assert ann.periods.count() == 2
    assert "paid on the portal" in register_import.rows.get(line=2).errors[0]
    assert User.objects.get(email="bob@example.org").profile.phone == "07700 900456"
    cat = User.objects.get(email="cat.cooper@example.org")
    assert cat.emailaddress_set.get().email == "cat.cooper@example.org"
    # The lost attempt left nothing: one audit entry per member updated.
    updated = AuditEntry.objects.filter(action="import_updated")
    assert sorted(updated.values_list("subject__email", flat=True)) == [
        "bob@example.org", "cat.cooper@example.org",
    ]  # fmt: skip
