"""Joining with automatic card renewal, at 1280 px and on a 320 px phone
with the offline test provider (no Stripe), and at 1024 px through the
local Stripe stand-in: the pay page says what will happen, the dashboard
says "Renews automatically on D", one click stops it and the dashboard
says when the membership ends. axe (target-size on) on every page."""

import copy
import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from members.billing.services.membership import period_end
from members.models import AutoRenewal, Membership
from tests.browser.conftest import check_page
from tests.browser.test_account_pages import sign_in
from tests.browser.test_reports_journey import membership_team_member
from tests.factories import MembershipFactory, active_member
from tests.stripe_fake import invoice_event_object, signed_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def test_join_with_automatic_card_renewal_then_stop(screen, live_server, settings):
    settings.STRIPE_SECRET_KEY = ""  # the offline test provider collects
    page = screen
    membership = MembershipFactory()  # chose a grade, awaiting payment
    sign_in(page, membership.user, live_server)
    today = timezone.localdate()
    renews_on = period_end(today) + datetime.timedelta(days=1)

    page.goto("/membership/join/check/")
    expect(page.get_by_text("renew automatically", exact=False).first).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Continue to payment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay for your membership")
    offer = page.get_by_role("region", name="By card")
    expect(offer).to_contain_text("£95.00 a year")
    expect(offer).to_contain_text(f"Today, then every year on {renews_on.day} {renews_on:%B}")
    expect(offer).to_contain_text("An email at least")
    expect(offer).to_contain_text("One click on your dashboard")
    expect(page.get_by_role("region", name="By Direct Debit")).to_contain_text(
        "about 4 working days"
    )
    check_page(page)
    offer.get_by_role("button", name="Renew automatically by card").click()

    # The offline provider's stand-in for Stripe Checkout.
    expect(page.get_by_role("heading", level=1)).to_contain_text("automatic renewal")
    check_page(page)
    page.get_by_role("button", name="Complete test set-up").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    panel = page.locator("#auto-renewal")
    expect(panel).to_contain_text(f"Renews automatically on {long_date(renews_on)}")
    expect(panel).to_contain_text("card ending 4242")
    expect(page.get_by_role("link", name="Renew your membership")).to_have_count(0)
    check_page(page)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    renewal = AutoRenewal.objects.get(membership=membership)
    assert renewal.status == AutoRenewal.Status.ACTIVE

    panel.get_by_role("button", name="Stop automatic renewal").click()
    expect(page.locator("#auto-renewal")).to_contain_text(
        f"Your membership ends on {long_date(membership.expires_on)}"
    )
    expect(page.get_by_role("button", name="Stop automatic renewal")).to_have_count(0)
    check_page(page)
    renewal.refresh_from_db()
    assert renewal.status == AutoRenewal.Status.STOPPING


def _webhook(event_type: str, obj: dict, event_id: str) -> None:
    body, signature = signed_event(
        event_id=event_id, event_type=event_type, session=obj, secret="whsec_test_secret"
    )
    response = Client().post(
        "/payments/stripe/webhook/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 200, response.content


def test_join_with_automatic_card_renewal_through_stripe_then_stop(
    page, live_server, stripe_fake, settings
):
    """The same journey with Stripe (the local stand-in): Checkout is
    Stripe's page, the webhooks finish the set-up and the first payment."""
    # The form leaves for Stripe's pages, here the stand-in's address.
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(stripe_fake.url)
    settings.CONTENT_SECURITY_POLICY = policy
    membership = MembershipFactory()
    sign_in(page, membership.user, live_server)
    renews_on = period_end(timezone.localdate()) + datetime.timedelta(days=1)
    page.goto("/membership/pay/")
    offer = page.get_by_role("region", name="By card")
    expect(offer).to_contain_text(f"Today, then every year on {renews_on.day} {renews_on:%B}")
    check_page(page)
    offer.get_by_role("button", name="Renew automatically by card").click()
    # Off to Stripe's Checkout (the stand-in's address; it shows no page).
    expect(page).to_have_url(re.compile(re.escape(stripe_fake.url) + r"/pay/cs_"))

    renewal = AutoRenewal.objects.get(membership=membership)
    session_id = renewal.stripe_checkout_session_id
    stripe_fake.subscription_checkout_complete(session_id)
    _webhook("checkout.session.completed", stripe_fake.sessions[session_id], "evt_journey_1")
    (invoice,) = stripe_fake.invoices.values()
    _webhook("invoice.paid", invoice_event_object(stripe_fake, invoice["id"]), "evt_journey_2")

    page.goto("/membership/auto-renewal/return/?outcome=success")
    panel = page.locator("#auto-renewal")
    expect(panel).to_contain_text(f"Renews automatically on {long_date(renews_on)}")
    expect(panel).to_contain_text("Visa card ending 4242")
    expect(
        page.get_by_role("button", name="Simulate the next automatic collection")
    ).to_have_count(0)
    check_page(page)

    # Changing the card is Stripe's customer portal.
    panel.get_by_role("button", name="Change card").click()
    expect(page).to_have_url(re.compile(re.escape(stripe_fake.url) + r"/portal/"))
    page.goto("/dashboard/")

    panel.get_by_role("button", name="Stop automatic renewal").click()
    membership.refresh_from_db()
    expect(page.locator("#auto-renewal")).to_contain_text(
        f"Your membership ends on {long_date(membership.expires_on)}"
    )
    check_page(page)
    sub = stripe_fake.subscriptions[AutoRenewal.objects.get(pk=renewal.pk).stripe_subscription_id]
    assert sub["cancel_at_period_end"] is True


def test_the_membership_team_sees_who_pays_how_and_what_failed(screen, live_server):
    """The member record's "How they pay" and the reports' three sections,
    with a failed collection in them: readable, axe-clean, on both screens."""
    failing = Membership.objects.get(user=active_member())
    AutoRenewal.objects.create(
        membership=failing, grade=failing.grade, method="card", status="past_due",
        next_collection_on=failing.expires_on + datetime.timedelta(days=1),
        next_amount_pence=9500, card_brand="visa", card_last4="4242",
        last_failure_at=timezone.now(), last_failure_message="Your card was declined.",
    )  # fmt: skip
    page = screen
    sign_in(page, membership_team_member(), live_server)

    page.goto("/staff/reports/#failed-collections")
    failed = page.locator("#failed-collections")
    expect(failed).to_contain_text("Your card was declined.")
    expect(page.locator("#collection-methods")).to_contain_text("Automatic renewal by card")
    expect(page.locator("#automatic-renewals-due")).to_be_visible()
    check_page(page)

    failed.get_by_role("link", name=failing.user.get_full_name()).click()
    expect(page.get_by_role("heading", name="How they pay")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Collection failed, retrying")
    expect(page.locator("main")).to_contain_text("Your card was declined.")
    check_page(page)
