"""Automatic renewal and money that must not buy a year by itself: a
set-up the member left (or stopped) that Stripe still turned into a
subscription, a payment by hand while a subscription collects, and a
Direct Debit mandate shared by an ended and a live arrangement (the Stripe
fake; real PostgreSQL)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from members.billing.services.auto_renewal import (
    auto_renewal_start,
    auto_renewal_stop,
    offline_setup_complete,
)
from members.billing.services.card_payments import card_payment_start
from members.billing.services.invoices import invoice_mark_paid
from members.billing.services.payments import payment_create, payment_fulfil
from members.exceptions import ConfirmationNeeded, MembershipError
from members.models import AutoRenewal, Membership, Payment
from tests.factories import StaffFactory, active_member
from tests.members.test_auto_renewal_stripe import START, member, send, set_up, years
from tests.stripe_fake import invoice_event_object

PAY = reverse("members:pay")


def _checkout(client, membership, method="card") -> AutoRenewal:
    """The member opens the set-up's Checkout page (and leaves it open)."""
    client.force_login(membership.user)
    client.post(START, {"method": method})
    return AutoRenewal.objects.get(membership=membership, status="setting_up")


# --- 1. A set-up left behind never collects -----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("invoice_first", [False, True])
def test_card_checkout_finished_after_choosing_direct_debit_collects_nothing(
    client, stripe_fake, invoice_first
):
    membership = member(current=False)
    card = _checkout(client, membership)
    # Back on the portal the member chooses Direct Debit instead; the card
    # page is still open in another tab (its closing at Stripe not yet run).
    client.post(START, {"method": "bacs_debit"})
    card.refresh_from_db()
    assert card.end_reason == AutoRenewal.EndReason.ABANDONED
    sub = stripe_fake.subscription_checkout_complete(card.stripe_checkout_session_id)
    (invoice,) = stripe_fake.invoices.values()
    events = [
        ("checkout.session.completed", stripe_fake.sessions[card.stripe_checkout_session_id]),
        ("invoice.paid", invoice_event_object(stripe_fake, invoice["id"])),
    ]
    outcomes = [
        send(client, kind, obj) for kind, obj in (events[::-1] if invoice_first else events)
    ]
    assert "held" in outcomes
    # Stripe keeps no subscription that nobody can stop.
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    card.refresh_from_db()
    assert card.status == AutoRenewal.Status.ENDED and card.stripe_subscription_id == sub["id"]
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.status == Payment.Status.HELD
    assert payment.attention_reason == Payment.Attention.SUPERSEDED
    membership.refresh_from_db()
    assert membership.status == Membership.Status.AWAITING_PAYMENT and years(membership) == 0
    # Delivered again: still nothing bought.
    assert send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"])) == (
        "no change"
    )
    assert years(membership) == 0


@pytest.mark.django_db
def test_set_up_stopped_while_its_checkout_is_open_collects_nothing(client, stripe_fake):
    membership = member(current=False)
    renewal = _checkout(client, membership, method="bacs_debit")
    result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")
    assert result.auto_renewal.end_reason == AutoRenewal.EndReason.STOPPED
    sub = stripe_fake.subscription_checkout_complete(renewal.stripe_checkout_session_id)
    (invoice,) = stripe_fake.invoices.values()
    assert send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"])) == (
        "held"
    )
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    assert Payment.objects.get(stripe_invoice_id=invoice["id"]).status == Payment.Status.HELD
    membership.refresh_from_db()
    assert years(membership) == 0


@pytest.mark.django_db
def test_a_trial_subscription_of_an_abandoned_set_up_is_cancelled(client, stripe_fake):
    membership = member()
    card = _checkout(client, membership)
    client.post(START, {"method": "bacs_debit"})
    sub = stripe_fake.subscription_checkout_complete(card.stripe_checkout_session_id)
    session = stripe_fake.sessions[card.stripe_checkout_session_id]
    assert send(client, "checkout.session.completed", session) == "ended already"
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    # The Direct Debit set-up the member chose is untouched.
    assert AutoRenewal.objects.get(membership=membership, status="setting_up").method == (
        "bacs_debit"
    )


