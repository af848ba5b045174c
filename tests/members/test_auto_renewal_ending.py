"""A membership ended on purpose ends its automatic renewal: a staff refund
that ends it or takes its year off, a status set by the membership team, a
lapse. Stripe's subscription is cancelled once that commits, and money
Stripe still collects for it is held, never applied and never lost. Also:
reconciliation brings the next collection forward as the webhook does; the
"expired" notice is not sent while a collection is under way; and the
negative control for the row lock under x10 concurrent ``invoice.paid``."""

import datetime
import time

import pytest
from django.db import IntegrityError
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone

from members.billing.services.attention import payment_refund_card
from members.billing.services.auto_renewal_events import invoice_settle
from members.billing.services.membership import membership_override_status
from members.billing.services.notices import notices_sweep
from members.billing.services.reconciliation import stripe_reconcile
from members.billing.services.refunds import refund_record
from members.billing.stripe_gateway import invoice_retrieve
from members.models import (
    AuditEntry,
    AutoRenewal,
    Membership,
    MembershipNotice,
    Payment,
    Refund,
)
from tests.factories import team_member
from tests.members.test_auto_renewal_stripe import (
    _at_once,
    committed,
    member,
    send,
    set_up,
    years,
)
from tests.stripe_fake import invoice_event_object

Ended = AutoRenewal.EndReason
ONE_DAY = datetime.timedelta(days=1)


def collected(client, fake, membership):
    """Automatic renewal set up and one automatic collection paid."""
    renewal, sub = set_up(client, fake, membership)
    invoice = fake.invoice_cycle(sub["id"])
    fake.invoice_pay(invoice["id"])
    assert send(client, "invoice.paid", invoice_event_object(fake, invoice["id"])) == "fulfilled"
    return renewal, sub, Payment.objects.get(stripe_invoice_id=invoice["id"])


def assert_ended_and_cancelled(renewal, fake, sub):
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == Ended.MEMBERSHIP_ENDED
    assert renewal.next_collection_on is None
    assert fake.subscriptions[sub["id"]]["status"] == "canceled"


def late_collection_is_held(client, fake, sub, membership):
    """Stripe made and collected an invoice before its cancellation took:
    the money is held for the team, the membership is left as it is."""
    before = (years(membership), membership.expires_on, membership.status)
    invoice = fake.invoice_cycle(sub["id"])
    fake.invoice_pay(invoice["id"])
    assert send(client, "invoice.paid", invoice_event_object(fake, invoice["id"])) == "held"
    membership.refresh_from_db()
    assert (years(membership), membership.expires_on, membership.status) == before
    held = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert held.status == Payment.Status.HELD
    assert held.needs_attention and held.attention_reason == Payment.Attention.SUPERSEDED
    assert held.received_pence == invoice["amount_paid"]
    # Delivered again, or found by reconciliation: still one held payment.
    send(client, "invoice.paid", invoice_event_object(fake, invoice["id"]))
    stripe_reconcile()
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"]).count() == 1
    assert years(membership) == before[0]


@pytest.mark.django_db
def test_a_staff_refund_that_ends_the_membership_ends_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub, payment = collected(client, stripe_fake, membership)
    with committed():
        payment_refund_card(
            payment=payment,
            amount_pence=payment.amount_pence,
            reason="Left the profession",
            effect=Refund.Effect.END_NOW,
            by=team_member("Membership team"),
        )
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert_ended_and_cancelled(renewal, stripe_fake, sub)
    assert AuditEntry.objects.filter(
        action="auto_renewal_ended", data__reason=Ended.MEMBERSHIP_ENDED
    ).exists()
    late_collection_is_held(client, stripe_fake, sub, membership)


@pytest.mark.django_db
def test_a_refund_that_takes_the_year_off_ends_automatic_renewal(client, stripe_fake):
    membership = member()
    expires = membership.expires_on
    renewal, sub, payment = collected(client, stripe_fake, membership)
    membership.refresh_from_db()
    assert membership.expires_on > expires
    with committed():
        refund_record(
            payment=payment,
            amount_pence=payment.amount_pence,
            reason="Refunded by bank transfer",
            effect=Refund.Effect.SHORTEN,
            by=team_member("Membership team"),
        )
    membership.refresh_from_db()
    assert membership.expires_on == expires  # the collected year is gone
    assert_ended_and_cancelled(renewal, stripe_fake, sub)
    late_collection_is_held(client, stripe_fake, sub, membership)


