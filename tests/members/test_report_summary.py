"""The summary days behind the staff reports' movement and retention
figures (``members.reports.summary``) always equal the figures worked out
from scratch from the paid years (``members.reports.renewals``): after any
sequence of joins, renewals, lapses, refunds, cancellations and erasures
through the services, and after a rebuild."""

import datetime
import io
import random
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from members.billing.services.membership import membership_override_status
from members.billing.services.notices import notices_sweep
from members.billing.services.payments import payment_create, payment_fulfil
from members.billing.services.refunds import refund_record
from members.models import Membership, MembershipDay, Payment, Refund
from members.privacy.erase import member_erase
from members.reports import renewals, summary
from tests.factories import MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = datetime.date(2023, 11, 1)


def days_table() -> list[tuple]:
    return list(
        MembershipDay.objects.exclude(
            joined=0, renewed=0, rejoined=0, lapsed=0, ended=0, ended_renewed=0
        ).values_list("day", *summary.FIELDS)
    )


def assert_summary_equals_scratch(today: datetime.date) -> None:
    assert summary.movement_rows(today=today) == renewals.movement_rows(today=today)
    assert summary.retention_rows(today=today) == renewals.retention_rows(today=today)


def at(day: datetime.date):
    return time_machine.travel(
        datetime.datetime.combine(day, datetime.time(11), tzinfo=LONDON), tick=False
    )


def pay(membership: Membership) -> None:
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    payment_fulfil(payment_id=payment.pk)


@pytest.mark.parametrize("seed", range(8))
def test_the_summary_equals_the_figures_from_scratch_after_any_history(seed):
    rng = random.Random(seed)  # noqa: S311 (a repeatable history, not a secret)
    staff = StaffFactory()
    memberships = [MembershipFactory() for _ in range(4)]
    erased: set[int] = set()
    day = START
    for _ in range(28):
        # Days to weeks pass: years run out, grace ends, members lapse.
        day += datetime.timedelta(days=rng.choice([3, 20, 45, 120, 300]))
        with at(day):
            # The daily sweep moves members into grace and lapses them.
            notices_sweep(enqueue=lambda ids: None)
            membership = Membership.objects.get(pk=rng.choice(memberships).pk)
            action = rng.choices(["pay", "refund", "cancel", "erase"], weights=[8, 2, 1, 1])[0]
            if membership.pk in erased:
                continue
            if action == "pay" and membership.payable:
                pay(membership)
            elif action == "refund":
                paid = membership.payments.filter(status=Payment.Status.PAID).order_by("?")
                payment = paid.first()
                if payment is not None:
                    refund_record(
                        payment=payment,
                        amount_pence=payment.refundable_pence,
                        reason="Paid twice",
                        effect=rng.choice(list(Refund.Effect)),
                        by=staff,
                    )
            elif action == "cancel" and membership.status != Membership.Status.CANCELLED:
                membership_override_status(
                    membership=membership,
                    status=Membership.Status.CANCELLED,
                    reason="Left the profession",
                    by=staff,
                )
            elif action == "erase":
                member_erase(user=membership.user, by=staff)
                erased.add(membership.pk)
            assert_summary_equals_scratch(timezone.localdate())
    # Later on, every year's grace is over: each lapse has happened.
    for later in (day + datetime.timedelta(days=n) for n in (40, 400)):
        assert_summary_equals_scratch(later)
    kept = days_table()
    call_command("reports_rebuild", stdout=io.StringIO())
    assert days_table() == kept


def test_each_service_keeps_the_summary_current():
    staff = StaffFactory()
    membership = MembershipFactory()
    # Joining (payment_fulfil).
    with at(datetime.date(2025, 1, 10)):
        pay(membership)
    assert MembershipDay.objects.get(day=datetime.date(2025, 1, 10)).joined == 1
    # Renewing in grace carries straight on: a renewal, and no lapse.
    with at(datetime.date(2026, 1, 25)):
        pay(membership)
    lapse_day = datetime.date(2026, 1, 9) + summary.LAPSE_AFTER
    assert MembershipDay.objects.get(day=datetime.date(2026, 1, 25)).renewed == 1
    assert MembershipDay.objects.get(day=lapse_day).lapsed == 0
    assert MembershipDay.objects.get(day=datetime.date(2026, 1, 9)).ended_renewed == 1
    # The renewal refunded in full (refund_record): the first year lapsed.
    renewal = membership.payments.order_by("paid_at").last()
    with at(datetime.date(2026, 2, 1)):
        refund_record(
            payment=renewal,
            amount_pence=renewal.amount_pence,
            reason="Renewed by mistake",
            effect=Refund.Effect.NONE,
            by=staff,
        )
    assert MembershipDay.objects.get(day=datetime.date(2026, 1, 25)).renewed == 0
    assert MembershipDay.objects.get(day=lapse_day).lapsed == 1
    # Cancelled by staff (membership_override_status): it did not run its
    # course, so no lapse and no retention.
    with at(datetime.date(2026, 3, 1)):
        membership_override_status(
            membership=membership, status=Membership.Status.CANCELLED, reason="Left", by=staff
        )
    assert MembershipDay.objects.get(day=lapse_day).lapsed == 0
    assert MembershipDay.objects.get(day=datetime.date(2026, 1, 9)).ended == 0
    # Erased (member_erase): ended by erasure, it ran its course after all.
    with at(datetime.date(2026, 4, 1)):
        member_erase(user=membership.user, by=staff)
    assert MembershipDay.objects.get(day=lapse_day).lapsed == 1
    assert_summary_equals_scratch(datetime.date(2026, 4, 1))