@pytest.mark.django_db
def test_a_year_paid_for_by_a_renewal_stopped_later_is_still_honoured(client, stripe_fake):
    """Stopping after set-up is not leaving a set-up: a late paid invoice
    of a subscription that was active still buys its year."""
    membership = member(current=False)
    renewal, sub = set_up(client, stripe_fake, membership)
    (invoice,) = stripe_fake.invoices.values()
    stripe_fake.subscription_end(sub["id"], reason="cancellation_requested")
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"])) == (
        "fulfilled"
    )
    assert years(membership) == 1


# --- 2. No payment by hand while a subscription collects ----------------------


def _renewing_soon(membership: Membership) -> None:
    Membership.objects.filter(pk=membership.pk).update(
        expires_on=timezone.localdate() + datetime.timedelta(days=20)
    )
    membership.refresh_from_db()


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["active", "past_due"])
def test_paying_once_is_refused_while_automatic_renewal_collects(client, stripe_fake, status):
    membership = member()
    renewal, _sub = set_up(client, stripe_fake, membership)
    AutoRenewal.objects.filter(pk=renewal.pk).update(status=status)
    _renewing_soon(membership)
    assert membership.payable
    page = client.get(PAY).content.decode()
    assert "Continue to payment" not in page
    sessions = len(stripe_fake.sessions)
    for data in (
        {"method": "stripe"},
        {"method": "invoice", "invoice_organisation": "Riverside Surgery"},
    ):
        response = client.post(PAY, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "stop automatic renewal on your dashboard first" in html
        assert "Riverside Surgery" in html or data["method"] == "stripe"
    assert (
        not Payment.objects.filter(membership=membership, auto_renewal__isnull=True)
        .exclude(method="offline")
        .exists()
    )
    assert len(stripe_fake.sessions) == sessions
    with pytest.raises(MembershipError, match="stop automatic renewal"):
        payment_create(membership=membership, method="invoice", by=membership.user)
    with pytest.raises(MembershipError, match="stop automatic renewal"):
        card_payment_start(membership=membership, by=membership.user)


@pytest.mark.django_db
def test_an_open_card_payment_from_before_is_not_handed_out_again(client, stripe_fake):
    membership = member()
    _renewing_soon(membership)
    client.force_login(membership.user)
    card_payment_start(membership=membership, by=membership.user)
    set_up(client, stripe_fake, membership)
    with pytest.raises(MembershipError, match="stop automatic renewal"):
        card_payment_start(membership=membership, by=membership.user)


@pytest.mark.django_db
def test_after_stopping_automatic_renewal_the_member_may_pay_once(client, stripe_fake):
    membership = member()
    renewal, _sub = set_up(client, stripe_fake, membership)
    _renewing_soon(membership)
    auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")
    assert "Continue to payment" in client.get(PAY).content.decode()
    response = client.post(PAY, {"method": "stripe"})
    assert response.status_code == 302
    assert Payment.objects.filter(
        membership=membership, method="stripe", status="pending"
    ).exists()


@pytest.mark.django_db
def test_a_failed_collection_email_says_to_stop_automatic_renewal_before_paying_once(
    client, stripe_fake
):
    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_fail(invoice["id"])
    mail.outbox.clear()
    send(client, "invoice.payment_failed", invoice_event_object(stripe_fake, invoice["id"]))
    (email,) = mail.outbox
    assert "first stop automatic renewal" in email.body
    assert "not charged twice" in email.body


# --- 3. A mandate event reaches the live arrangement --------------------------


@pytest.mark.django_db
def test_a_mandate_shared_with_an_ended_arrangement_reaches_the_live_one(client, stripe_fake):
    membership = member()
    old, old_sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    mandate = stripe_fake.mandate_of(old_sub["id"])
    send(client, "mandate.updated", stripe_fake.mandate_set(mandate["id"], "active"))
    stripe_fake.subscription_end(old_sub["id"], reason="cancellation_requested")
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[old_sub["id"]])
    old.refresh_from_db()
    assert old.status == AutoRenewal.Status.ENDED and old.stripe_mandate_id == mandate["id"]
    # Set up again with the same bank account: Stripe reuses the mandate.
    new, new_sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    stripe_fake.subscriptions[new_sub["id"]]["default_payment_method"] = mandate["payment_method"]
    AutoRenewal.objects.filter(pk=new.pk).update(
        stripe_payment_method_id=mandate["payment_method"]
    )
    send(client, "mandate.updated", stripe_fake.mandate_set(mandate["id"], "inactive"))
    new.refresh_from_db()
    assert new.mandate_status == AutoRenewal.Mandate.INACTIVE
    assert new.status == AutoRenewal.Status.ENDED
    assert new.end_reason == AutoRenewal.EndReason.MANDATE_REVOKED
    assert stripe_fake.subscriptions[new_sub["id"]]["status"] == "canceled"
    old.refresh_from_db()
    assert old.mandate_status == AutoRenewal.Mandate.ACTIVE