@pytest.mark.django_db
def test_a_refund_that_leaves_the_membership_leaves_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub, payment = collected(client, stripe_fake, membership)
    with committed():
        refund_record(
            payment=payment,
            amount_pence=1000,
            reason="Goodwill",
            effect=Refund.Effect.NONE,
            by=team_member("Membership team"),
        )
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "active"


@pytest.mark.django_db
def test_staff_cancelling_a_membership_ends_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    with committed():
        membership_override_status(
            membership=membership,
            status=Membership.Status.CANCELLED,
            reason="Struck off",
            by=team_member("Membership team"),
        )
    assert_ended_and_cancelled(renewal, stripe_fake, sub)
    membership.refresh_from_db()
    late_collection_is_held(client, stripe_fake, sub, membership)


@pytest.mark.django_db
def test_staff_setting_a_membership_in_grace_keeps_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    with committed():
        membership_override_status(
            membership=membership,
            status=Membership.Status.IN_GRACE,
            reason="Correcting the record",
            by=team_member("Membership team"),
        )
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert stripe_fake.subscriptions[sub["id"]]["status"] != "canceled"


@pytest.mark.django_db
def test_a_membership_that_lapses_ends_automatic_renewal(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    # Its collection has been failing and Stripe is still retrying when
    # the grace ends.
    AutoRenewal.objects.filter(pk=renewal.pk).update(status=AutoRenewal.Status.PAST_DUE)
    Membership.objects.filter(pk=membership.pk).update(
        status=Membership.Status.IN_GRACE,
        expires_on=timezone.localdate() - datetime.timedelta(days=200),
    )
    with committed():
        result = notices_sweep(enqueue=lambda ids: None)
    assert result.to_lapsed == 1
    assert_ended_and_cancelled(renewal, stripe_fake, sub)
    membership.refresh_from_db()
    late_collection_is_held(client, stripe_fake, sub, membership)


@pytest.mark.django_db
def test_money_after_the_member_stopped_is_still_honoured(client, stripe_fake):
    """Only an arrangement ended on purpose holds money: one the member
    stopped (at period end) still takes the collection Stripe made."""
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    stripe_fake.subscription_end(sub["id"], reason="cancellation_requested")
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
    renewal.refresh_from_db()
    assert renewal.end_reason == Ended.STOPPED
    obj = invoice_event_object(stripe_fake, invoice["id"])
    assert send(client, "invoice.paid", obj) == "fulfilled"
    assert years(membership) == 2


# --- Reconciliation brings the next collection forward ---------------------------


@pytest.mark.django_db
def test_reconciliation_brings_the_next_collection_forward_for_a_renewal_in_grace(
    client, stripe_fake
):
    membership = member()
    Membership.objects.filter(pk=membership.pk).update(
        status=Membership.Status.IN_GRACE,
        expires_on=timezone.localdate() - datetime.timedelta(days=10),
    )
    membership.refresh_from_db()
    old_expiry = membership.expires_on
    renewal, sub = set_up(client, stripe_fake, membership)
    # The first invoice is paid at Stripe; its webhook never comes.
    (invoice,) = stripe_fake.invoices.values()
    assert invoice["status"] == "paid"
    due_before = stripe_fake.subscriptions[sub["id"]]["items"]["data"][0]["current_period_end"]
    assert stripe_reconcile().invoices_fulfilled == 1
    membership.refresh_from_db()
    renewal.refresh_from_db()
    assert membership.expires_on == old_expiry.replace(year=old_expiry.year + 1)
    assert renewal.next_collection_on == membership.expires_on + datetime.timedelta(days=1)
    moved = stripe_fake.subscriptions[sub["id"]]
    assert moved["status"] == "trialing" and moved["proration_behavior"] == "none"
    assert moved["items"]["data"][0]["current_period_end"] < due_before
    # A second run changes nothing.
    assert stripe_reconcile().invoices_fulfilled == 0
    assert years(membership) == 2


# --- The renewal sweep's "expired" notice ------------------------------------------


def _in_grace_with(status: str | None) -> Membership:
    membership = member()
    if status is not None:
        ended = status == AutoRenewal.Status.ENDED
        AutoRenewal.objects.create(
            membership=membership,
            method=AutoRenewal.Method.BACS_DEBIT,
            grade=membership.grade,
            status=status,
            end_reason=Ended.RETRIES_ENDED if ended else Ended.NONE,
            ended_at=timezone.now() if ended else None,
            next_collection_on=None if ended else membership.expires_on + ONE_DAY,
            next_amount_pence=membership.grade.annual_fee_pence,
        )
    return membership


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "told"),
    [
        (None, True),
        (AutoRenewal.Status.ACTIVE, False),
        (AutoRenewal.Status.PAST_DUE, False),
        (AutoRenewal.Status.STOPPING, True),
        (AutoRenewal.Status.ENDED, True),
    ],
)
def test_the_expired_notice_waits_while_an_automatic_collection_is_under_way(status, told):
    membership = _in_grace_with(status)
    today = membership.expires_on + datetime.timedelta(days=2)
    notices_sweep(today=today, enqueue=lambda ids: None)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.IN_GRACE
    sent = MembershipNotice.objects.filter(
        period__membership=membership, kind=MembershipNotice.Kind.EXPIRED
    ).exists()
    assert sent is told


