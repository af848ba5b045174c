"""Card money that must never be taken twice or lost from view: replaced
checkouts, a slow Stripe, wrong amounts, failed payments, malformed events,
refunds and disputes. Stripe is the local fake; nothing leaves the machine.
"""

import socket
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from members.billing import stripe_gateway
from members.billing.services.payments import payment_create
from members.models import (
    AuditEntry,
    MembershipPeriod,
    Payment,
    PaymentNotice,
    Refund,
    StripeEvent,
)
from tests.factories import MembershipFactory, grade, team_member
from tests.stripe_fake import charge_object, dispute_object, signed_body, signed_event

SECRET = "whsec_test_secret"
WEBHOOK = "/payments/stripe/webhook/"
PAY = "/membership/pay/"


def post_event(client, event_type, obj, event_id):
    body, signature = signed_event(
        event_id=event_id, event_type=event_type, session=obj, secret=SECRET
    )
    return client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def continue_to_card(client, membership):
    client.force_login(membership.user)
    return client.post(PAY, {"method": "stripe"})


def card_payment(client, stripe_fake, membership=None) -> Payment:
    membership = membership or MembershipFactory()
    response = continue_to_card(client, membership)
    assert response.status_code == 302
    return Payment.objects.filter(membership=membership, method="stripe").latest("pk")


def paid_card_payment(client, stripe_fake, capture) -> Payment:
    payment = card_payment(client, stripe_fake)
    stripe_fake.pay(payment.stripe_session_id)
    with capture(execute=True):
        response = post_event(
            client,
            "checkout.session.completed",
            stripe_fake.sessions[payment.stripe_session_id],
            f"evt_paid_{payment.pk}",
        )
    assert response.content == b"fulfilled"
    payment.refresh_from_db()
    return payment


def emails_to(address, subject_part) -> list:
    return [m for m in mail.outbox if m.to == [address] and subject_part in m.subject]


# --- Defect 1: two checkout tabs -------------------------------------------


