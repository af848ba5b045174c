"""Card payments through Stripe Checkout, with Stripe replaced by a local fake
and every connection off this machine blocked."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from members.models import Membership, MembershipPeriod, Payment, StripeEvent
from tests.factories import MembershipFactory
from tests.stripe_fake import signed_event

SECRET = "whsec_test_secret"
WEBHOOK = "/payments/stripe/webhook/"


def start_checkout(client, membership) -> Payment:
    client.force_login(membership.user)
    response = client.post(reverse("members:pay"), {"method": "stripe"})
    assert response.status_code == 302
    payment = Payment.objects.get(membership=membership, method="stripe")
    assert response["Location"] == payment.checkout_url
    return payment


def deliver(client, stripe_fake, payment, event_type, event_id="evt_1", **signing):
    body, signature = signed_event(
        event_id=event_id,
        event_type=event_type,
        session=stripe_fake.sessions[payment.stripe_session_id],
        secret=signing.pop("secret", SECRET),
        **signing,
    )
    return client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def receipts() -> list:
    return [m for m in mail.outbox if "receipt" in m.subject]


@pytest.mark.django_db
def test_checkout_session_is_created_through_the_fake_and_nothing_is_paid_yet(client, stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    session = stripe_fake.sessions[payment.stripe_session_id]
    assert session["amount_total"] == 9500
    assert session["currency"] == "gbp"
    assert session["client_reference_id"] == str(payment.pk)
    assert payment.status == Payment.Status.PENDING

    # The success page never fulfils: only the webhook does.
    response = client.get(reverse("members:payment_return", args=[payment.pk]))
    assert b"waiting for confirmation" in response.content
    membership.refresh_from_db()
    assert membership.status == Membership.Status.AWAITING_PAYMENT


@pytest.mark.django_db
def test_a_webhook_delivered_five_times_pays_extends_and_emails_once(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    stripe_fake.set_session(
        payment.stripe_session_id, payment_status="paid", status="complete", payment_intent="pi_1"
    )
    outcomes = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(client, stripe_fake, payment, "checkout.session.completed")
        assert response.status_code == 200
        outcomes.append(response.content.decode())
    assert outcomes == ["fulfilled"] + ["duplicate"] * 4

    payment.refresh_from_db()
    membership.refresh_from_db()
    assert payment.status == Payment.Status.PAID
    assert payment.stripe_payment_intent_id == "pi_1"
    assert membership.status == Membership.Status.ACTIVE
    # The first number the sequence gives out (billing/services/numbers.py).
    assert membership.number == "IGPM-000001"
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1
    assert StripeEvent.objects.count() == 1
    assert len(receipts()) == 1
    assert receipts()[0].attachments[0][0] == f"{payment.receipt_number}.pdf"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_delivered_ten_times_at_once_pays_once(stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(Client(), membership)
    stripe_fake.set_session(payment.stripe_session_id, payment_status="paid", status="complete")
    body, signature = signed_event(
        event_id="evt_concurrent",
        event_type="checkout.session.completed",
        session=stripe_fake.sessions[payment.stripe_session_id],
        secret=SECRET,
    )
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client().post(
                WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 10
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PAID
    assert StripeEvent.objects.count() == 1
    assert len(receipts()) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "order",
    [
        ["checkout.session.completed", "checkout.session.async_payment_succeeded"],
        ["checkout.session.async_payment_succeeded", "checkout.session.completed"],
    ],
)
def test_completed_and_async_success_in_either_order_end_the_same(
    client, stripe_fake, django_capture_on_commit_callbacks, order
):
    """A bank payment: the session completes unpaid, then succeeds later.
    Whichever event arrives first, the end state is one paid year."""
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    stripe_fake.set_session(payment.stripe_session_id, status="complete", payment_status="unpaid")
    if order[0] == "checkout.session.completed":
        with django_capture_on_commit_callbacks(execute=True):
            first = deliver(client, stripe_fake, payment, order[0], event_id="evt_a")
        assert first.content == b"not paid yet"
        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    stripe_fake.set_session(payment.stripe_session_id, payment_status="paid")
    for index, event_type in enumerate(order):
        if order[0] == "checkout.session.completed" and index == 0:
            continue
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, stripe_fake, payment, event_type, event_id=f"evt_{index}")

    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PAID
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1
    assert len(receipts()) == 1


@pytest.mark.django_db
def test_an_unpaid_session_never_activates_anything(client, stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    # The event claims "paid"; Stripe, asked directly, says it is not.
    session = stripe_fake.sessions[payment.stripe_session_id]
    body, signature = signed_event(
        event_id="evt_forged_status",
        event_type="checkout.session.completed",
        session={**session, "payment_status": "paid"},
        secret=SECRET,
    )
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.content == b"not paid yet"
    membership.refresh_from_db()
    assert membership.status == Membership.Status.AWAITING_PAYMENT
    assert not MembershipPeriod.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_paid_session_for_the_wrong_amount_is_not_fulfilled(client, stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    stripe_fake.set_session(payment.stripe_session_id, payment_status="paid", amount_total=100)
    response = deliver(client, stripe_fake, payment, "checkout.session.completed")
    assert response.content == b"amount mismatch"
    # Held for the membership team (tests/members/test_stripe_money.py).
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.HELD
    assert not MembershipPeriod.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("problem", ["tampered body", "wrong secret", "stale timestamp"])
def test_bad_signatures_get_400_and_write_nothing(client, stripe_fake, problem):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    stripe_fake.set_session(payment.stripe_session_id, payment_status="paid")
    signing = {
        "tampered body": {},
        "wrong secret": {"secret": "whsec_someone_else"},
        "stale timestamp": {"timestamp": int(time.time()) - 301},
    }[problem]
    body, signature = signed_event(
        event_id="evt_bad",
        event_type="checkout.session.completed",
        session=stripe_fake.sessions[payment.stripe_session_id],
        secret=signing.pop("secret", SECRET),
        **signing,
    )
    if problem == "tampered body":
        body = body.replace(b'"amount_total": 9500', b'"amount_total": 1')
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING
    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.AWAITING_PAYMENT


@pytest.mark.django_db
def test_missing_signature_gets_400(client, stripe_fake):
    response = client.post(WEBHOOK, b"{}", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_expired_and_failed_sessions_close_the_payment_only_from_pending(client, stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    stripe_fake.set_session(payment.stripe_session_id, status="expired")
    response = deliver(client, stripe_fake, payment, "checkout.session.expired", "evt_exp")
    assert response.content == b"expired"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED
    response = deliver(
        client, stripe_fake, payment, "checkout.session.async_payment_failed", "evt_fail"
    )
    assert response.content == b"no change"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED


@pytest.mark.django_db
def test_events_the_portal_does_not_use_are_acknowledged(client, stripe_fake):
    body, signature = signed_event(
        event_id="evt_other", event_type="customer.created", session={"id": "cus_1"}, secret=SECRET
    )
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    assert response.content == b"ignored"


def test_outgoing_connections_are_really_blocked(no_outside_network):
    import socket

    with pytest.raises(AssertionError, match="blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)


@pytest.mark.django_db
def test_only_the_ids_of_an_event_are_kept(client, stripe_fake):
    membership = MembershipFactory()
    payment = start_checkout(client, membership)
    session = stripe_fake.sessions[payment.stripe_session_id]
    session["customer_details"] = {"email": membership.user.email, "name": "Pat Payer"}
    deliver(client, stripe_fake, payment, "checkout.session.expired", event_id="evt_kept")
    deliver(client, stripe_fake, payment, "payment_intent.created", event_id="evt_ignored")

    for event in StripeEvent.objects.all():
        assert event.payload == {
            "id": event.event_id,
            "type": event.type,
            "data": {"object": {"id": payment.stripe_session_id}},
        }
    assert StripeEvent.objects.count() == 2
