"""Automatic renewal of an organisation's seats through Stripe Billing (the
local fake): set-up by an administrator, the collected invoice buying one
organisation year once (seats carried), notices to the administrators,
stopping, and the full refund within 14 days."""

import datetime
import itertools
import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from members.billing.services.auto_renewal import auto_renewal_stop
from members.exceptions import MembershipError
from members.models import (
    AutoRenewal,
    Membership,
    OrganisationMembership,
    Payment,
    Refund,
    SeatHolding,
)
from members.organisations.auto_renewal import organisation_auto_renewal_start
from tests.factories import UserFactory
from tests.members.organisations.world import paid_year, seat_holder
from tests.stripe_fake import charge_object, invoice_event_object, signed_event

SECRET = "whsec_test_secret"
WEBHOOK = "/payments/stripe/webhook/"
_ids = itertools.count(1)


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


def send(client, event_type, obj, event_id=None):
    body, signature = signed_event(
        event_id=event_id or f"evt_org_{next(_ids):05d}",
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


def ending_soon(seats=3):
    """A paid year of ``seats`` ending in 20 days (its renewal is open)."""
    year, admin = paid_year(seats=seats)
    today = timezone.localdate()
    OrganisationMembership.objects.filter(pk=year.pk).update(
        starts_on=today - datetime.timedelta(days=345), ends_on=today + datetime.timedelta(days=20)
    )
    year.refresh_from_db()
    return year, admin


def set_up(fake, year, admin, method="card"):
    """An administrator chooses automatic renewal and finishes Checkout."""
    renewal = organisation_auto_renewal_start(
        account=year.account,
        method=method,
        by=admin,
        success_url="http://testserver/done",
        cancel_url="http://testserver/back",
    )
    sub = fake.subscription_checkout_complete(renewal.stripe_checkout_session_id)
    send(Client(), "checkout.session.completed", fake.sessions[renewal.stripe_checkout_session_id])
    renewal.refresh_from_db()
    return renewal, sub


def collect(fake, sub):
    """Stripe collects the next year; returns the invoice's event object."""
    invoice = fake.invoice_cycle(sub["id"])
    fake.invoice_pay(invoice["id"])
    return invoice, invoice_event_object(fake, invoice["id"])


def years(account) -> list[OrganisationMembership]:
    return list(
        OrganisationMembership.objects.filter(
            account=account, status=OrganisationMembership.Status.ACTIVE
        ).order_by("starts_on")
    )


@pytest.mark.django_db
def test_an_administrator_sets_up_seats_collected_the_day_after_the_year_ends(stripe_fake):
    year, admin = paid_year(seats=3)
    renewal, sub = set_up(stripe_fake, year, admin, method="bacs_debit")
    session = stripe_fake.sessions[renewal.stripe_checkout_session_id]
    assert session["mode"] == "subscription"
    assert session["payment_method_types"] == ["bacs_debit"]
    first = year.ends_on + datetime.timedelta(days=1)
    trial_end = datetime.datetime.fromtimestamp(session["trial_end"], tz=datetime.UTC)
    assert timezone.localdate(trial_end) == first
    # The year's fee as one item: three seats at £80.
    price = stripe_fake.prices[session["price"]]
    assert (price["unit_amount"], price["recurring"]) == (24000, {"interval": "year"})
    assert renewal.organisation_account_id == year.account_id and renewal.membership is None
    assert renewal.status == AutoRenewal.Status.ACTIVE
    assert renewal.next_collection_on == first
    assert renewal.stripe_subscription_id == sub["id"]
    assert not Payment.objects.filter(auto_renewal=renewal).exists()


@pytest.mark.django_db
def test_only_an_administrator_with_a_paid_year_can_set_it_up(stripe_fake):
    year, _admin = paid_year()
    with pytest.raises(MembershipError, match="administrators"):
        organisation_auto_renewal_start(
            account=year.account,
            method="card",
            by=UserFactory(),
            success_url="http://testserver/",
            cancel_url="http://testserver/",
        )
    assert not AutoRenewal.objects.exists()


@pytest.mark.django_db
def test_a_renewal_renews_exactly_one_thing():
    year, admin = paid_year()
    membership = Membership.objects.create(user=admin, grade=year.grade.member_grade)
    with pytest.raises(IntegrityError):
        AutoRenewal.objects.create(
            membership=membership,
            organisation_account=year.account,
            method="card",
            grade=year.grade.member_grade,
        )


@pytest.mark.django_db
def test_the_collected_invoice_buys_the_next_year_and_carries_the_seats(stripe_fake):
    year, admin = ending_soon(seats=3)
    holder, _ = seat_holder(year, admin)
    renewal, sub = set_up(stripe_fake, year, admin)
    invoice, obj = collect(stripe_fake, sub)
    assert send(Client(), "invoice.paid", obj, event_id="evt_org_paid") == "fulfilled"
    assert send(Client(), "invoice.paid", obj, event_id="evt_org_paid") == "duplicate"
    assert send(Client(), "invoice.paid", obj, event_id="evt_org_other") == "no change"
    first, second = years(year.account)
    assert second.starts_on == first.ends_on + datetime.timedelta(days=1)
    assert (second.seats, second.grade_id, second.renews_id) == (3, year.grade_id, year.pk)
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.organisation_membership == second and payment.membership is None
    assert payment.status == Payment.Status.PAID and payment.auto_collected
    assert payment.auto_renewal == renewal
    # The seat holder's seat carried into the new year.
    assert SeatHolding.objects.filter(
        user=holder, organisation_membership=second, released_on__isnull=True
    ).exists()


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
@pytest.mark.parametrize("same_event", [True, False])
def test_five_invoice_paid_events_at_once_buy_one_organisation_year(stripe_fake, same_event):
    year, admin = ending_soon(seats=2)
    _renewal, sub = set_up(stripe_fake, year, admin)
    invoice, obj = collect(stripe_fake, sub)
    _at_once(
        5,
        lambda i: send(Client(), "invoice.paid", obj, "evt_org_same" if same_event else None),
    )
    assert len(years(year.account)) == 2
    assert Payment.objects.filter(stripe_invoice_id=invoice["id"]).count() == 1
    assert Payment.objects.get(stripe_invoice_id=invoice["id"]).status == Payment.Status.PAID


@pytest.mark.django_db
def test_the_upcoming_collection_is_told_to_every_administrator(stripe_fake):
    from members.organisations.seats import organisation_administrator_add

    year, admin = paid_year()
    other = UserFactory(email="partner@riverside.example")
    organisation_administrator_add(account=year.account, email=other.email, by=admin)
    _renewal, sub = set_up(stripe_fake, year, admin)
    mail.outbox.clear()
    obj = {"object": "invoice", "subscription": sub["id"], "customer": sub["customer"]}
    send(Client(), "invoice.upcoming", obj)
    send(Client(), "invoice.upcoming", obj)
    upcoming = [m for m in mail.outbox if "renews" in m.subject]
    assert sorted(m.to[0] for m in upcoming) == sorted([admin.email, other.email])
    assert "Riverside Surgery organisation membership" in upcoming[0].body
    assert "£240.00" in upcoming[0].body
    stop = reverse("members:auto_renewal_stop_link", args=["x"]).rsplit("x", 1)[0]
    assert stop in upcoming[0].body


@pytest.mark.django_db
def test_stopping_later_keeps_the_year_and_collects_no_more(stripe_fake):
    year, admin = paid_year()
    renewal, sub = set_up(stripe_fake, year, admin)
    result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=admin, actor_label="")
    assert result.changed and result.ends_on == year.ends_on and result.refund is None
    assert stripe_fake.subscriptions[sub["id"]]["cancel_at_period_end"]
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING
    again = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=admin, actor_label="")
    assert not again.changed
    assert years(year.account) == [year]


