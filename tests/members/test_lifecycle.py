"""Dates, grace and lapse, reminders: with a frozen clock."""

import datetime
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from members.billing.services.membership import period_end
from members.billing.services.notices import notices_send, notices_sweep
from members.billing.services.payments import payment_create, payment_fulfil
from members.models import AuditEntry, Membership, MembershipNotice
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
D = datetime.date
LONDON_NOON = "{}T12:00:00+00:00"


def pay(membership) -> Membership:
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=payment.pk)
    membership.refresh_from_db()
    return membership


def on(day: D):
    return time_machine.travel(LONDON_NOON.format(day.isoformat()), tick=False)


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (D(2026, 11, 23), D(2027, 11, 22)),
        (D(2027, 3, 1), D(2028, 2, 28)),  # the year ahead holds 29 February
        (D(2028, 2, 29), D(2029, 2, 28)),  # a leap day start
        (D(2028, 3, 1), D(2029, 2, 28)),
        (D(2026, 1, 1), D(2026, 12, 31)),
    ],
)
def test_a_period_is_twelve_months_with_no_gap_or_overlap(starts, ends):
    assert period_end(starts) == ends
    following = ends + datetime.timedelta(days=1)
    assert period_end(following) > ends


def test_joining_starts_today():
    with on(D(2026, 11, 23)):
        membership = pay(MembershipFactory())
    assert membership.expires_on == D(2027, 11, 22)
    assert membership.periods.get().starts_on == D(2026, 11, 23)


def test_renewing_early_extends_from_the_current_expiry():
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    assert membership.expires_on == D(2027, 1, 9)
    with on(D(2026, 11, 15)):  # 55 days before expiry: renewal is open
        assert membership.renewal_open()
        membership = pay(membership)
    assert membership.expires_on == D(2028, 1, 9)
    assert [p.starts_on for p in membership.periods.all()] == [D(2026, 1, 10), D(2027, 1, 10)]


def test_renewal_is_not_open_more_than_sixty_days_out():
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    with on(D(2026, 11, 9)):  # 61 days before expiry
        assert not membership.renewal_open()
        assert not membership.payable
    with on(D(2026, 11, 10)):
        assert membership.renewal_open()


def test_renewing_in_grace_loses_no_days():
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    with on(D(2027, 1, 25)):
        notices_sweep(enqueue=lambda ids: None)
        membership.refresh_from_db()
        assert membership.status == Membership.Status.IN_GRACE
        assert membership.in_good_standing
        membership = pay(membership)
    assert membership.status == Membership.Status.ACTIVE
    assert membership.expires_on == D(2028, 1, 9)


def test_rejoining_after_a_lapse_starts_on_the_day_and_keeps_the_number():
    with on(D(2024, 2, 29)):
        membership = pay(MembershipFactory())
        number = membership.number
    assert membership.expires_on == D(2025, 2, 28)
    with on(D(2025, 6, 1)):
        notices_sweep(enqueue=lambda ids: None)
        membership.refresh_from_db()
        assert membership.status == Membership.Status.LAPSED
        assert membership.payable
        membership = pay(membership)
    assert membership.expires_on == D(2026, 5, 31)
    assert membership.number == number


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2027, 1, 9), "active"),  # the last paid day
        (D(2027, 1, 10), "in_grace"),
        (D(2027, 2, 8), "in_grace"),  # 30th day of grace
        (D(2027, 2, 9), "lapsed"),
    ],
)
def test_grace_lasts_thirty_days_then_the_membership_lapses(today, status):
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    with on(today):
        notices_sweep(enqueue=lambda ids: None)
    membership.refresh_from_db()
    assert membership.status == status
    if status != "active":
        entry = AuditEntry.objects.filter(action="status_changed").latest("pk")
        assert entry.to_state == status
        assert entry.actor is None
        assert entry.actor_label == "system"


def sweep_on(day: D) -> list[int]:
    queued: list[int] = []
    with on(day):
        notices_sweep(enqueue=queued.extend)
    return queued


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (D(2026, 11, 10), "renewal_60"),
        (D(2026, 12, 10), "renewal_30"),
        (D(2027, 1, 2), "renewal_7"),
        (D(2027, 1, 10), "expired"),
        (D(2027, 2, 9), "lapsed"),
    ],
)
def test_each_notice_is_sent_once_however_often_the_sweep_runs(day, kind):
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    mail.outbox.clear()
    first = sweep_on(day)
    assert first, "the first sweep records the notice"
    assert sweep_on(day) == []
    notices_send(notice_ids=first)
    notices_send(notice_ids=first)  # a duplicate task sends nothing
    notice = MembershipNotice.objects.get()
    assert notice.kind == kind
    assert notice.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [membership.user.email]
    assert "/membership/" in mail.outbox[0].body


def test_a_membership_renewed_before_a_reminder_gets_none():
    with on(D(2026, 1, 10)):
        membership = pay(MembershipFactory())
    with on(D(2026, 11, 20)):
        pay(membership)
    assert sweep_on(D(2026, 12, 10)) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_record_and_send_each_notice_once():
    with on(D(2026, 1, 10)):
        memberships = [pay(MembershipFactory()) for _ in range(30)]
    mail.outbox.clear()  # the receipts
    queued: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait()
            with on(D(2027, 1, 2)):
                ids = []
                notices_sweep(enqueue=ids.extend)
                notices_send(notice_ids=ids)
            with lock:
                queued.extend(ids)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(queued) == sorted(set(queued))
    assert MembershipNotice.objects.filter(kind="renewal_7").count() == len(memberships)
    assert len(queued) == len(memberships)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.user.email for m in memberships)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_move_each_membership_once():
    with on(D(2026, 1, 10)):
        memberships = [pay(MembershipFactory()) for _ in range(20)]
    barrier = threading.Barrier(3)

    def sweep() -> None:
        try:
            barrier.wait()
            with on(D(2027, 1, 12)):
                notices_sweep(enqueue=lambda ids: None)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Membership.objects.filter(status="in_grace").count() == len(memberships)
    assert AuditEntry.objects.filter(action="status_changed").count() == len(memberships)
