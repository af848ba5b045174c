"""The daily reconciliation: paid Checkout sessions whose webhook never
came are settled through the same path, a page of sessions at a time."""

import datetime

import pytest
from django.utils import timezone

from members.billing.services.reconciliation import stripe_reconcile
from members.billing.tasks import stripe_reconcile_task
from members.models import AuditEntry, Membership, MembershipPeriod, Payment, User
from tests.factories import grade

# Queries for a page of 100 sessions where everything is settled already:
# one, to load the page's payments.
QUERIES_PER_SETTLED_PAGE = 1
# Queries to settle one missed session (locks, the year, audit entries, and
# the report summary rows kept current by the same transaction, and the
# membership number: the sequence moved on and the number checked free).
QUERIES_PER_FULFILMENT = 33


def card_world(stripe_fake, count: int, missing: set[int]) -> list[Payment]:
    """``count`` members who each paid by card; for the indexes in
    ``missing`` the webhook never arrived, so the portal still has them
    pending."""
    member_grade = grade("member")
    users = User.objects.bulk_create(
        User(email=f"recon{n}@example.org", password="!") for n in range(count)
    )
    memberships = Membership.objects.bulk_create(
        Membership(user=user, grade=member_grade, status=Membership.Status.AWAITING_PAYMENT)
        for user in users
    )
    now = timezone.now()
    payments = Payment.objects.bulk_create(
        Payment(
            membership=membership,
            user=membership.user,
            grade=member_grade,
            purpose=Payment.Purpose.JOIN,
            method=Payment.Method.STRIPE,
            amount_pence=9500,
            status=Payment.Status.PENDING if n in missing else Payment.Status.PAID,
            paid_at=None if n in missing else now,
        )
        for n, membership in enumerate(memberships)
    )
    for payment in payments:
        session = stripe_fake.add_session(payment_id=payment.pk, amount=9500)
        stripe_fake.pay(session["id"])
        payment.stripe_session_id = session["id"]
    Payment.objects.bulk_update(payments, ["stripe_session_id"])
    return payments


@pytest.mark.django_db
def test_1000_sessions_with_20_missed_events_fulfil_exactly_20_then_nothing(
    stripe_fake, django_assert_max_num_queries, django_assert_num_queries
):
    missing = set(range(7, 1000, 50))
    assert len(missing) == 20
    payments = card_world(stripe_fake, 1000, missing)

    with django_assert_max_num_queries(
        10 * QUERIES_PER_SETTLED_PAGE + 20 * QUERIES_PER_FULFILMENT
    ):
        first = stripe_reconcile()
    assert (first.sessions, first.paid, first.fulfilled, first.pages) == (1000, 1000, 20, 10)
    missed = [payments[n].pk for n in missing]
    assert set(Payment.objects.filter(pk__in=missed).values_list("status", flat=True)) == {"paid"}
    assert MembershipPeriod.objects.count() == 20
    assert (
        AuditEntry.objects.filter(
            action="payment_received", actor_label="stripe reconciliation"
        ).count()
        == 20
    )

    with django_assert_num_queries(10 * QUERIES_PER_SETTLED_PAGE):
        second = stripe_reconcile()
    assert (second.fulfilled, second.held) == (0, 0)
    assert MembershipPeriod.objects.count() == 20


@pytest.mark.django_db
def test_reconciliation_reads_only_the_last_three_days_a_page_at_a_time(stripe_fake):
    card_world(stripe_fake, 5, missing={0, 4})
    old = next(iter(stripe_fake.sessions.values()))
    old["created"] = int((timezone.now() - datetime.timedelta(days=4)).timestamp())

    result = stripe_reconcile(page_size=2)

    assert (result.sessions, result.pages, result.fulfilled) == (4, 2, 1)
    lists = [
        path for method, path in stripe_fake.requests if path.startswith("/v1/checkout/sessions?")
    ]
    assert len(lists) == 2
    assert "starting_after" in lists[1] and "created%5Bgte%5D" in lists[0]


@pytest.mark.django_db
def test_a_missed_session_for_the_wrong_amount_is_held_not_fulfilled(stripe_fake):
    (payment,) = card_world(stripe_fake, 1, missing={0})
    stripe_fake.set_session(payment.stripe_session_id, amount_total=500)
    result = stripe_reconcile()
    payment.refresh_from_db()
    assert (result.fulfilled, result.held) == (0, 1)
    assert payment.status == Payment.Status.HELD and payment.needs_attention


@pytest.mark.django_db
def test_a_session_whose_id_was_never_stored_is_matched_by_its_reference(stripe_fake):
    (payment,) = card_world(stripe_fake, 1, missing={0})
    session_id = payment.stripe_session_id
    Payment.objects.filter(pk=payment.pk).update(stripe_session_id=None)
    assert stripe_reconcile().fulfilled == 1
    payment.refresh_from_db()
    assert payment.stripe_session_id == session_id and payment.status == Payment.Status.PAID


@pytest.mark.django_db
def test_the_beat_task_runs_the_reconciliation(stripe_fake, settings):
    card_world(stripe_fake, 2, missing={1})
    assert stripe_reconcile_task.delay().get()["fulfilled"] == 1
    assert "members-stripe-reconcile" in settings.CELERY_BEAT_SCHEDULE