@pytest.mark.django_db
def test_stop_within_14_days_of_a_collection_refunds_it_in_full_once_and_ends_that_year(
    stripe_fake,
):
    year, admin = ending_soon(seats=3)
    holder, _ = seat_holder(year, admin)
    renewal, sub = set_up(stripe_fake, year, admin)
    invoice, obj = collect(stripe_fake, sub)
    send(Client(), "invoice.paid", obj)
    _first, second = years(year.account)
    with committed():
        result = auto_renewal_stop(auto_renewal_id=renewal.pk, actor=admin, actor_label="")
        auto_renewal_stop(auto_renewal_id=renewal.pk, actor=admin, actor_label="")
    assert result.refund is not None and result.refund.amount_pence == 24000
    assert [r["amount"] for r in stripe_fake.refunds.values()] == [24000]
    assert stripe_fake.subscriptions[sub["id"]]["status"] == "canceled"
    payment = Payment.objects.get(stripe_invoice_id=invoice["id"])
    assert payment.status == Payment.Status.REFUNDED
    # Stripe's own refund event records nothing twice.
    refund = next(iter(stripe_fake.refunds.values()))
    charge = charge_object(
        {"payment_intent": refund["payment_intent"], "amount_total": 24000}, refunds=[refund]
    )
    send(Client(), "charge.refunded", charge)
    assert Refund.objects.filter(payment=payment).count() == 1
    # The refunded year is cancelled and its seat freed; the year paid
    # for before it is kept.
    second.refresh_from_db()
    assert second.status == OrganisationMembership.Status.CANCELLED
    assert not SeatHolding.objects.filter(
        organisation_membership=second, released_on__isnull=True
    ).exists()
    assert SeatHolding.objects.filter(
        user=holder, organisation_membership=year, released_on__isnull=True
    ).exists()
    assert years(year.account) == [year]
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.ENDED
    refunded = [m for m in mail.outbox if admin.email in m.to and "refund" in m.subject.lower()]
    assert len(refunded) == 1


# --- The administrator's page -------------------------------------------------