@pytest.mark.django_db
def test_the_expired_notice_goes_once_the_collection_ends_unpaid():
    membership = _in_grace_with(AutoRenewal.Status.PAST_DUE)
    today = membership.expires_on + datetime.timedelta(days=2)
    expired = MembershipNotice.objects.filter(
        period__membership=membership, kind=MembershipNotice.Kind.EXPIRED
    )
    notices_sweep(today=today, enqueue=lambda ids: None)
    assert not expired.exists()
    AutoRenewal.objects.filter(membership=membership).update(
        status=AutoRenewal.Status.ENDED,
        end_reason=Ended.RETRIES_ENDED,
        ended_at=timezone.now(),
        next_collection_on=None,
    )
    notices_sweep(today=today + datetime.timedelta(days=1), enqueue=lambda ids: None)
    assert expired.count() == 1


# --- Negative control: x10 invoice.paid at once without the row lock -------------


def _rush_invoice_paid(fake, n, monkeypatch, *, locked: bool):
    membership = member()
    renewal, sub = set_up(Client(), fake, membership)
    invoice = fake.invoice_cycle(sub["id"])
    fake.invoice_pay(invoice["id"])
    paid = invoice_retrieve(invoice["id"])
    real_create = Payment.objects.create

    def slow_create(**fields):
        # Every handler reads "no payment for this invoice yet" before any
        # of them writes one.
        time.sleep(0.3)
        return real_create(**fields)

    monkeypatch.setattr(Payment.objects, "create", slow_create)
    if not locked:
        monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *a, **k: self)
    outcomes, errors = [], []

    def fire(i):
        try:
            outcomes.append(invoice_settle(renewal=renewal, invoice=paid, actor_label="stripe"))
        except IntegrityError as exc:
            errors.append(exc)

    _at_once(n, fire)
    return membership, invoice, outcomes, errors


@pytest.mark.django_db(transaction=True)
def test_ten_invoice_paid_at_once_with_the_lock_one_year_and_no_errors(stripe_fake, monkeypatch):
    membership, invoice, outcomes, errors = _rush_invoice_paid(
        stripe_fake, 10, monkeypatch, locked=True
    )
    assert errors == []
    assert sorted(outcomes) == ["fulfilled"] + ["no change"] * 9
    assert years(membership) == 2
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_ten_invoice_paid_at_once_hit_the_unique_invoice(
    stripe_fake, monkeypatch
):
    """Negative control for the test above: with every row lock replaced
    by a plain read, all ten handlers find no payment and go on to write
    one. The unique ``stripe_invoice_id`` still keeps it to one year, but
    nine handlers fail with an IntegrityError (a 500 Stripe would retry)
    instead of answering "no change": the lock is what makes them wait and
    then see the payment."""
    membership, invoice, outcomes, errors = _rush_invoice_paid(
        stripe_fake, 10, monkeypatch, locked=False
    )
    assert outcomes == ["fulfilled"]
    assert len(errors) == 9
    assert all("stripe_invoice_id" in str(e) for e in errors)
    assert years(membership) == 2
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"]).count() == 1