@pytest.mark.django_db
def test_a_mandate_of_an_ended_arrangement_alone_still_lands_on_it(client, stripe_fake):
    membership = member()
    old, old_sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    mandate = stripe_fake.mandate_of(old_sub["id"])
    stripe_fake.subscription_end(old_sub["id"], reason="cancellation_requested")
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[old_sub["id"]])
    assert send(client, "mandate.updated", stripe_fake.mandate_set(mandate["id"], "active")) == (
        "mandate active"
    )
    old.refresh_from_db()
    assert old.stripe_mandate_id == mandate["id"]


@pytest.mark.django_db
def test_setting_up_automatic_renewal_cancels_a_one_off_payment_left_open(settings):
    """An invoice (or card page) opened before automatic renewal was set up
    must not buy the year the subscription now collects: it is cancelled,
    and money that still comes for it is held, not a second year."""
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENTS_OFFLINE_PROVIDER = True
    membership = active_member().membership
    membership.expires_on = timezone.localdate() + datetime.timedelta(days=20)
    membership.save(update_fields=["expires_on"])
    left_open = payment_create(membership=membership, method="invoice", by=membership.user)
    renewal = auto_renewal_start(
        membership=membership,
        method="card",
        user=membership.user,
        success_url="http://testserver/ok",
        cancel_url="http://testserver/no",
    )
    offline_setup_complete(auto_renewal_id=renewal.pk, actor=membership.user)
    left_open.refresh_from_db()
    assert left_open.status == Payment.Status.CANCELLED
    # Marking it paid now takes the membership team's confirmation.
    with pytest.raises(ConfirmationNeeded):
        invoice_mark_paid(payment=left_open, by=StaffFactory())


@pytest.mark.django_db
def test_card_money_for_a_page_left_open_before_the_set_up_is_held(client, stripe_fake):
    """A one-off card page opened before automatic renewal: cancelled when
    the subscription is set up, and its late money held, not a year."""
    membership = member()
    membership.expires_on = timezone.localdate() + datetime.timedelta(days=20)
    membership.save(update_fields=["expires_on"])
    left_open = payment_create(membership=membership, method="stripe", by=membership.user)
    set_up(client, stripe_fake, membership)
    left_open.refresh_from_db()
    assert left_open.status == Payment.Status.CANCELLED
    expires = Membership.objects.get(pk=membership.pk).expires_on
    payment_fulfil(payment_id=left_open.pk)
    left_open.refresh_from_db()
    assert left_open.status == Payment.Status.HELD
    assert Membership.objects.get(pk=membership.pk).expires_on == expires