@pytest.mark.django_db
def test_the_account_page_offers_sets_up_shows_and_stops_it_in_one_click(client, stripe_fake):
    year, admin = ending_soon(seats=2)
    page = reverse("members:organisation", args=[year.account_id])
    client.force_login(admin)
    html = client.get(page).content.decode()
    assert "Renew the seats automatically by card" in html
    assert "Renew the seats automatically by Direct Debit" in html
    response = client.post(
        reverse("members:organisation_auto_renewal_start", args=[year.account_id]),
        {"method": "card"},
    )
    renewal = AutoRenewal.objects.get(organisation_account=year.account)
    assert response["Location"] == stripe_fake.sessions[renewal.stripe_checkout_session_id]["url"]
    stripe_fake.subscription_checkout_complete(renewal.stripe_checkout_session_id)
    # Back from Checkout before the webhook: the set-up is finished here.
    back = client.get(
        reverse("members:organisation_auto_renewal_return", args=[year.account_id]), follow=True
    )
    first = year.ends_on + datetime.timedelta(days=1)
    assert f"first collection is on {first:%-d %B %Y}" in back.content.decode()
    html = client.get(page).content.decode()
    assert f"£160.00 is collected on {first:%-d %B %Y}" in html
    with committed():
        stopped = client.post(
            reverse("members:organisation_auto_renewal_stop", args=[year.account_id]),
            follow=True,
        )
    assert f"The seats run to {year.ends_on:%-d %B %Y}" in stopped.content.decode()
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING


@pytest.mark.django_db
def test_a_bad_method_is_refused_with_a_message_and_nothing_set_up(client, stripe_fake):
    year, admin = ending_soon()
    client.force_login(admin)
    response = client.post(
        reverse("members:organisation_auto_renewal_start", args=[year.account_id]),
        {"method": "<script>"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"by card or by Direct Debit" in response.content
    assert not AutoRenewal.objects.exists()


@pytest.mark.django_db
def test_without_stripe_the_page_does_not_offer_it(client, settings):
    settings.STRIPE_SECRET_KEY = ""
    year, admin = ending_soon()
    client.force_login(admin)
    html = client.get(reverse("members:organisation", args=[year.account_id])).content.decode()
    assert "Renew the seats automatically" not in html


# --- Failures and reconciliation ----------------------------------------------


@pytest.mark.django_db
def test_a_failed_collection_tells_the_administrators_once(stripe_fake):
    year, admin = ending_soon(seats=2)
    renewal, sub = set_up(stripe_fake, year, admin)
    invoice = stripe_fake.invoice_cycle(sub["id"])
    stripe_fake.invoice_fail(invoice["id"])
    mail.outbox.clear()
    obj = invoice_event_object(stripe_fake, invoice["id"])
    send(Client(), "invoice.payment_failed", obj)
    send(Client(), "invoice.payment_failed", obj)
    failed = [m for m in mail.outbox if admin.email in m.to]
    assert len(failed) == 1
    assert "Riverside Surgery organisation membership" in failed[0].body
    # Paying once is done on the account's page, not a personal pay page.
    assert reverse("members:organisation", args=[year.account.pk]) in failed[0].body
    assert reverse("members:pay") not in failed[0].body
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.PAST_DUE
    assert len(years(year.account)) == 1


@pytest.mark.django_db
def test_reconciliation_buys_the_year_of_an_invoice_whose_webhook_never_came(stripe_fake):
    from members.billing.services.reconciliation import stripe_reconcile

    year, admin = ending_soon(seats=2)
    _renewal, sub = set_up(stripe_fake, year, admin)
    invoice, _obj = collect(stripe_fake, sub)
    first = stripe_reconcile()
    assert first.invoices_fulfilled == 1
    assert stripe_reconcile().invoices_fulfilled == 0
    assert len(years(year.account)) == 2
    assert Payment.objects.get(stripe_invoice_id=invoice["id"]).status == Payment.Status.PAID


@pytest.mark.django_db
def test_the_email_stop_link_stops_the_seats_renewal_with_no_sign_in(stripe_fake):
    from members.billing.services.auto_renewal import stop_token

    year, admin = ending_soon(seats=2)
    renewal, _sub = set_up(stripe_fake, year, admin)
    link = reverse("members:auto_renewal_stop_link", args=[stop_token(renewal)])
    anonymous = Client()
    assert b"the seats of Riverside Surgery" in anonymous.get(link).content
    with committed():
        response = anonymous.post(link)
    assert b"Automatic renewal stopped" in response.content
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING


@pytest.mark.django_db
def test_the_renewal_reminder_says_the_seats_renew_automatically(stripe_fake):
    from members.organisations.notices import organisation_notices_send, organisation_notices_sweep

    year, admin = ending_soon(seats=2)
    set_up(stripe_fake, year, admin)
    queued: list[int] = []
    organisation_notices_sweep(today=timezone.localdate(), enqueue=queued.extend)
    mail.outbox.clear()
    assert organisation_notices_send(notice_ids=queued) == 1
    (email,) = mail.outbox
    first = year.ends_on + datetime.timedelta(days=1)
    assert email.subject.endswith(f"renews automatically on {first:%-d %B %Y}")
    assert "you do not need to do anything" in email.body
    assert "£160.00 from your card" in email.body
    assert "/buy/" not in email.body
