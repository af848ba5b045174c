"""Automatic renewal through Stripe Billing (the local fake; nothing leaves
the machine): Checkout in subscription mode, webhooks that are idempotent
and order-independent, notices sent once, stopping with the 14-day refund,
Bacs mandates, fee changes, the customer portal and reconciliation."""

import datetime
import itertools
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from members.billing.services.attention import payment_refund_card
from members.billing.services.auto_renewal import auto_renewal_stop
from members.billing.services.notices import notices_sweep
from members.billing.services.reconciliation import stripe_reconcile
from members.models import (
    AutoRenewal,
    CollectionNotice,
    Membership,
    MembershipPeriod,
    Payment,
    Refund,
)
from tests.factories import (
    MembershipFactory,
    StaffFactory,
    active_member,
    grade,
    team_member,
)
from tests.stripe_fake import (
    charge_object,
    invoice_event_object,
    signed_event,
    upcoming_event_object,
)

SECRET = "whsec_test_secret"
WEBHOOK = "/payments/stripe/webhook/"
START = reverse("members:auto_renewal_start")
_ids = itertools.count(1)


def committed():
    """Run what the request queued for after commit (emails, Stripe calls),
    as a real request's commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def send(client, event_type, obj, event_id=None):
    body, signature = signed_event(
        event_id=event_id or f"evt_{next(_ids):05d}",
        event_type=event_type,
        session=obj,
        secret=SECRET,
    )
    with committed():
        response = client.post(
            WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
    assert response.status_code == 200, response.content
    return response.content.decode()


def member(*, current=True) -> Membership:
    if current:
        return Membership.objects.get(user=active_member())
    return MembershipFactory()


def set_up(client, fake, membership, method="card", *, fail_first=False):
    """The member chooses automatic renewal and finishes Checkout."""
    client.force_login(membership.user)
    response = client.post(START, {"method": method})
    renewal = AutoRenewal.objects.get(membership=membership, status="setting_up")
    assert response["Location"] == fake.sessions[renewal.stripe_checkout_session_id]["url"]
    sub = fake.subscription_checkout_complete(
        renewal.stripe_checkout_session_id, fail_first=fail_first
    )
    send(client, "checkout.session.completed", fake.sessions[renewal.stripe_checkout_session_id])
    renewal.refresh_from_db()
    return renewal, sub


def years(membership) -> int:
    return MembershipPeriod.objects.filter(membership=membership).count()


# --- Setting up ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_current_member_gets_a_trial_to_the_day_the_year_ends(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    session = stripe_fake.sessions[renewal.stripe_checkout_session_id]
    assert session["mode"] == "subscription"
    assert session["payment_method_types"] == ["card"]
    first = membership.expires_on + datetime.timedelta(days=1)
    assert (
        timezone.localdate(datetime.datetime.fromtimestamp(session["trial_end"], tz=datetime.UTC))
        == first
    )
    price = stripe_fake.prices[session["price"]]
    assert (price["unit_amount"], price["recurring"]) == (9500, {"interval": "year"})
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert renewal.next_collection_on == first
    assert (renewal.card_brand, renewal.card_last4) == ("visa", "4242")
    assert (renewal.card_exp_month, renewal.card_exp_year) == (8, 2031)
    assert renewal.stripe_subscription_id == sub["id"]
    assert not Payment.objects.filter(auto_renewal=renewal).exists()


@pytest.mark.django_db
def test_a_joiner_pays_now_and_the_first_invoice_buys_the_first_year(client, stripe_fake):
    membership = member(current=False)
    renewal, _sub = set_up(client, stripe_fake, membership)
    (invoice,) = stripe_fake.invoices.values()
    assert send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"])) == (
        "fulfilled"
    )
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE and years(membership) == 1
    payment = Payment.objects.get(auto_renewal=renewal)
    assert (payment.method, payment.stripe_invoice_id) == ("stripe", invoice["id"])
    assert payment.stripe_payment_intent_id == invoice["intent"]
    assert not payment.auto_collected


@pytest.mark.django_db
def test_the_return_page_finishes_the_set_up_when_the_webhook_is_late(client, stripe_fake):
    membership = member()
    client.force_login(membership.user)
    client.post(START, {"method": "card"})
    renewal = AutoRenewal.objects.get(membership=membership)
    stripe_fake.subscription_checkout_complete(renewal.stripe_checkout_session_id)
    response = client.get(reverse("members:auto_renewal_return") + "?outcome=success", follow=True)
    assert b"renews automatically" in response.content
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE


@pytest.mark.django_db
def test_stripe_not_answering_leaves_no_half_set_up(client, stripe_fake, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    membership = member()
    client.force_login(membership.user)
    response = client.post(START, {"method": "bacs_debit"})
    assert response.status_code == 503
    assert not AutoRenewal.objects.exclude(status="ended").exists()


# --- Each event x5 and x10 at once: one year -------------------------------


def _at_once(n, fire):
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait()
            fire(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [5, 10])
@pytest.mark.parametrize("same_event", [True, False])
def test_invoice_paid_n_times_at_once_buys_one_year(stripe_fake, n, same_event):
    membership = member()
    expires = membership.expires_on
    _renewal, sub = set_up(Client(), stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    obj = invoice_event_object(stripe_fake, invoice["id"])
    _at_once(n, lambda i: send(Client(), "invoice.paid", obj, "evt_same" if same_event else None))
    membership.refresh_from_db()
    assert years(membership) == 2
    assert membership.expires_on == expires.replace(year=expires.year + 1)
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"], status="paid").count() == 1
    assert Payment.objects.get(stripe_invoice_id=invoice["id"]).auto_collected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [5, 10])
@pytest.mark.parametrize(
    "event_type",
    [
        "checkout.session.completed",
        "customer.subscription.updated",
        "invoice.upcoming",
        "invoice.payment_failed",
        "mandate.updated",
        "customer.subscription.deleted",
    ],
)
def test_every_other_event_n_times_at_once_acts_once(stripe_fake, n, event_type):
    membership = member()
    renewal, sub = set_up(Client(), stripe_fake, membership, method="bacs_debit")
    mail.outbox.clear()
    if event_type == "checkout.session.completed":
        obj = stripe_fake.sessions[renewal.stripe_checkout_session_id]
    elif event_type == "customer.subscription.updated":
        obj = sub
    elif event_type == "invoice.upcoming":
        obj = upcoming_event_object(stripe_fake, sub["id"])
    elif event_type == "invoice.payment_failed":
        invoice = stripe_fake.invoice_cycle(sub["id"])
        stripe_fake.invoice_fail(invoice["id"])
        obj = invoice_event_object(stripe_fake, invoice["id"])
    elif event_type == "mandate.updated":
        obj = stripe_fake.mandate_set(stripe_fake.mandate_of(sub["id"])["id"], "inactive")
    else:
        invoice = stripe_fake.invoice_cycle(sub["id"])
        obj = stripe_fake.retries_end(invoice["id"])
    _at_once(n, lambda i: send(Client(), event_type, obj))
    renewal.refresh_from_db()
    notices = list(CollectionNotice.objects.filter(auto_renewal=renewal))
    assert len(notices) == len({(x.kind, x.collection_on, x.attempt) for x in notices})
    expected = {
        "checkout.session.completed": ([], "active"),
        "customer.subscription.updated": ([], "active"),
        "invoice.upcoming": (["upcoming"], "active"),
        "invoice.payment_failed": (["failed"], "past_due"),
        "mandate.updated": (["mandate_failed"], "ended"),
        "customer.subscription.deleted": (["retries_ended"], "ended"),
    }[event_type]
    assert sorted(x.kind for x in notices) == expected[0]
    assert renewal.status == expected[1]
    assert len(mail.outbox) == len(expected[0])
    assert years(membership) == 1


# --- Every order of paid / deleted / failed -----------------------------------


ORDERS = list(itertools.permutations(["invoice.paid", "invoice.payment_failed", "deleted"]))


@pytest.mark.django_db
@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_every_order_of_paid_failed_deleted_ends_the_same(client, stripe_fake, order):
    """A collection that failed once, was paid on Stripe's retry, and then
    the subscription ended (the member stopped at Stripe): whatever order
    the three events come in, one year is bought, the arrangement ends as
    stopped and nobody is told the collection failed."""
    membership = member()
    expires = membership.expires_on
    renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_fail(invoice["id"])
    stripe_fake.invoice_pay(invoice["id"])
    stripe_fake.subscription_end(sub["id"], reason="cancellation_requested")
    mail.outbox.clear()
    for kind in order:
        if kind == "deleted":
            send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
        else:
            send(client, kind, invoice_event_object(stripe_fake, invoice["id"]))
    membership.refresh_from_db()
    renewal.refresh_from_db()
    assert years(membership) == 2
    assert membership.expires_on == expires.replace(year=expires.year + 1)
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"]).count() == 1
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.STOPPED
    assert not CollectionNotice.objects.filter(auto_renewal=renewal, kind="failed").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("deleted_first", [True, False])
def test_retries_ending_tell_the_member_once_and_the_membership_runs_out(
    client, stripe_fake, deleted_first
):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_fail(invoice["id"])
    send(client, "invoice.payment_failed", invoice_event_object(stripe_fake, invoice["id"]))
    stripe_fake.invoice_fail(invoice["id"])
    send(client, "invoice.payment_failed", invoice_event_object(stripe_fake, invoice["id"]))
    stripe_fake.retries_end(invoice["id"])
    events = [
        ("invoice.payment_failed", invoice_event_object(stripe_fake, invoice["id"])),
        ("customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]]),
    ]
    for kind, obj in events[::-1] if deleted_first else events:
        send(client, kind, obj)
        send(client, kind, obj)  # Stripe delivers again: nothing more
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.RETRIES_ENDED
    kinds = sorted(
        CollectionNotice.objects.filter(auto_renewal=renewal).values_list("kind", flat=True)
    )
    assert kinds == ["failed", "failed", "retries_ended"]
    assert len(mail.outbox) == 3
    assert "pay once by card" in mail.outbox[-1].body
    membership.refresh_from_db()
    assert years(membership) == 1
    # The year runs out, then grace, then lapse, as for anyone.
    assert notices_sweep(today=membership.expires_on + datetime.timedelta(days=1)).to_grace == 1


# --- Notices -------------------------------------------------------------------


@pytest.mark.django_db
def test_upcoming_notice_once_per_collection_with_card_amount_date_and_stop_link(
    client, stripe_fake
):
    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership)
    mail.outbox.clear()
    for _ in range(4):
        send(client, "invoice.upcoming", upcoming_event_object(stripe_fake, sub["id"]))
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    first = membership.expires_on + datetime.timedelta(days=1)
    assert f"{first:%-d %B %Y}" in body and "£95.00" in body
    assert "ending 4242" in body and "08/2031" in body
    assert "/membership/auto-renewal/stop/" in body
    # The next year's collection gets its own notice.
    stripe_fake.invoice_cycle(sub["id"])
    send(client, "invoice.upcoming", upcoming_event_object(stripe_fake, sub["id"]))
    assert len(mail.outbox) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("repriced_on_save", [True, False])
def test_a_fee_change_reaches_the_next_collection_and_its_notice(
    client, stripe_fake, repriced_on_save
):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    member_grade = grade("member")
    if repriced_on_save:
        # Staff change the fee in the admin: the subscriptions follow.
        client.force_login(StaffFactory(mfa=True, is_superuser=True))
        form = {
            "name": member_grade.name,
            "slug": member_grade.slug,
            "annual_fee_pence": "9900",
            "eligibility": member_grade.eligibility,
            "post_nominals": member_grade.post_nominals,
            "is_active": "on",
            "display_order": str(member_grade.display_order),
        }
        url = reverse("admin:members_grade_change", args=[member_grade.pk])
        with committed():
            assert client.post(url, {k: v for k, v in form.items() if v}).status_code == 302
        assert (
            stripe_fake.subscriptions[sub["id"]]["items"]["data"][0]["price"]["unit_amount"]
            == 9900
        )
    else:
        member_grade.annual_fee_pence = 9900
        member_grade.save()
    mail.outbox.clear()
    send(client, "invoice.upcoming", upcoming_event_object(stripe_fake, sub["id"]))
    assert "£99.00" in mail.outbox[0].body
    item = stripe_fake.subscriptions[sub["id"]]["items"]["data"][0]
    assert item["price"]["unit_amount"] == 9900
    assert stripe_fake.subscriptions[sub["id"]]["proration_behavior"] == "none"
    renewal.refresh_from_db()
    assert renewal.next_amount_pence == 9900


# --- Stopping ------------------------------------------------------------------


@pytest.mark.django_db
def test_stop_within_14_days_of_a_collection_refunds_it_in_full_once(client, stripe_fake):
    membership = member()
    expires = membership.expires_on
    renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))
    client.force_login(membership.user)
    with committed():
        first = client.post(reverse("members:auto_renewal_stop"), follow=True)
        client.post(reverse("members:auto_renewal_stop"))
    assert b"refunded to you in full" in first.content
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [9500]
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.status == Payment.Status.REFUNDED
    # Stripe's own events about it record nothing twice.
    refund = next(iter(stripe_fake.refunds.values()))
    charge = charge_object(
        {"payment_intent": refund["payment_intent"], "amount_total": 9500}, refunds=[refund]
    )
    send(client, "charge.refunded", charge)
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
    assert Refund.objects.filter(payment=payment).count() == 1
    membership.refresh_from_db()
    assert membership.expires_on == expires
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.STOPPED
    assert CollectionNotice.objects.filter(auto_renewal=renewal, kind="refunded").count() == 1


@pytest.mark.django_db
def test_stop_later_cancels_at_period_end_and_keeps_the_year(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=membership.user, actor_label="")
    assert result.changed and result.refund is None
    assert result.ends_on == membership.expires_on
    assert stripe_fake.subscriptions[sub["id"]]["cancel_at_period_end"] is True
    send(client, "customer.subscription.updated", stripe_fake.subscriptions[sub["id"]])
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING
    stripe_fake.subscription_end(sub["id"], reason="cancellation_requested")
    send(client, "customer.subscription.deleted", stripe_fake.subscriptions[sub["id"]])
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.STOPPED
    assert not stripe_fake.refunds


@pytest.mark.django_db
def test_staff_can_refund_an_automatic_bacs_collection_through_stripe(client, stripe_fake):
    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.method == Payment.Method.BACS_DEBIT
    refund = payment_refund_card(
        payment=payment,
        amount_pence=2000,
        reason="Goodwill",
        effect=Refund.Effect.NONE,
        by=team_member("Membership team"),
    )
    assert refund.stripe_refund_id in stripe_fake.refunds
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED


# --- Bacs Direct Debit -----------------------------------------------------------


@pytest.mark.django_db
def test_bacs_pending_keeps_benefits_then_revoked_tells_the_member(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    assert renewal.mandate_status == AutoRenewal.Mandate.PENDING
    assert renewal.bank_last4 == "2345"
    mandate = stripe_fake.mandate_of(sub["id"])
    # The collection day comes while the Direct Debit is still processing:
    # the year ends, the member is in grace and keeps their benefits.
    stripe_fake.invoice_cycle(sub["id"])
    notices_sweep(today=membership.expires_on + datetime.timedelta(days=3))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.IN_GRACE and membership.in_good_standing
    mail.outbox.clear()
    send(client, "mandate.updated", stripe_fake.mandate_set(mandate["id"], "inactive"))
    renewal.refresh_from_db()
    assert renewal.mandate_status == AutoRenewal.Mandate.INACTIVE
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.MANDATE_REVOKED
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    (told,) = [m for m in mail.outbox if "Direct Debit" in m.subject]
    assert "by card" in told.body and "invoice" in told.body
    membership.refresh_from_db()
    assert membership.in_good_standing
    # A late "active" for the revoked mandate changes nothing.
    stripe_fake.mandate_set(mandate["id"], "active")
    assert send(client, "mandate.updated", stripe_fake.mandates[mandate["id"]]) == "no change"


@pytest.mark.django_db
def test_bacs_mandate_becoming_active_is_recorded_with_its_reference(client, stripe_fake):
    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership, method="bacs_debit")
    mandate = stripe_fake.mandate_set(stripe_fake.mandate_of(sub["id"])["id"], "active")
    send(client, "mandate.updated", mandate)
    renewal.refresh_from_db()
    assert renewal.mandate_status == AutoRenewal.Mandate.ACTIVE
    assert (
        renewal.mandate_reference == mandate["payment_method_details"]["bacs_debit"]["reference"]
    )


# --- Customer portal, reconciliation ---------------------------------------------


@pytest.mark.django_db
def test_change_card_opens_the_portal_limited_to_payment_methods(client, stripe_fake):
    membership = member()
    renewal, _sub = set_up(client, stripe_fake, membership)
    client.force_login(membership.user)
    response = client.post(reverse("members:auto_renewal_payment_method"))
    (session,) = stripe_fake.portal_sessions
    assert response["Location"] == session["url"]
    assert session["customer"] == renewal.stripe_customer_id
    features = stripe_fake.portal_configurations[session["configuration"]]["features"]
    assert features["features[payment_method_update][enabled]"] == "true"
    assert features["features[subscription_cancel][enabled]"] == "false"
    client.post(reverse("members:auto_renewal_payment_method"))
    assert len(stripe_fake.portal_configurations) == 1


@pytest.mark.django_db
def test_reconciliation_settles_a_paid_subscription_invoice_once(client, stripe_fake):
    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    first = stripe_reconcile()
    second = stripe_reconcile()
    assert (first.invoices, first.invoices_fulfilled) == (1, 1)
    assert (second.invoices, second.invoices_fulfilled) == (1, 0)
    assert years(membership) == 2
    assert first.unknown == 0  # the subscription's own session buys nothing


@pytest.mark.django_db(transaction=True)
def test_five_stop_clicks_at_once_refund_once(stripe_fake):
    # The portal's own lock, not Stripe's idempotency keys, keeps it to one.
    stripe_fake.idempotency = False
    membership = member()
    renewal, sub = set_up(Client(), stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    send(Client(), "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))

    def click(i):
        client = Client()
        client.force_login(membership.user)
        assert client.post(reverse("members:auto_renewal_stop")).status_code == 302

    _at_once(5, click)
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [9500]
    assert Refund.objects.count() == 1
    assert Payment.objects.get(stripe_invoice_id=invoice["id"]).status == "refunded"
    assert CollectionNotice.objects.filter(auto_renewal=renewal, kind="refunded").count() == 1


@pytest.mark.django_db
def test_an_abandoned_checkout_ends_the_set_up_when_stripe_expires_it(client, stripe_fake):
    membership = member()
    client.force_login(membership.user)
    client.post(START, {"method": "card"})
    renewal = AutoRenewal.objects.get(membership=membership)
    back = client.get(reverse("members:auto_renewal_return") + "?outcome=cancel", follow=True)
    assert b"was not set up" in back.content
    session = stripe_fake.set_session(renewal.stripe_checkout_session_id, status="expired")
    assert send(client, "checkout.session.expired", session) == "abandoned"
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.ABANDONED


@pytest.mark.django_db
def test_an_event_for_an_unknown_subscription_is_answered_but_not_kept(client, stripe_fake):
    from members.models import StripeEvent

    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership)
    AutoRenewal.objects.update(stripe_subscription_id=None)
    stripe_fake.subscriptions[sub["id"]]["metadata"] = {}
    obj = upcoming_event_object(stripe_fake, sub["id"])
    assert send(client, "invoice.upcoming", obj, "evt_unknown") == "unknown subscription"
    assert not StripeEvent.objects.filter(event_id="evt_unknown").exists()
    assert not CollectionNotice.objects.exists()


@pytest.mark.django_db
def test_reconciling_settled_invoices_costs_two_queries_a_page_of_them(
    client, stripe_fake, django_assert_num_queries
):
    for _ in range(3):
        membership = member()
        _renewal, sub = set_up(client, stripe_fake, membership)
        for _ in range(2):
            invoice = stripe_fake.invoice_cycle(sub["id"])
            stripe_fake.invoice_pay(invoice["id"])
            send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))
    assert Payment.objects.filter(auto_collected=True).count() == 6
    # Three pages of invoices at two queries each, and the two pages of the
    # renewals' (finished) Checkout sessions at one each.
    with django_assert_num_queries(3 * 2 + 2 * 1):
        result = stripe_reconcile(page_size=2)
    assert (result.invoices, result.invoices_fulfilled) == (6, 0)


@pytest.mark.django_db
def test_a_renewal_in_grace_is_collected_next_on_the_day_after_the_backdated_year(
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
    (invoice,) = stripe_fake.invoices.values()
    send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))
    membership.refresh_from_db()
    renewal.refresh_from_db()
    assert membership.expires_on == old_expiry.replace(year=old_expiry.year + 1)
    assert renewal.next_collection_on == membership.expires_on + datetime.timedelta(days=1)
    moved = stripe_fake.subscriptions[sub["id"]]
    assert moved["status"] == "trialing" and moved["proration_behavior"] == "none"


@pytest.mark.django_db
def test_a_refund_made_in_the_stripe_dashboard_is_recorded_on_the_collection(client, stripe_fake):
    membership = member()
    _renewal, sub = set_up(client, stripe_fake, membership)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_pay(invoice["id"])
    send(client, "invoice.paid", invoice_event_object(stripe_fake, invoice["id"]))
    refund = {
        "id": "re_dashboard_1",
        "object": "refund",
        "amount": 3000,
        "charge": f"ch_{invoice['intent'].removeprefix('pi_')}",
        "payment_intent": invoice["intent"],
        "status": "succeeded",
    }
    stripe_fake.refunds[refund["id"]] = refund
    charge = charge_object(
        {"payment_intent": invoice["intent"], "amount_total": 9500}, refunds=[refund]
    )
    assert send(client, "charge.refunded", charge) == "refunds recorded: 1"
    assert send(client, "charge.refunded", charge) in ("duplicate", "no change")
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.refunded_pence == 3000
    assert Refund.objects.get(payment=payment).stripe_refund_id == "re_dashboard_1"


@pytest.mark.django_db
def test_reconciliation_finishes_a_set_up_whose_webhook_never_came(client, stripe_fake):
    membership = member()
    client.force_login(membership.user)
    client.post(START, {"method": "card"})
    renewal = AutoRenewal.objects.get(membership=membership)
    stripe_fake.subscription_checkout_complete(renewal.stripe_checkout_session_id)
    assert stripe_reconcile().set_ups_finished == 1
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert stripe_reconcile().set_ups_finished == 0


@pytest.mark.django_db
def test_erasing_a_member_ends_automatic_renewal_and_cancels_it_at_stripe(client, stripe_fake):
    from members.privacy.erase import member_erase

    membership = member()
    renewal, sub = set_up(client, stripe_fake, membership)
    with committed():
        member_erase(user=membership.user, by=team_member("Administrators"))
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    assert renewal.end_reason == AutoRenewal.EndReason.MEMBERSHIP_ENDED
    assert (renewal.card_last4, renewal.card_brand) == ("", "")
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