@pytest.mark.django_db
def test_continue_to_payment_twice_reuses_the_open_session(client, stripe_fake):
    membership = MembershipFactory()
    first = continue_to_card(client, membership)
    second = continue_to_card(client, membership)
    assert first["Location"] == second["Location"]
    assert len(stripe_fake.sessions) == 1
    assert Payment.objects.filter(membership=membership).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_continue_clicks_make_one_open_session(stripe_fake):
    # The portal's lock alone, not Stripe's idempotency keys, keeps it to one.
    stripe_fake.delay = 0.2
    stripe_fake.idempotency = False
    membership = MembershipFactory()
    barrier = threading.Barrier(10)
    locations: list[str] = []

    def click() -> None:
        try:
            client = Client()
            client.force_login(membership.user)
            barrier.wait()
            locations.append(client.post(PAY, {"method": "stripe"})["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    open_sessions = [s for s in stripe_fake.sessions.values() if s["status"] == "open"]
    assert len(open_sessions) == 1
    assert len(stripe_fake.sessions) == 1
    assert locations == [open_sessions[0]["url"]] * 10
    payment = Payment.objects.get(membership=membership)
    assert payment.status == Payment.Status.PENDING
    assert payment.stripe_session_id == open_sessions[0]["id"]


@pytest.mark.django_db
def test_a_replaced_card_payment_has_its_checkout_session_expired_at_stripe(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    membership = MembershipFactory()
    card = card_payment(client, stripe_fake, membership)
    with django_capture_on_commit_callbacks(execute=True):
        payment_create(membership=membership, method="invoice", by=membership.user)
    assert stripe_fake.sessions[card.stripe_session_id]["status"] == "expired"
    assert ("POST", f"/v1/checkout/sessions/{card.stripe_session_id}/expire") in (
        stripe_fake.requests
    )
    assert Payment.objects.get(pk=card.pk).status == Payment.Status.CANCELLED


@pytest.mark.django_db
def test_two_tabs_both_paid_buy_one_year_and_flag_the_other(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    """Tab one opens Checkout; the fee changes; tab two opens a second
    Checkout (a new payment). The member pays tab one just before the portal
    closes its session, then pays tab two too."""
    membership = MembershipFactory()
    first = card_payment(client, stripe_fake, membership)
    stripe_fake.pay(first.stripe_session_id)
    member_grade = grade("member")
    member_grade.annual_fee_pence = 9900
    member_grade.save()
    with django_capture_on_commit_callbacks(execute=True):
        second = card_payment(client, stripe_fake, membership)
    assert second.pk != first.pk
    stripe_fake.pay(second.stripe_session_id)

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [
            post_event(
                client,
                "checkout.session.completed",
                stripe_fake.sessions[payment.stripe_session_id],
                event_id,
            ).content
            # A later event about the first tab's money changes nothing.
            for payment, event_id in [(second, "evt_b"), (first, "evt_a"), (first, "evt_a2")]
        ]
    assert outcomes == [b"fulfilled", b"held", b"no change"]

    first.refresh_from_db()
    second.refresh_from_db()
    assert MembershipPeriod.objects.filter(membership=membership).count() == 1
    assert second.status == Payment.Status.PAID
    assert first.status == Payment.Status.HELD
    assert first.attention_reason == Payment.Attention.SUPERSEDED and first.needs_attention
    assert not MembershipPeriod.objects.filter(payment=first).exists()
    told = emails_to(membership.user.email, "did not need to make")
    assert len(told) == 1
    assert AuditEntry.objects.filter(target_id=first.pk, action="payment_received_superseded")
    page = client.get(reverse("members:payment_return", args=[first.pk]))
    assert b"it has not bought an extra year" in page.content

    staff = Client()
    staff.force_login(team_member("Membership team"))
    queue = staff.get(reverse("members:staff_attention"))
    assert b"Paid for a cancelled or superseded payment" in queue.content
    assert f"{first.pk}: £95.00, card (stripe), received, not applied".encode() in queue.content


# --- Defect 2: a slow Stripe -----------------------------------------------


def test_the_slowest_stripe_call_is_bounded_by_settings(settings):
    assert stripe_gateway.worst_case_seconds() <= 20
    client = stripe_gateway._client()
    http = client._requestor._client
    assert http._timeout == (settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT)
    assert client._requestor._options.max_network_retries == settings.STRIPE_MAX_RETRIES
    settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT = 3, 7
    settings.STRIPE_MAX_RETRIES = 2
    assert stripe_gateway.worst_case_seconds() == pytest.approx(3 * 10 + 0.5 + 1.0)


@pytest.fixture
def silent_stripe(settings, no_outside_network):
    """A Stripe that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.STRIPE_CONNECT_TIMEOUT = 0.5
    settings.STRIPE_READ_TIMEOUT = 1.0
    settings.STRIPE_MAX_RETRIES = 1
    yield
    listener.close()


@pytest.mark.django_db
def test_a_stripe_that_never_answers_gives_a_clear_page_within_seconds(client, silent_stripe):
    membership = MembershipFactory()
    started = time.monotonic()
    response = continue_to_card(client, membership)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert b"Card payments are not answering" in response.content
    assert b"Invoice to my practice or organisation" in response.content
    assert elapsed < stripe_gateway.worst_case_seconds() + 1
    assert elapsed < 5
    # No pending payment left that can never be paid.
    assert not Payment.objects.filter(membership=membership, status="pending").exists()
    dashboard = client.get(reverse("members:dashboard"))
    assert b"pending" not in dashboard.content.lower()


@pytest.mark.django_db
def test_a_slow_fake_stripe_also_ends_on_the_clear_page(client, stripe_fake, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    settings.STRIPE_MAX_RETRIES = 0
    stripe_fake.delay = 2
    response = continue_to_card(client, MembershipFactory())
    assert response.status_code == 503
    assert not Payment.objects.filter(status="pending").exists()


# --- Defect 3: the wrong amount or currency --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "currency"), [(100, "gbp"), (9500, "eur")], ids=["amount", "currency"]
)
def test_a_payment_for_the_wrong_amount_or_currency_needs_attention(
    client, stripe_fake, django_capture_on_commit_callbacks, amount, currency
):
    payment = card_payment(client, stripe_fake)
    stripe_fake.pay(payment.stripe_session_id, amount_total=amount, currency=currency)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(
            client,
            "checkout.session.completed",
            stripe_fake.sessions[payment.stripe_session_id],
            "evt_wrong",
        )
    assert response.content == b"amount mismatch"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.HELD
    assert payment.attention_reason == Payment.Attention.WRONG_AMOUNT
    assert (payment.received_pence, payment.received_currency) == (amount, currency)
    assert not MembershipPeriod.objects.exists()
    entry = AuditEntry.objects.get(target_id=payment.pk, action="payment_received_wrong_amount")
    assert entry.to_state == "held" and "Expected 9500" in entry.reason

    page = client.get(reverse("members:payment_return", args=[payment.pk]))
    assert b"the membership team is checking it" in page.content
    assert b"usually takes less than a minute" not in page.content

    staff = Client()
    staff.force_login(team_member("Membership team"))
    queue = staff.get(reverse("members:staff_attention"))
    assert b"Paid the wrong amount or currency" in queue.content


# --- Defect 4: a failed payment --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "session_status", "page_text", "subject"),
    [
        (
            "checkout.session.async_payment_failed",
            "complete",
            b"turned the payment down",
            "did not go through",
        ),
        ("checkout.session.expired", "expired", b"closed before a payment", "not completed"),
    ],
    ids=["failed", "expired"],
)
def test_a_failed_or_expired_payment_says_so_and_emails_once(
    client,
    stripe_fake,
    django_capture_on_commit_callbacks,
    event_type,
    session_status,
    page_text,
    subject,
):
    payment = card_payment(client, stripe_fake)
    stripe_fake.set_session(payment.stripe_session_id, status=session_status)
    with django_capture_on_commit_callbacks(execute=True):
        for event_id in ("evt_f1", "evt_f2", "evt_f1"):
            post_event(
                client, event_type, stripe_fake.sessions[payment.stripe_session_id], event_id
            )
    page = client.get(reverse("members:payment_return", args=[payment.pk]))
    assert page_text in page.content
    assert b"waiting for confirmation" not in page.content
    assert reverse("members:pay").encode() in page.content
    assert len(emails_to(payment.user.email, subject)) == 1
    assert PaymentNotice.objects.filter(payment=payment).count() == 1


# --- Defect 8: signed but unreadable events --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "checkout.session.completed", "data": {"object": {"id": "cs_1"}}}',
        b'{"id": "evt_x", "type": "checkout.session.completed", "data": {"object": {}}}',
        b'{"id": "evt_x", "type": "checkout.session.completed", "data": []}',
        b'[{"id": "evt_x"}]',
        b'"just a string"',
    ],
    ids=["no id", "no object id", "data a list", "json array", "json string"],
)
def test_a_signed_event_that_cannot_be_read_gets_400_and_stores_nothing(
    client, stripe_fake, body, caplog
):
    body, signature = signed_body(body, secret=SECRET)
    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert "Stripe webhook refused" in caplog.text


@pytest.mark.django_db
def test_an_event_for_an_unknown_session_is_answered_but_not_kept_so_a_retry_works(
    client, stripe_fake, django_capture_on_commit_callbacks, caplog
):
    payment = card_payment(client, stripe_fake)
    session_id = payment.stripe_session_id
    stripe_fake.pay(session_id)
    # The event arrives before the portal has stored the session id.
    Payment.objects.filter(pk=payment.pk).update(stripe_session_id=None)
    response = post_event(
        client, "checkout.session.completed", stripe_fake.sessions[session_id], "evt_early"
    )
    assert response.status_code == 200
    assert response.content == b"unknown session"
    assert not StripeEvent.objects.exists()
    assert "unknown session" in caplog.text

    Payment.objects.filter(pk=payment.pk).update(stripe_session_id=session_id)
    with django_capture_on_commit_callbacks(execute=True):
        retry = post_event(
            client, "checkout.session.completed", stripe_fake.sessions[session_id], "evt_early"
        )
    assert retry.content == b"fulfilled"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PAID


# --- Refunds and disputes ---------------------------------------------------


@pytest.mark.django_db
def test_a_refund_made_in_stripe_is_recorded_once(
    client, stripe_fake, django_capture_on_commit_callbacks
):
    payment = paid_card_payment(client, stripe_fake, django_capture_on_commit_callbacks)
    session = stripe_fake.sessions[payment.stripe_session_id]
    stripe_fake.refunds["re_dash"] = {
        "id": "re_dash",
        "amount": 2000,
        "charge": f"ch_{session['payment_intent'].removeprefix('pi_')}",
        "status": "succeeded",
    }
    charge = charge_object(session, refunds=[stripe_fake.refunds["re_dash"]])
    outcomes = [
        post_event(client, "charge.refunded", charge, event_id).content
        for event_id in ("evt_r1", "evt_r2")
    ]
    assert outcomes == [b"refunds recorded: 1", b"no change"]
    payment.refresh_from_db()
    assert payment.refunded_pence == 2000
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert Refund.objects.get(stripe_refund_id="re_dash").recorded_by is None


@pytest.mark.django_db
def test_a_dispute_flags_the_payment_and_tells_the_team_once(
    client, stripe_fake, django_capture_on_commit_callbacks, settings
):
    payment = paid_card_payment(client, stripe_fake, django_capture_on_commit_callbacks)
    dispute = dispute_object(stripe_fake.sessions[payment.stripe_session_id])
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [
            post_event(client, "charge.dispute.created", dispute, event_id).content
            for event_id in ("evt_d1", "evt_d2")
        ]
    assert outcomes == [b"disputed", b"no change"]
    payment.refresh_from_db()
    assert payment.attention_reason == Payment.Attention.DISPUTED and payment.needs_attention
    assert payment.status == Payment.Status.PAID  # the year stands until staff decide
    assert len(emails_to(settings.MEMBERSHIP_TEAM_EMAIL, "disputed")) == 1
    assert AuditEntry.objects.filter(target_id=payment.pk, action="attention_disputed").exists()


@pytest.mark.django_db
def test_charge_events_for_an_unknown_payment_are_not_kept(client, stripe_fake):
    session = {"payment_intent": "pi_nobody", "amount_total": 9500}
    response = post_event(client, "charge.dispute.created", dispute_object(session), "evt_u")
    assert response.content == b"unknown charge"
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_without_the_payment_lock_concurrent_clicks_do_make_several_sessions(
    stripe_fake, monkeypatch
):
    """Negative control for the test above: with Stripe's idempotency keys
    ignored too, the advisory lock is what keeps it to one session."""
    import contextlib

    from members.billing.services import card_payments

    monkeypatch.setattr(card_payments, "_payment_lock", lambda pk: contextlib.nullcontext())
    stripe_fake.delay = 0.2  # Stripe takes a moment, as it does
    stripe_fake.idempotency = False
    membership = MembershipFactory()
    barrier = threading.Barrier(10)

    def click() -> None:
        try:
            client = Client()
            client.force_login(membership.user)
            barrier.wait()
            client.post(PAY, {"method": "stripe"})
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(stripe_fake.sessions) > 1
